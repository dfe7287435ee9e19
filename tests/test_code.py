"""The shape of the library, checked on its source: imports form a chain without cycles, function-level imports
included, and go down one chain; the runtime reaches no training-side module; no module imports another's private
names; the runtime API exports no fixture or training-time code; DICOM is read in one module; no function is longer
than 45 lines. So each module reads on its own, and `pip install lungseg` carries no training code."""
import ast
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1]/'lungseg'
MODS = sorted(p.stem for p in PKG.glob('*.py') if not p.stem.startswith('_'))
TRAIN_SIDE = {'model', 'augment', 'card', 'robustness', 'train', 'inputcheck_train', 'inputcheck_study', 'analysis', 'eda',
              'conventions'}


def imported_names(mod) -> set:
    "(module, name) of each name `mod` imports from a lungseg module, anywhere in it; name '' for a whole module"
    out = set()
    for n in ast.walk(ast.parse((PKG/f'{mod}.py').read_text())):
        if isinstance(n, ast.ImportFrom) and n.module:
            name = n.module if n.level == 0 else f'lungseg.{n.module}'
            if name.startswith('lungseg.'): out |= {(name.split('.')[1], a.name) for a in n.names}
            if name == 'lungseg': out |= {(a.name, '') for a in n.names if a.name in MODS}
        elif isinstance(n, ast.Import): out |= {(a.name.split('.')[1], '') for a in n.names if a.name.startswith('lungseg.')}
    return out


def imports(mod) -> set:
    "lungseg modules imported anywhere in `mod` (module level or inside functions)"
    return {m for m, _ in imported_names(mod)} - {mod}


def reach(mod, seen=None) -> set:
    seen = set() if seen is None else seen
    for m in imports(mod):
        if m not in seen: seen.add(m); reach(m, seen)
    return seen


@pytest.mark.parametrize('mod', MODS)
def test_no_import_cycle(mod):
    assert mod not in reach(mod), f"{mod} imports itself through {sorted(reach(mod))}"


RUNTIME = ['data', 'masks', 'dicom', 'measure', 'framing', 'inputcheck', 'pipeline', 'evaluate', 'journal', 'engine',
           'predict', 'crop', 'pacs', 'cli', 'testing']
# The chain, bottom to top: a module imports only modules before it.
ORDER = ['data', 'masks', 'dicom', 'framing', 'inputcheck', 'measure', 'pipeline', 'testing', 'evaluate', 'journal',
         'engine', 'predict', 'crop', 'pacs', 'cli', 'model', 'augment', 'card', 'train', 'inputcheck_train',
         'inputcheck_study', 'conventions', 'eda', 'analysis', 'robustness']
def test_every_module_in_the_chain():
    assert sorted(ORDER) == MODS and set(RUNTIME) | TRAIN_SIDE == set(MODS)


@pytest.mark.parametrize('mod', MODS)
def test_imports_go_down_the_chain(mod):
    up = {m for m in imports(mod) if m in ORDER and ORDER.index(m) > ORDER.index(mod)}
    assert not up, f"{mod} imports {sorted(up)}, above it in the chain"


@pytest.mark.parametrize('mod', MODS)
def test_no_private_names_imported(mod):
    bad = {(m, n) for m, n in imported_names(mod) if n.startswith('_') and not n.startswith('__')}
    assert not bad, f"{mod} imports private names {sorted(bad)}"


@pytest.mark.parametrize('mod', sorted(TRAIN_SIDE))
def test_training_side_never_imports_a_command(mod):
    bad = {(m, n) for m, n in imported_names(mod) if m in ('predict', 'crop', 'cli')}
    assert not bad, f"{mod} imports {sorted(bad)} from a command module"


def test_private_name_check_can_fail(tmp_path, monkeypatch):
    (tmp_path/'a.py').write_text('from lungseg.b import _hidden\n')
    monkeypatch.setattr(__import__(__name__), 'PKG', tmp_path)
    assert imported_names('a') == {('b', '_hidden')}


@pytest.mark.parametrize('mod', RUNTIME)
def test_runtime_reaches_no_training_module(mod):
    assert not reach(mod) & TRAIN_SIDE, f"{mod} reaches {sorted(reach(mod) & TRAIN_SIDE)}"


def test_function_length():
    long = [f"{m}.{n.name}: {n.end_lineno - n.lineno + 1} lines" for m in MODS
            for n in ast.walk(ast.parse((PKG/f'{m}.py').read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > 45]
    assert not long, long


def test_cycle_detection_can_fail(tmp_path, monkeypatch):
    "The checks above would see a cycle: two modules that import each other inside functions"
    (tmp_path/'a.py').write_text('def f():\n    from lungseg.b import g\n'); (tmp_path/'b.py').write_text('def g():\n    from .a import f\n')
    monkeypatch.setattr(__import__(__name__), 'PKG', tmp_path)
    monkeypatch.setattr(__import__(__name__), 'MODS', ['a', 'b'])
    assert 'a' in reach('a')


# Fixtures (lungseg.testing) and training-time code: never in the runtime API.
NOT_RUNTIME_API = {'write_dicom', 'example_inputs', 'broken_inputs', 'tampered_model', 'write_study', 'broken_dicom',
                   'make_split', 'write_sample', 'write_model_card', 'fold_of', 'neg_split'}
# The crop notebook's margin study (nbs/04_crop.ipynb): defined there, exported to no module.
NOTEBOOK_ONLY = {'box_coverage', 'choose_margin'}


def defined(mod) -> set:
    "Names defined at the top level of `mod`: functions, classes and assigned names"
    out = set()
    for n in ast.parse((PKG/f'{mod}.py').read_text()).body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): out.add(n.name)
        elif isinstance(n, ast.Assign): out |= {t.id for t in n.targets if isinstance(t, ast.Name)}
    return out


def test_named_code_exists():
    "Each name the API checks list is defined in the library, so that no check passes on a name that is gone"
    lib = set().union(*(defined(m) for m in MODS))
    assert NOT_RUNTIME_API <= lib, f"not defined in lungseg: {sorted(NOT_RUNTIME_API - lib)}"


# Test plumbing, the servers the tests start on loopback: in tests/loopback.py, which the package does not carry.
PLUMBING = {'free_port', '_free_port', 'orthanc_binary', 'orthanc_missing', 'orthanc_config', 'orthanc_server',
            'self_signed_cert'}


def test_no_test_plumbing_in_the_package():
    here = sorted((m, n) for m in MODS for n in defined(m) & PLUMBING)
    assert not here, f"test plumbing defined in lungseg: {here}"
    assert PLUMBING - {'_free_port'} <= set(vars(__import__('loopback')))


def test_study_code_is_not_exported():
    lib = set().union(*(defined(m) for m in MODS))
    assert not NOTEBOOK_ONLY & lib, f"exported to the library: {sorted(NOTEBOOK_ONLY & lib)}"


def exported(mod) -> set:
    "Names in `mod`'s `__all__`, read from its source"
    for n in ast.parse((PKG/f'{mod}.py').read_text()).body:
        if isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets): return set(ast.literal_eval(n.value))
    return set()


@pytest.mark.parametrize('mod', sorted(set(RUNTIME) - {'testing'}))
def test_runtime_api_holds_the_runtime(mod):
    assert not exported(mod) & NOT_RUNTIME_API, f"{mod} exports {sorted(exported(mod) & NOT_RUNTIME_API)}"


def test_dicom_is_read_in_one_module():
    readers = {m for m in MODS if 'dcmread' in (PKG/f'{m}.py').read_text()}
    assert readers <= {'dicom'}, f"modules that read DICOM themselves: {sorted(readers - {'dicom'})}"
    assert {'read_dicom', 'write_dicom_seg'} <= exported('dicom')


# Lines a reader can hold: at most 120 characters in what the notebooks say (ruff checks one statement a line: E702,
# E703). nbdev writes two lines itself, the module docstring (the notebook's one-line summary, which is also its docs
# page's description) and `__all__`; they may be longer.


def written_lines(mod) -> list:
    "(line number, line) of `mod` as its notebooks wrote them: nbdev's module docstring and `__all__` left out"
    src = (PKG/f'{mod}.py').read_text()
    body, made = ast.parse(src).body, set()
    for i, n in enumerate(body):
        doc = i == 0 and isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
        alls = isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets)
        if doc or alls: made |= set(range(n.lineno, n.end_lineno + 1))
    return [(k, l) for k, l in enumerate(src.splitlines(), 1) if k not in made]


@pytest.mark.parametrize('mod', MODS)
def test_lines_fit(mod):
    wide = [f"{mod}.py:{k}: {len(l)} characters" for k, l in written_lines(mod) if len(l) > 120]
    assert not wide, wide


def test_line_check_can_fail(tmp_path, monkeypatch):
    (tmp_path/'a.py').write_text('"""A summary that nbdev writes on one line, ' + 'long '*30 + '"""\nx = 1  # ' + 'y'*120 + '\n')
    monkeypatch.setattr(__import__(__name__), 'PKG', tmp_path)
    assert [k for k, l in written_lines('a')] == [2]


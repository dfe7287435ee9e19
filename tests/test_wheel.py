"""`pip install lungseg` works: the wheel installs the runtime only (no torch, torchvision or fastai) into an empty
virtual environment, and `lungseg predict` segments a real image from it, offline, with the model inside the wheel.

The wheel is built from a copy of the package sources (`python -m build --wheel --no-isolation`, no network needed).
The fresh environment gets the wheel and its declared dependencies from the package registry (the one network this
test needs), then everything else runs with the network cut (`unshare -rn`; where unshare is not allowed, the
environment is set so that nothing could download, and the test says so).
"""
import ast, os, shutil, subprocess, sys, zipfile
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from lungseg.pipeline import segment

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(cmd, **kw): return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def offline_prefix():
    "Command prefix that cuts the network, or [] (with the reason) where unshare is not permitted"
    for pre in (['unshare', '-rn'], ['unshare', '-n']):
        if shutil.which(pre[0]) and run(pre + ['true']).returncode == 0: return pre, ''
    return [], 'unshare not permitted: network not cut, offline enforced by environment only'


def offline_env(home):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env.update(HOME=str(home), PIP_NO_INDEX='1', HF_HUB_OFFLINE='1', NO_PROXY='*',
               http_proxy='http://127.0.0.1:9', https_proxy='http://127.0.0.1:9', HTTP_PROXY='http://127.0.0.1:9', HTTPS_PROXY='http://127.0.0.1:9')
    return env


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp('src')
    for f in ('pyproject.toml', 'README.md', 'LICENSE'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'lungseg', src/'lungseg', ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '*.tmp*', '.*'))
    dist = tmp_path_factory.mktemp('dist')
    r = run([PY, '-m', 'build', '--wheel', '--no-isolation', '--outdir', dist, src], cwd=src)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    whl, = dist.glob('lungseg-*.whl')
    return whl


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    sample = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT/'lungseg'/'sample').rglob('*') if p.is_file())
    assert sample and not set(sample) - set(names), set(sample) - set(names)
    assert {'lungseg/split.csv', 'lungseg/predict.py', 'lungseg/pipeline.py', 'lungseg/weights/lungseg.onnx',
            'lungseg/weights/lungseg.json', 'lungseg/MODEL_CARD.md', 'lungseg/measure.py',
            'lungseg/measure.json'} <= set(names)
    assert not [n for n in names if n.endswith('.pth')], 'torch weights in the wheel'
    lic = [n for n in names if '.dist-info/licenses/' in n]
    assert any(n.endswith('/LICENSE') for n in lic) and any(n.endswith('sample/LICENSE.md') for n in lic), lic
    assert zipfile.ZipFile(wheel).getinfo('lungseg/weights/lungseg.onnx').file_size <= 10e6
    assert zipfile.ZipFile(wheel).getinfo('lungseg/weights/input_check.onnx').file_size <= 2e6   # the input check: at most 2 MB more
    assert 'lungseg/weights/input_check.json' in names
    models = [n for n in names if n.startswith('lungseg/weights/') and n.endswith('.onnx')]   # every model in the wheel
    total = sum(zipfile.ZipFile(wheel).getinfo(n).file_size for n in models)
    assert 'lungseg/weights/heart.onnx' in models and 'lungseg/weights/heart.json' in names, models
    assert total <= 10e6, f"the wheel's models total {total/1e6:.2f} MB: {models}"
    defs = {n.name for f in names if f.endswith('.py') for n in ast.walk(ast.parse(zipfile.ZipFile(wheel).read(f)))
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not defs & {'free_port', '_free_port', 'orthanc_server', 'orthanc_binary'}, 'test plumbing in the wheel'
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    required = [l.split(':', 1)[1].strip() for l in meta.splitlines() if l.startswith('Requires-Dist:') and 'extra ==' not in l]
    assert required and not [r for r in required if r.split('>')[0].split('=')[0].split('<')[0].strip().lower() in ('torch', 'torchvision', 'fastai')], required


@pytest.fixture(scope='module')
def venv(tmp_path_factory, wheel):
    v = tmp_path_factory.mktemp('venv')/'env'
    r = run([PY, '-m', 'venv', v]); assert r.returncode == 0, r.stderr
    r = run([v/'bin'/'python', '-m', 'pip', 'install', '--disable-pip-version-check', '-q', wheel])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return v


def test_runtime_has_no_torch(venv):
    r = run([venv/'bin'/'python', '-c', 'import importlib.util as u; print([m for m in ("torch", "torchvision", "fastai") if u.find_spec(m)])'])
    assert r.returncode == 0 and r.stdout.strip() == '[]', r.stdout + r.stderr


def test_predict_from_wheel_offline(venv, tmp_path):
    work = tmp_path/'elsewhere'; work.mkdir()
    env, (pre, why) = offline_env(tmp_path), offline_prefix()
    if why: print(why)
    vpy, cli = venv/'bin'/'python', venv/'bin'/'lungseg'
    r = run(pre + [vpy, '-c', 'import sys, lungseg, lungseg.predict; from lungseg.data import sample_path; print(lungseg.__file__); '
                   'print(sorted((sample_path()/"images").glob("*.png"))[0]); print("torch" in sys.modules)'], cwd=work, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    mod_file, img, torch_loaded = r.stdout.split()
    assert venv.resolve() in Path(mod_file).resolve().parents, f"lungseg imported from {mod_file}, not from the wheel"
    assert torch_loaded == 'False'
    out = work/'masks'
    r = run(pre + [cli, 'predict', img, '--out', out], cwd=work, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    mask = np.asarray(Image.open(out/f'{Path(img).stem}_mask.png')) > 127
    assert (mask == segment(img)).all()          # the wheel's masks are the repository's masks
    r = run(pre + [cli, 'train', '--epochs', '1'], cwd=work, env=env)
    assert r.returncode == 2 and "pip install 'lungseg[train]'" in r.stderr, r.stdout + r.stderr

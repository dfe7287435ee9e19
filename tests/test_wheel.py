"""`pip install lungseg` works: the wheel holds everything and `lungseg predict` runs from it, offline, with no repo around.

Builds the wheel from a copy of the package sources (`python -m build --wheel --no-isolation`, so the
build itself needs no network), checks what is inside, installs it into a fresh virtual environment
and runs `lungseg predict` there from an unrelated folder with the network cut (`unshare -rn`; where
unshare is not allowed, the environment is set so that nothing could download: the test says so).
torch and the other dependencies (4.8 GB) are not installed again: a `.pth` file in the new
environment puts the repo venv's site-packages on `sys.path`. A plain path in a `.pth` file does not
run the `.pth` files found there, so the repo's editable install of lungseg is *not* visible; the
test asserts that `lungseg.__file__` lies inside the new environment.

Until the real weights exist at lungseg/weights/lungseg.pth, the test predicts with `--model` and a
tiny model trained on the sample, and checks that the default path fails with a clear message;
once they exist, it predicts with the default (shipped) weights.
"""
import contextlib, io, os, shutil, subprocess, sys, sysconfig, zipfile
from pathlib import Path
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
WEIGHTS = ROOT/'lungseg'/'weights'/'lungseg.pth'


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    return r


def offline_prefix():
    "Command prefix that cuts the network, or [] (with the reason) where unshare is not permitted"
    for pre in (['unshare', '-rn'], ['unshare', '-n']):
        if shutil.which(pre[0]) and run(pre + ['true']).returncode == 0: return pre, ''
    return [], 'unshare not permitted: network not cut, offline enforced by environment only'


def offline_env(home):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env.update(HOME=str(home), PIP_NO_INDEX='1', HF_HUB_OFFLINE='1', TORCH_HOME=str(home/'torch'), NO_PROXY='*',
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
    assert 'lungseg/split.csv' in names and 'lungseg/predict.py' in names
    lic = [n for n in names if '.dist-info/licenses/' in n]
    assert any(n.endswith('/LICENSE') for n in lic) and any(n.endswith('sample/LICENSE.md') for n in lic), lic
    for f in [*(ROOT/'lungseg'/'weights').glob('*.pth'), *(ROOT/'lungseg'/'weights').glob('*.json'), ROOT/'lungseg'/'MODEL_CARD.md']:
        if f.exists(): assert f.relative_to(ROOT).as_posix() in names, f


@pytest.fixture(scope='module')
def venv(tmp_path_factory, wheel):
    v = tmp_path_factory.mktemp('venv')/'env'
    r = run([PY, '-m', 'venv', v]); assert r.returncode == 0, r.stderr
    vpy = v/'bin'/'python'
    site = Path(run([vpy, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.strip())
    (site/'_repo_venv_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')   # the dependencies only
    r = run([vpy, '-m', 'pip', 'install', '--no-deps', '--no-index', '--disable-pip-version-check', wheel])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return v


def test_predict_from_wheel_offline(venv, tiny_model, tmp_path):
    work = tmp_path/'elsewhere'; work.mkdir()
    env, (pre, why) = offline_env(tmp_path), offline_prefix()
    if why: print(why)
    vpy, cli = venv/'bin'/'python', venv/'bin'/'lungseg'
    r = run(pre + [vpy, '-c', 'import lungseg, lungseg.predict; from lungseg.data import sample_path; print(lungseg.__file__); '
                   'print(sorted((sample_path()/"images").glob("*.png"))[0])'], cwd=work, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    mod_file, img = [Path(l) for l in r.stdout.split()]
    assert venv.resolve() in mod_file.resolve().parents, f"lungseg imported from {mod_file}, not from the wheel"
    assert venv.resolve() in img.resolve().parents
    out = work/'masks'
    if WEIGHTS.exists(): cmd = [cli, 'predict', img, '--out', out]
    else:
        r = run(pre + [cli, 'predict', img, '--out', work/'nomodel'], cwd=work, env=env)
        assert r.returncode == 2 and 'model weights not found' in r.stdout and '--model' in r.stdout, r.stdout + r.stderr
        cmd = [cli, 'predict', img, '--out', out, '--model', tiny_model]
    r = run(pre + cmd, cwd=work, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    mask = out/f'{img.stem}_mask.png'
    assert mask.exists() and (out/'predictions.csv').exists()
    assert Image.open(mask).size == Image.open(img).size

"""`lungseg predict` end to end, as a user runs it: the installed console script in a subprocess.

The input kinds (PNG 8/16-bit, JPEG, TIFF, BMP, RGB, RGBA, DICOM MONOCHROME1/2 with rescale and
window) and broken files are tested cell by cell in nbs/05_predict.ipynb; here: a mixed folder
through the real command (exit codes, CSV, masks at each input's size), and a 4000x5000 16-bit image
made by upscaling a real sample image, whose peak memory is measured in a fresh process.
"""
import contextlib, io, os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from lungseg.data import sample_path, manifest, read_gray
from lungseg.predict import write_dicom, CSV_COLS

BIN = Path(sys.executable).parent
IMGS = sorted((sample_path()/'images').glob('*.png'))


def lungseg(*args, **kw):
    return subprocess.run([str(BIN/'lungseg'), *map(str, args)], capture_output=True, text=True, **kw)


def test_cli_mixed_folder(tiny_model, tmp_path):
    d = tmp_path/'in'/'sub'; d.mkdir(parents=True)
    g = [read_gray(f) for f in IMGS[:4]]
    Image.fromarray(g[0]).save(d/'a.png')
    Image.fromarray(g[1].astype(np.uint16)*257).resize((180, 240)).save(d/'b16.tif')
    Image.fromarray(np.stack([g[2]]*3, -1)).resize((333, 222)).save(d/'c.jpg', quality=85)
    write_dicom(g[3], d/'d.dcm', bits=12, mono1=True, slope=1., intercept=-1024., window=(1024., 4096.))
    Image.fromarray(g[0]).save(tmp_path/'in'/'a.png')           # same stem as sub/a.png
    (d/'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0'*50)
    (d/'fake.dcm').write_bytes(b'hello')
    out = tmp_path/'out'
    r = lungseg('predict', tmp_path/'in', '--out', out, '--model', tiny_model, '--overlay', '--tta')
    assert r.returncode == 1, r.stdout + r.stderr
    res = pd.read_csv(out/'predictions.csv')
    assert list(res.columns) == CSV_COLS
    ok, bad = res[res.status == 'ok'], res[res.status == 'error']
    assert len(ok) == 5 and sorted(Path(p).name for p in bad.input) == ['broken.png', 'fake.dcm'], res
    assert bad.error.str.len().gt(0).all()
    for r_ in ok.itertuples():
        m = Image.open(r_.mask)
        assert (m.height, m.width) == (r_.height, r_.width) and Path(r_.overlay).exists()
        if not r_.input.endswith('.dcm'): assert m.size == Image.open(r_.input).size
        assert set(np.unique(np.asarray(m))) <= {0, 255}
    assert len(set(ok['mask'])) == 5                                  # the two a.png did not overwrite each other
    assert np.allclose(ok.left_lung_fraction + ok.right_lung_fraction, ok.lung_fraction, atol=1e-5)


def test_cli_errors(tiny_model, tmp_path):
    r = lungseg('predict', tmp_path/'nothing_here', '--out', tmp_path/'o', '--model', tiny_model)
    assert r.returncode == 1 and 'no such file or folder' in r.stdout
    r = lungseg('predict', IMGS[0], '--out', tmp_path/'o2', '--model', tmp_path/'missing.pth')
    assert r.returncode == 2 and 'cannot load the model' in r.stdout


BIG = """
import resource, sys
from lungseg.predict import predict_cmd, segment, get_model
import numpy as np
segment(np.zeros((64, 64), np.uint8), sys.argv[2])      # warm up: imports, model load
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rc = predict_cmd(sys.argv[1], out=sys.argv[3], model=sys.argv[2], overlay=True, quiet=True)
print(rc, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)//1024)
"""

def test_big_16bit_image(tiny_model, tmp_path):
    g = read_gray(IMGS[0])
    big = tmp_path/'big16.png'
    Image.fromarray(g.astype(np.uint16)*257).resize((4000, 5000), Image.BILINEAR).save(big)
    r = subprocess.run([sys.executable, '-c', BIG, big, tiny_model, tmp_path/'out'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    rc, grew_mb = map(int, r.stdout.split()[-2:])
    assert rc == 0
    assert Image.open(tmp_path/'out'/'big16_mask.png').size == (4000, 5000)
    print(f"4000x5000 16-bit: peak memory grew by {grew_mb} MB")
    assert grew_mb < 400, grew_mb   # measured ~170 MB; one float64 copy alone is 160 MB

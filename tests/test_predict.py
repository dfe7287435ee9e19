"""`lungseg predict` and `lungseg evaluate` end to end, as a user runs them: the installed console script in a subprocess.

The input kinds (PNG 8/16-bit, JPEG, TIFF, BMP, RGB, RGBA, DICOM MONOCHROME1/2, JPEG 2000 and RLE DICOM), broken files
and the 4000x5000 memory bound are tested cell by cell in nbs/03_predict.ipynb; here: a mixed folder through the real
command, `--model` given as .pth or .onnx, and the promise that `lungseg evaluate` scores exactly the masks that
`lungseg predict` writes.
"""
import subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image
from lungseg.data import sample_path, read_gray, read_mask
from lungseg.testing import write_dicom
from lungseg.predict import CSV_COLS
from lungseg.evaluate import dice_score

BIN = Path(sys.executable).parent
IMGS = sorted((sample_path()/'images').glob('*.png'))


def lungseg(*args, **kw):
    return subprocess.run([str(BIN/'lungseg'), *map(str, args)], capture_output=True, text=True, **kw)


def test_cli_mixed_folder(tmp_path):
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
    r = lungseg('predict', tmp_path/'in', '--out', out, '--overlay')
    assert r.returncode == 1, r.stdout + r.stderr
    res = pd.read_csv(out/'predictions.csv')
    assert list(res.columns) == CSV_COLS
    assert res[res.status == 'ok'][['height', 'width', 'lung_pixels', 'mask', 'model_sha256', 'run_key']].notna().all().all()   # no column left empty
    ok, bad = res[res.status == 'ok'], res[res.status == 'error']
    assert len(ok) == 5 and sorted(Path(p).name for p in bad.input) == ['broken.png', 'fake.dcm'], res
    assert bad.error.str.len().gt(0).all()
    for r_ in ok.itertuples():
        m = Image.open(r_.mask)
        assert (m.height, m.width) == (r_.height, r_.width) and Path(r_.overlay).exists()
        if not r_.input.endswith('.dcm'): assert m.size == Image.open(r_.input).size
        assert set(np.unique(np.asarray(m))) <= {0, 255}
    assert len(set(ok['mask'])) == 5                                  # the two a.png did not overwrite each other
    assert ok.lung_fraction.between(0.15, 0.6).all(), ok.lung_fraction   # real lungs, not an empty or full mask


def test_cli_errors(tmp_path):
    r = lungseg('predict', tmp_path/'nothing_here', '--out', tmp_path/'o')
    assert r.returncode == 1 and 'no such file or folder' in r.stdout
    r = lungseg('predict', IMGS[0], '--out', tmp_path/'o2', '--model', tmp_path/'missing.pth')
    assert r.returncode == 2 and 'cannot load the model' in r.stdout and 'missing.onnx' in r.stdout


def test_model_as_pth_or_onnx(tiny_model, tmp_path):
    "`lungseg train` writes the ONNX graph beside the weights; `--model` takes either file and gives the same masks"
    for name, m in [('pth', tiny_model), ('onnx', tiny_model.with_suffix('.onnx'))]:
        r = lungseg('predict', IMGS[0], '--out', tmp_path/name, '--model', m, '--quiet')
        assert r.returncode == 0, r.stdout + r.stderr
    a, b = (np.asarray(Image.open(tmp_path/n/f'{IMGS[0].stem}_mask.png')) for n in ('pth', 'onnx'))
    assert (a == b).all()


def test_evaluate_scores_the_masks_predict_writes(tmp_path):
    "Per-image Dice of `lungseg evaluate --per-image` equals the Dice of `lungseg predict`'s mask files (the one pipeline)"
    r = lungseg('evaluate', sample_path(), '--split', 'all', '--per-image', tmp_path/'per.csv')
    assert r.returncode == 0, r.stdout + r.stderr
    per = pd.read_csv(tmp_path/'per.csv').set_index('stem')
    r = lungseg('predict', sample_path()/'images', '--out', tmp_path/'pred', '--quiet')
    assert r.returncode == 0, r.stdout + r.stderr
    for stem, row in per.iterrows():
        pred = np.asarray(Image.open(tmp_path/'pred'/f'{stem}_mask.png')) > 127
        gt = read_mask(sample_path()/'masks'/f'{stem}_mask.png')
        assert abs(dice_score(pred, gt) - row.dice) <= 0.002, (stem, dice_score(pred, gt), row.dice)
    assert per.dice.mean() > 0.95

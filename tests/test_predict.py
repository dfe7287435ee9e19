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


def test_models_in_the_wheel_fit_10_mb():
    "Every ONNX in lungseg/weights (all ship in the wheel) together within 10 MB; the heart model is int8 like the default"
    import json
    w = Path(__file__).resolve().parents[1]/'lungseg'/'weights'
    sizes = {f.name: f.stat().st_size for f in w.glob('*.onnx')}
    assert {'lungseg.onnx', 'heart.onnx'} <= set(sizes), sizes
    assert sum(sizes.values()) <= 10e6, f"the wheel's models total {sum(sizes.values())/1e6:.2f} MB: {sizes}"
    heart = json.loads((w/'heart.json').read_text())
    assert heart['structure'] == 'heart' and heart['quantization']['variant'] == 'float_ends', heart.get('quantization')
    assert heart['onnx_bytes'] == sizes['heart.onnx'] < heart['quantization']['float_onnx_bytes']/2


def test_heart_leaves_the_lung_outputs_alone(tmp_path):
    "The lung masks (0/255 and right/left), the lung SEG segments and the lung columns: the same with and without --heart"
    import pydicom
    d = tmp_path/'in'
    d.mkdir()
    for f in IMGS[:3]: Image.fromarray(read_gray(f)).save(d/f.name)
    write_dicom(read_gray(IMGS[3]), d/'film.dcm', attrs=dict(PixelSpacing=[0.5, 0.5]))
    runs = {}
    for name, extra in (('lungs', []), ('heart', ['--heart'])):
        for labels in ('lung', 'lr'):
            out = tmp_path/f'{name}_{labels}'
            r = lungseg('predict', d, '--out', out, '--labels', labels, '--dicom-seg', '--quiet', *extra)
            assert r.returncode == 0, r.stdout + r.stderr
            runs[name, labels] = out
    for labels in ('lung', 'lr'):
        a, b = runs['lungs', labels], runs['heart', labels]
        masks = sorted(p.name for p in a.glob('*_mask.png'))
        assert len(masks) == 4 and [(a/m).read_bytes() for m in masks] == [(b/m).read_bytes() for m in masks]
        ca, cb = pd.read_csv(a/'predictions.csv'), pd.read_csv(b/'predictions.csv')
        lung_cols = CSV_COLS[:CSV_COLS.index('mask')] + ['right_lung_cm2', 'left_lung_cm2', 'rl_ratio',
                                                               'thoracic_width_mm', 'pixel_spacing']
        pd.testing.assert_frame_equal(ca[lung_cols], cb[lung_cols])
        assert ca.ctr.isna().all() and cb.ctr.notna().all() and not list(a.glob('*_heart.png'))
    segs = [pydicom.dcmread(runs[k, 'lr']/'film_seg.dcm') for k in ('lungs', 'heart')]   # highdicom's reader wants a
    frames = [{int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber): s.pixel_array[i]   # slice thickness
               for i, f in enumerate(s.PerFrameFunctionalGroupsSequence)} for s in segs]
    assert all((frames[0][k] == frames[1][k]).all() for k in (1, 2)) and [len(f) for f in frames] == [2, 3]
    assert not (runs['lungs', 'lr']/'film_sr.dcm').exists() and (runs['heart', 'lr']/'film_sr.dcm').exists()

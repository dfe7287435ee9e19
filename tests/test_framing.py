"""The framing step through the real commands, on the shipped sample: a film inside a white border, collimator bands or
a wide black band is segmented inside its exposed field; its mask lies on the input as given, is empty outside the field,
and matches the plain film's mask; `predictions.csv` and `crops.csv` give the field; a DICOM input with a border gets a
DICOM SEG of the input's own size."""
import subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
import pydicom
from lungseg.data import sample_path, read_gray
from lungseg.testing import write_dicom
from lungseg.evaluate import dice_score
from lungseg.augment import pad, collimate

BIN = Path(sys.executable).parent
IMG = sample_path()/'images'/'CHNCXR_0581_1.png'


def lungseg(*args):
    return subprocess.run([str(BIN/'lungseg'), *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope='module')
def framed(tmp_path_factory):
    "A folder: the plain film, the film padded with 64 px of white, with 25 % black bands left and right, and in shutters"
    d = tmp_path_factory.mktemp('framed')
    g = read_gray(IMG)
    m = np.zeros(g.shape, bool)
    Image.fromarray(g).save(d/'plain.png')
    Image.fromarray(pad(g, m, 0.25, 255)[0]).save(d/'white.png')
    Image.fromarray(pad(g, m, 0.25, 0, 'lr')[0]).save(d/'sides.png')
    Image.fromarray(collimate(g, m, 0.1, 240, 'tblr')[0]).save(d/'shutters.png')
    write_dicom(pad(g, m, 0.25, 255)[0], d/'white.dcm')
    return d


def test_predict_segments_inside_the_field(framed, tmp_path):
    r = lungseg('predict', framed, '--out', tmp_path, '--dicom-seg')
    assert r.returncode == 0, r.stderr
    res = pd.read_csv(tmp_path/'predictions.csv').set_index('input')
    assert (res.status == 'ok').all(), res[['status', 'error']]
    mask = lambda n: np.asarray(Image.open(tmp_path/f'{n}_mask.png')) > 0
    plain = mask('plain')
    assert pd.isna(res.loc[str(framed/'plain.png'), 'field'])
    for n, box in dict(white=(64, 64, 320, 320), sides=(64, 0, 320, 256)).items():
        field = [int(v) for v in res.loc[str(framed/f'{n}.png'), 'field'].split()]
        assert np.abs(np.array(field) - box).max() <= 3, (n, field)
        m = mask(n)
        x0, y0, x1, y1 = field
        assert not m[:y0].any() and not m[y1:].any() and not m[:, :x0].any() and not m[:, x1:].any()
        assert dice_score(m[box[1]:box[3], box[0]:box[2]], plain) > 0.98, n
    assert dice_score(mask('shutters'), plain) > 0.95
    seg = pydicom.dcmread(tmp_path/'white_seg.dcm')
    assert (seg.Rows, seg.Columns) == (384, 384)


def test_crop_reports_the_field(framed, tmp_path):
    r = lungseg('crop', framed/'white.png', '--out', tmp_path)
    assert r.returncode == 0, r.stderr
    row = pd.read_csv(tmp_path/'crops.csv').iloc[0]
    x0, y0, x1, y1 = map(int, row.field.split())
    assert row.status == 'ok' and x0 <= row.x0 and y0 <= row.y0 and row.x1 <= x1 and row.y1 <= y1

"""The input check through the real commands, on the shipped sample: a turned or inverted X-ray comes back corrected
(its mask lies on the input as given and equals the upright prediction turned the same way), a picture that is no chest
X-ray is rejected (status `rejected`, no mask, counted in the summary, finished for `--resume`), in `predict` (threads,
dask, DICOM SEG) and `crop`; `--no-input-check` bypasses the check."""
import subprocess, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
import skimage.data
from lungseg.data import sample_path, read_gray
from lungseg.testing import write_dicom
from lungseg.pipeline import segment
from lungseg.crop import crop_lungs

BIN = Path(sys.executable).parent
IMGS = sorted((sample_path()/'images').glob('*.png'))


def lungseg(*args):
    return subprocess.run([str(BIN/'lungseg'), *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    "A folder: an upright sample X-ray, the same turned 90° clockwise, turned 180° and inverted, turned 270° as DICOM, and a photograph"
    d = tmp_path_factory.mktemp('in'); g = read_gray(IMGS[0])
    Image.fromarray(g).save(d/'up.png')
    Image.fromarray(np.rot90(g, -1)).save(d/'r90.png')
    Image.fromarray(255 - np.rot90(g, -2)).save(d/'r180_inv.png')
    write_dicom(np.ascontiguousarray(np.rot90(g, -3)), d/'r270.dcm')
    Image.fromarray(skimage.data.astronaut()).save(d/'astronaut.png')
    return d


def mask(p): return np.asarray(Image.open(p)) > 0


def check_run(out, d):
    res = pd.read_csv(out/'predictions.csv').set_index('input')
    row = lambda n: res.loc[str(d/n)]
    assert [row(n).status for n in ('up.png', 'r90.png', 'r180_inv.png', 'r270.dcm', 'astronaut.png')] == ['ok']*4 + ['rejected'], res.status
    assert [(row(n).rotation, bool(row(n).inverted)) for n in ('up.png', 'r90.png', 'r180_inv.png', 'r270.dcm')] == [(0, False), (90, False), (180, True), (270, False)]
    assert 'not a frontal chest X-ray' in row('astronaut.png').error and not (out/'astronaut_mask.png').exists()
    up = mask(out/'up_mask.png')
    for n, k in [('r90', 1), ('r180_inv', 2), ('r270', 3)]:   # each mask lies on its input and is the upright mask turned alike
        m = mask(out/f'{n}_mask.png')
        assert m.shape == np.rot90(up, -k).shape and (m ^ np.rot90(up, -k)).mean() < 0.005, n
    return res


def test_predict_corrects_and_rejects(inputs, tmp_path):
    r = lungseg('predict', inputs, '--out', tmp_path/'o', '--labels', 'lr', '--dicom-seg')
    assert r.returncode == 0, r.stdout + r.stderr
    assert '4 of 5 images segmented' in r.stdout and '1 rejected' in r.stdout, r.stdout
    check_run(tmp_path/'o', inputs)
    up, turned = (np.asarray(Image.open(tmp_path/'o'/f'{n}_mask.png')) for n in ('up', 'r270'))
    assert (np.rot90(up, -3) == turned).mean() > 0.995     # right and left lungs keep their labels when the input is turned
    import highdicom as hd, pydicom
    src, seg = pydicom.dcmread(inputs/'r270.dcm'), hd.seg.segread(tmp_path/'o'/'r270_seg.dcm')
    px = seg.get_pixels_by_source_instance(source_sop_instance_uids=[src.SOPInstanceUID], segment_numbers=[1, 2], combine_segments=True)[0]
    assert (px == turned).all()                               # the DICOM SEG lies on the DICOM as given
    r = lungseg('predict', inputs, '--out', tmp_path/'o', '--labels', 'lr', '--dicom-seg', '--resume')
    assert r.returncode == 0 and '(5 kept from an earlier run)' in r.stdout, r.stdout   # the rejected input counts as finished


def test_workers_and_dask_agree(inputs, tmp_path):
    for name, opt in [('w1', ['--workers', '1']), ('dask', ['--dask', 'local:1'])]:
        r = lungseg('predict', inputs, '--out', tmp_path/name, *opt, '--quiet')
        assert r.returncode == 0, r.stdout + r.stderr
        check_run(tmp_path/name, inputs)


def test_no_input_check(inputs, tmp_path):
    r = lungseg('predict', inputs, '--out', tmp_path/'o', '--no-input-check', '--quiet')
    assert r.returncode == 0, r.stdout + r.stderr
    res = pd.read_csv(tmp_path/'o'/'predictions.csv').set_index('input')
    assert set(res.status) == {'ok'} and set(res.rotation) == {0} and (tmp_path/'o'/'astronaut_mask.png').exists()
    assert (mask(tmp_path/'o'/'r90_mask.png') ^ np.rot90(segment(IMGS[0]), -1)).mean() > 0.02   # unchecked: the sideways image gets another mask


def test_crop(inputs, tmp_path):
    r = lungseg('crop', inputs, '--out', tmp_path/'c')
    assert r.returncode == 0 and '1 rejected' in r.stdout, r.stdout + r.stderr
    res = pd.read_csv(tmp_path/'c'/'crops.csv').set_index('input')
    assert res.loc[str(inputs/'astronaut.png')].status == 'rejected' and not (tmp_path/'c'/'astronaut_crop.png').exists()
    up, r90 = res.loc[str(inputs/'up.png')], res.loc[str(inputs/'r90.png')]
    assert r90.rotation == 90 and (r90.width, r90.height) == (up.height, up.width)
    h = up.height   # the box of the input turned clockwise: x from the upright y (flipped), y from the upright x
    assert abs(r90.x0 - (h - up.y1)) <= 2 and abs(r90.y0 - up.x0) <= 2 and abs(r90.x1 - (h - up.y0)) <= 2 and abs(r90.y1 - up.x1) <= 2
    r = lungseg('crop', inputs, '--out', tmp_path/'c', '--resume')
    assert '5 kept from an earlier run' in r.stdout, r.stdout


def test_python_api():
    g = read_gray(IMGS[0])
    assert (segment(255 - g) ^ segment(g)).mean() < 0.005
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert not segment(skimage.data.camera()).any() and crop_lungs(skimage.data.camera()) == (None, None)
    assert any('not a frontal chest X-ray' in str(x.message) for x in w)
    assert segment(skimage.data.camera(), input_check=False).shape == (512, 512)


def test_pacs_outputs(tmp_path):
    "`lungseg pacs` stores nothing for an instance the check rejects, and its SEG labels a turned instance's lungs as `predict --dicom-seg` does"
    from lungseg.pipeline import Result
    from lungseg.pacs import store_outputs, seg_dataset, Item
    rej = Result(np.zeros((8, 8), bool), None, None, None, 0, False, 'not a frontal chest X-ray')
    assert store_outputs(tmp_path/'x.dcm', None, rej, Item('s', 'se', 'i', ('seg',)))['status'] == 'rejected'
    g = read_gray(IMGS[0]); up = segment(g)
    write_dicom(np.ascontiguousarray(np.rot90(g, -1)), tmp_path/'r90.dcm')
    ds = seg_dataset(tmp_path/'r90.dcm', np.rot90(up, -1), 'key', rotation=90)
    from lungseg.masks import lr_labels
    px = ds.get_pixels_by_source_instance(source_sop_instance_uids=[ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID],
                                          segment_numbers=[1, 2], combine_segments=True)[0]
    assert (px == np.rot90(lr_labels(up), -1)).all()

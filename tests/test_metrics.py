"""HD95 and ASSD against a reference implementation: medpy's `hd95` and `assd` with connectivity 2 (a dev-only dependency).

`lungseg.evaluate` computes the surface distances itself (scipy's distance transform on the `lungseg.masks.outline`
boundary); medpy computes them its own way. Both must agree on real masks and on shapes with holes and several pieces."""
import numpy as np
import pytest
from lungseg.data import sample_path, read_mask
from lungseg.evaluate import hd95, assd
from lungseg.pipeline import segment

medpy = pytest.importorskip('medpy.metric.binary')


def pairs():
    gts = sorted((sample_path()/'masks').glob('*.png'))[:4]
    out = [(segment(sample_path()/'images'/g.name.replace('_mask', '')), read_mask(g)) for g in gts]
    a = np.zeros((60, 80), bool); a[10:50, 5:30] = True; a[10:50, 45:75] = True; a[20:25, 10:15] = False   # two lungs, a hole
    b = np.roll(a, (3, -2), (0, 1)); b[40:50, 60:75] = False
    return out + [(a, b), (b, a)]


@pytest.mark.parametrize('i', range(6))
def test_boundary_metrics_match_medpy(i):
    pred, gt = pairs()[i]
    assert pred.any() and gt.any()
    assert hd95(pred, gt) == pytest.approx(medpy.hd95(pred, gt, connectivity=2), abs=1e-9)
    assert assd(pred, gt) == pytest.approx(medpy.assd(pred, gt, connectivity=2), abs=1e-9)


def test_reference_sees_a_wrong_boundary():
    "The comparison can fail: a 4-connected boundary gives other distances on the same masks"
    pred, gt = pairs()[4]
    assert assd(pred, gt) != pytest.approx(medpy.assd(pred, gt, connectivity=1), abs=1e-9)

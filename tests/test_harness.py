"""The experiment harness (experiments/harness.py) on the shipped sample: a source's train rows repeated, and a tiny
run trained, recorded and read back from its record alone, without training again."""
import contextlib, io, sys
from pathlib import Path
import pandas as pd

from lungseg.data import manifest, sample_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'experiments'))
from harness import repeat_rows, run_experiment  # noqa: E402


def test_repeat_rows():
    df, _ = manifest(sample_path(), check=False)
    r, mc = repeat_rows(df, 'Montgomery', 3), (df.source == 'Montgomery') & (df.split == 'train')
    assert len(r) == len(df) + 2*mc.sum() and (r.split == 'valid').sum() == (df.split == 'valid').sum()
    assert len(repeat_rows(df, 'Montgomery')) == len(df)


def test_run_experiment_records_and_reuses(tmp_path):
    df, _ = manifest(sample_path(), check=False)
    kw = dict(size=64, epochs=1, bs=4, arch='plain8', lr=1e-3, device='cpu')
    with contextlib.redirect_stdout(io.StringIO()):
        r = run_experiment('tiny', df, root=tmp_path/'runs', records=tmp_path/'records', **kw)
    rec = tmp_path/'records'/'tiny'
    assert sorted(f.name for f in rec.iterdir()) == ['config.json', 'history.csv', 'lungseg.json', 'valid_per_image.csv']
    assert len(pd.read_csv(rec/'valid_per_image.csv')) == (df.split == 'valid').sum()
    assert r['hardware'].split('; ')[2].startswith('CPU only') and (r['size'], r['epochs']) == (64, 1)
    # from the record alone: the run's folder is gone, and nothing trains again
    assert run_experiment('tiny', df, root=tmp_path/'gone', records=tmp_path/'records') == r
    assert not (tmp_path/'gone').exists()

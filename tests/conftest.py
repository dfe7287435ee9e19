"""Fixtures shared by the pytest tests."""
import contextlib, io
import pytest


@pytest.fixture(scope='session')
def tiny_model(tmp_path_factory):
    "Weights of a tiny model trained for one epoch at 64 px on the shipped sample (proves plumbing, not accuracy)"
    from lungseg.data import manifest, sample_path
    from lungseg.train import train
    out = tmp_path_factory.mktemp('tiny')
    df, _ = manifest(sample_path(), check=False)
    with contextlib.redirect_stdout(io.StringIO()): train(df=df, out=out, size=64, epochs=1, bs=4, lr=1e-3, quiet=True)
    return out/'lungseg.pth'

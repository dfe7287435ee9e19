"""Throughput of `lungseg predict` for archives (issue 15): one process, `--workers 2`, and dask clusters of 1 and 2
local workers, on the same images in the same run. Prints img/s side by side and writes benchmarks/results/archive_speed.json,
which the "Archives and PACS" docs page reads to project hours and workers for 100 k and 1 M images. Not a test.

    .venv/bin/python benchmarks/archive_speed.py DATA_DIR [--n 96]

The images are the first `--n` masked images of DATA_DIR (512x512 PNGs in the Kaggle copy). Each configuration runs as a
fresh `lungseg predict` process, so model loading and (for dask) cluster start-up are included, as a user would pay them.
"""
import argparse, json, os, subprocess, sys, tempfile, time, shutil
from pathlib import Path
from lungseg.data import manifest
from lungseg.train import hardware

BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent/'results'/'archive_speed.json'
CONFIGS = {'1 process, --workers 1': ['--workers', '1'], '1 process, --workers 2': ['--workers', '2'],
           'dask local:1': ['--dask', 'local:1'], 'dask local:2': ['--dask', 'local:2']}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); ap.add_argument('data'); ap.add_argument('--n', type=int, default=96)
    a = ap.parse_args()
    df, _ = manifest(a.data, check=False)
    files = df[df.mask_path != ''].image_path.head(a.n).tolist()
    tmp, res = Path(tempfile.mkdtemp()), {}
    try:
        for name, opts in CONFIGS.items():
            t = time.perf_counter()
            r = subprocess.run([BIN/'lungseg', 'predict', *files, '--out', tmp/name.replace(' ', '_'), '--quiet', *opts], capture_output=True, text=True)
            s = time.perf_counter() - t
            assert r.returncode == 0, r.stdout + r.stderr
            res[name] = dict(seconds=round(s, 2), img_s=round(len(files)/s, 2))
            print(f"{name:<24} {len(files)/s:6.2f} img/s  ({s:.1f} s for {len(files)} images)", flush=True)
        same = all((tmp/'1_process,_--workers_1'/p.name).read_bytes() == p.read_bytes() for d in tmp.iterdir() for p in d.glob('*_mask.png'))
        print(f"masks identical across configurations: {same}")
        rec = dict(n=len(files), image_size='512x512', hardware=hardware(), cpu_count=os.cpu_count(), load_average=round(os.getloadavg()[0], 2),
                   date=time.strftime('%Y-%m-%d %H:%M'), masks_identical=same, results=res)
        OUT.parent.mkdir(exist_ok=True); OUT.write_text(json.dumps(rec, indent=1))
        print(f"written to {OUT}")
    finally: shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': main()

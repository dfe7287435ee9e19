"""The one-pipeline targets, measured side by side with a baseline from the same run (issue 11). Prints numbers; not a test.

    .venv/bin/python benchmarks/predict_speed.py DATA_DIR [--n 48] [--no-venv]

1. End to end: `lungseg predict` (the console script, a fresh process: imports, model load, reading, masks, CSV) on
   `--n` test-split images at 512 px, in img/s, next to the forward pass of the original notebook's vanilla U-Net
   (256 px, batch 8, 2 torch threads) timed in the same run. Target: ratio >= 2 (for the default model; named
   alternatives such as `--model large`, and `--heart` (the heart model and the measurements), are measured beside it).
2. `import lungseg.predict`: wall time and whether torch or fastai got imported.
3. A fresh virtual environment with only the wheel (and its declared dependencies from the registry): its size
   (target <= 600 MB), and `lungseg predict one.png` there: wall time (<= 1.5 s) and peak memory (<= 400 MB).
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.model import build_model
from lungseg.train import hardware
from lungseg.pipeline import shipped_models

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TORCH_CHECK = 'import importlib.util as u; print(bool(u.find_spec("torch")))'


def timed_child(cmd):
    "(wall seconds, peak MB, returncode) of `cmd` run by a fresh watcher process whose only child it is"
    w = ("import resource, subprocess, sys, time; t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True); "
         "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    s, kb, rc = subprocess.run([sys.executable, '-c', w, *map(str, cmd)], capture_output=True, text=True).stdout.split()
    return float(s), int(kb)/1024, int(rc)


def vanilla_forward(bs=8, size=256, reps=5):
    "img/s of the vanilla U-Net's forward pass (best of `reps`), 2 torch threads"
    torch.set_num_threads(2)
    m, x = build_model('vanilla').eval(), torch.rand(bs, 1, size, size)
    with torch.inference_mode():
        m(x); best = float('inf')
        for _ in range(reps):
            t = time.perf_counter(); m(x); best = min(best, time.perf_counter() - t)
    return bs/best


def fresh_venv(tmp):
    "A venv with the wheel built from this repo and its runtime dependencies; returns its folder"
    dist = tmp/'dist'
    subprocess.run([sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', dist, ROOT], check=True, capture_output=True)
    v = tmp/'venv'; subprocess.run([sys.executable, '-m', 'venv', v], check=True)
    subprocess.run([v/'bin'/'python', '-m', 'pip', 'install', '-q', '--disable-pip-version-check', next(dist.glob('*.whl'))], check=True)
    return v


def du_mb(p): return sum(f.stat().st_size for f in Path(p).rglob('*') if f.is_file() and not f.is_symlink())/1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('data'); ap.add_argument('--n', type=int, default=48); ap.add_argument('--no-venv', action='store_true')
    a = ap.parse_args()
    df, _ = manifest(a.data, check=False)
    files = df[(df.split == 'test') & (df.mask_path != '')].image_path.head(a.n).tolist()
    tmp = Path(tempfile.mkdtemp())
    try:
        print(f"hardware: {hardware()}; load average {os.getloadavg()[0]:.2f}")
        s, mb, rc = timed_child([BIN/'lungseg', 'predict', *files, '--out', tmp/'e2e', '--quiet'])
        s1, mb1, rc1 = timed_child([BIN/'lungseg', 'predict', *files, '--out', tmp/'e2e1', '--quiet', '--workers', '1'])
        s0, _, rc0 = timed_child([BIN/'lungseg', 'predict', *files, '--out', tmp/'e2e0', '--quiet', '--no-input-check'])
        van = vanilla_forward()
        print(f"1. end to end, `lungseg predict` on {len(files)} test images (512x512): {len(files)/s:6.2f} img/s  (rc {rc}, {s:.1f} s, peak {mb:.0f} MB; default options)")
        print(f"   the same with --workers 1:                                 {len(files)/s1:6.2f} img/s  (rc {rc1}, {s1:.1f} s)")
        print(f"   the same with --no-input-check:                            {len(files)/s0:6.2f} img/s  (rc {rc0}, {s0:.1f} s; the check costs {1 - s0/s:.0%})")
        print(f"   baseline, vanilla U-Net forward pass (256 px, batch 8, 2 threads):  {van:6.2f} img/s")
        print(f"   ratio: {len(files)/s/van:.2f}  (target >= 2); without the input check {len(files)/s0/van:.2f}")
        sh, mbh, rch = timed_child([BIN/'lungseg', 'predict', *files, '--out', tmp/'e2eh', '--quiet', '--heart'])
        print(f"   the same with --heart:                                     {len(files)/sh:6.2f} img/s  (rc {rch}, {sh:.1f} s, peak {mbh:.0f} MB; ratio {len(files)/sh/van:.2f})")
        for name in shipped_models():   # named alternatives: slower by design, measured beside the default
            sn, mbn, rcn = timed_child([BIN/'lungseg', 'predict', *files, '--out', tmp/f'e2e_{name}', '--quiet', '--model', name])
            print(f"   --model {name}:                                             {len(files)/sn:6.2f} img/s  (rc {rcn}, {sn:.1f} s, peak {mbn:.0f} MB; ratio {len(files)/sn/van:.2f})")
        code = "import sys, time; t = time.perf_counter(); import lungseg.predict; print(time.perf_counter() - t, [m for m in ('torch', 'fastai') if m in sys.modules])"
        print(f"2. import lungseg.predict: {subprocess.run([sys.executable, '-c', code], capture_output=True, text=True).stdout.strip()}")
        if a.no_venv: return
        v = fresh_venv(tmp)
        runs = [timed_child([v/'bin'/'lungseg', 'predict', files[0], '--out', tmp/f'one{i}', '--quiet']) for i in range(3)]
        s1, mb1, _ = min(runs)
        has_torch = subprocess.run([v/'bin'/'python', '-c', TORCH_CHECK], capture_output=True, text=True).stdout.strip()
        print(f"3. fresh venv with only the wheel: {du_mb(v):.0f} MB (target <= 600); torch importable: {has_torch}")
        print(f"   `lungseg predict one.png` (512x512) there: {s1:.2f} s wall (target <= 1.5), peak {mb1:.0f} MB (target <= 400); best of 3")
    finally: shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': main()

"""The input-check targets (issue 23), each beside its baseline from the same run. Prints numbers; not a test.

    .venv/bin/python benchmarks/input_check.py DATA_DIR EXTERNAL_DIR [--n 48] [--record records/input_check [--from-record]] [--skip-study]

1. Real images: the 106 test and the 247 JSRT images through the default pipeline, as given with the check on and off
   (the baseline), and their copies turned 90/180/270 degrees clockwise and inverted, with the check on and off. Targets: no
   rejection and no wrong turn or inversion; as given, no image's Dice moves by more than 0.001; each copy's Dice
   (against the ground truth turned alike) within 0.01 of its image's. With --record, the per-image rows go to
   RECORD/pipeline.csv (the input-check training notebook reads them).
2. Not chest X-rays: the test split's negatives (package pictures never trained on, synthetic images). Target >= 95 %
   rejected. Half-width crops of the test X-rays are reported beside them.
3. Cost: `lungseg predict` (the console script, a fresh process) on --n test images with the check and with
   --no-input-check, timed in the same run (best of 2 each). Target: the check costs <= 10 % of the throughput.
   The check's ONNX size in the wheel: target <= 2 MB.
"""
import argparse, os, subprocess, sys, tempfile, time, shutil
from pathlib import Path
import numpy as np, pandas as pd, torch
from lungseg.data import manifest
from lungseg.pipeline import load_image
from lungseg.inputcheck import check_weights, load_checker
from lungseg.inputcheck_train import package_images
from lungseg.inputcheck_study import pipeline_study, study_summary, neg_items, neg_checks, apply_decision
from lungseg.train import hardware

BIN = Path(sys.executable).parent


def study(df, ext, record, from_record=False):
    t = df[df.split == 'test']
    jsrt = sorted((Path(ext)/'images').glob('*.png'))
    if from_record: per = pd.read_csv(Path(record)/'pipeline.csv')
    else:
        per = pd.concat([pipeline_study(t.image_path.tolist(), t.mask_path.tolist(), 'test'),
                         pipeline_study(jsrt, [Path(ext)/'masks'/f'{f.stem}_mask.png' for f in jsrt], 'jsrt')])
        if record: Path(record).mkdir(parents=True, exist_ok=True); per.round(6).to_csv(Path(record)/'pipeline.csv', index=False)
    s = study_summary(per)
    print("1. real images through the default pipeline (Dice against the ground truth turned alike)" + (f"; read from {record}/pipeline.csv, made by the same code" if from_record else ''))
    print(s.round(4).to_string(index=False))
    g = per[per.variant == 'as given'].pivot_table(index=['set', 'stem'], columns='input_check', values='dice')
    for name, d in g.groupby('set'):
        on = s[(s.set == name) & s.input_check]
        print(f"   {name}: as given, largest |Dice(check) - Dice(no check)| {np.abs(d[True] - d[False]).max():.5f} (target <= 0.001); "
              f"rejected {int(on.rejected.sum())}, wrong turn/inversion {int(on.wrong.sum())} (targets 0); "
              f"turned/inverted copies: largest drop below the image's own Dice {on[on.variant != 'as given'].max_drop.max():.4f} (target <= 0.01)")
        off = s[(s.set == name) & ~s.input_check & (s.variant != 'as given')]
        if len(off): print(f"         baseline without the check: turned/inverted copies' mean Dice {', '.join(f'{v} {x:.4f}' for v, x in zip(off.variant, off.dice))}")


def negatives(df):
    ck = load_checker(); imgs = package_images()
    cx = [load_image(f)[0] for f in df[df.split == 'test'].image_path]
    n = apply_decision(neg_checks(ck, neg_items('test', imgs, cx), 'test'), ck.meta['decision'])
    nc = n[n.kind != 'cxr_half']
    print(f"2. not chest X-rays (test split, never trained on): {nc.rejected.mean():.1%} of {len(nc)} rejected (target >= 95 %); "
          f"package pictures {nc[nc.kind == 'package'].rejected.mean():.1%} of {(nc.kind == 'package').sum()}, synthetic {nc[nc.kind == 'synthetic'].rejected.mean():.1%}; "
          f"half-width crops of test X-rays {n[n.kind == 'cxr_half'].rejected.mean():.1%} of {(n.kind == 'cxr_half').sum()}")


def timed(cmd):
    t = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True); return time.perf_counter() - t, r.returncode


def cost(df, n):
    files = df[df.split == 'test'].image_path.head(n).tolist(); tmp = Path(tempfile.mkdtemp())
    try:
        runs = {k: [] for k in ('check', 'no check')}
        for i in range(2):
            for k, extra in (('check', []), ('no check', ['--no-input-check'])):
                s, rc = timed([BIN/'lungseg', 'predict', *files, '--out', tmp/f'{k}{i}'.replace(' ', '_'), '--quiet', *extra]); runs[k].append(s)
        on, off = min(runs['check']), min(runs['no check'])
        print(f"3. `lungseg predict` on {len(files)} test images: {len(files)/on:.2f} img/s with the check, {len(files)/off:.2f} without (baseline); "
              f"cost {(on - off)/off:.1%} of the time (target <= 10 %)")
        print(f"   the check's ONNX: {check_weights().stat().st_size/1e6:.2f} MB (target <= 2 MB)")
    finally: shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('data'); ap.add_argument('external'); ap.add_argument('--n', type=int, default=48)
    ap.add_argument('--record', default=None); ap.add_argument('--skip-study', action='store_true')
    ap.add_argument('--from-record', action='store_true', help="print part 1 from RECORD/pipeline.csv instead of running it (it takes minutes)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    df, _ = manifest(a.data, check=False); df = df[df.mask_path != '']
    print(f"hardware: {hardware('cpu')}; load average {os.getloadavg()[0]:.2f}")
    if not a.skip_study: study(df, a.external, a.record, a.from_record)
    negatives(df)
    cost(df, a.n)


if __name__ == '__main__': main()

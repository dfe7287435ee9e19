"""The framing targets, each beside its baseline from the same run (the pipeline with the framing step off). Prints
numbers; not a test.

    .venv/bin/python benchmarks/framing.py DATA_DIR EXTERNAL_DIR [--wingspan DIR] [--n 30] [--model NAME]

1. Framed films: the first N test images and the first N JSRT images by name, framed each way of
   `lungseg.robustness.FRAMINGS`. Targets: no film rejected, none turned or inverted; mean Dice within 0.01 of the clean
   film's (0.02 where the frame paints over the film or crops it).
2. Clean films: every test and JSRT image (and the Wingspan films with --wingspan), as given. Target: Dice within
   0.002 of the baseline's; the number of films whose field is not the whole image, and the largest change.
3. Cost: the framing step's time per image beside the pipeline's end-to-end time per image, in this process.
   Target: <= 10 % (with the input check).
"""
import argparse, time
from pathlib import Path
import pandas as pd
from lungseg.data import manifest
from lungseg.pipeline import load_net, settings_of, run_many, load_image
from lungseg.framing import find_field
from lungseg.robustness import framing_study, study_table, FRAMINGS
from lungseg.train import hardware


def clean_films(sets, model=None):
    "Per film of each (images, masks) of `sets`, as given: `framing_study` rows (Dice, field found, rejected), step on/off"
    return pd.concat([framing_study(files, masks, name, {'none': FRAMINGS['none']}, model)
                      for name, (files, masks) in sets.items()], ignore_index=True)


def cost(files, model=None):
    "Seconds per image of the framing step and of the whole pipeline (load, framing, check, network, finish)"
    net, meta = load_net(model)
    smalls = [load_image(f)[0] for f in files]
    t = time.perf_counter()
    for a in smalls: find_field(a)
    frame = (time.perf_counter() - t)/len(files)
    t = time.perf_counter()
    list(run_many(files, net, settings_of(meta)))
    return frame, (time.perf_counter() - t)/len(files)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('external')
    p.add_argument('--wingspan', default=None)
    p.add_argument('--n', type=int, default=30)
    p.add_argument('--model', default=None)
    a = p.parse_args()
    print(f"hardware: {hardware()}; model: {a.model or 'the shipped default'}")
    df, _ = manifest(a.data, check=False)
    test = df[df.split == 'test'].sort_values('stem')
    ext = Path(a.external)
    jsrt = sorted((ext/'images').glob('*.png'))
    jm = [ext/'masks'/f'{f.stem}_mask.png' for f in jsrt]
    per = pd.concat([framing_study(test.image_path.tolist()[:a.n], test.mask_path.tolist()[:a.n], 'test', model=a.model),
                     framing_study(jsrt[:a.n], jm[:a.n], 'jsrt', model=a.model)], ignore_index=True)
    t = study_table(per)
    print(f"1. framed films, first {a.n} of each set: mean Dice (drop below the clean film's) and rejected/turned/inverted,"
          " with the framing step and without it (baseline)")
    for (s, v), d in t.groupby(['set', 'framing'], sort=False):
        on, off = d[d.framing_step].iloc[0], d[~d.framing_step].iloc[0]
        print(f"   {s:5} {v:26} step {on.dice:.4f} ({on.dice_drop:+.4f}) {on.rejected}/{on.turned}/{on.inverted}"
              f"   baseline {off.dice:.4f} ({off.dice_drop:+.4f}) {off.rejected}/{off.turned}/{off.inverted}")
    on = t[t.framing_step & (t.framing != 'none')]
    print(f"   with the step: {on.rejected.sum()} rejected, {on.turned.sum()} turned, {on.inverted.sum()} inverted (targets 0);"
          f" largest mean drop {on.dice_drop.max():.4f} (target 0.01, 0.02 where the frame paints over or crops)")
    sets = dict(test=(test.image_path.tolist(), test.mask_path.tolist()), jsrt=(jsrt, jm))
    if a.wingspan:
        w = Path(a.wingspan)
        wi = sorted((w/'images').glob('*.png'))
        sets['wingspan'] = (wi, [w/'masks'/f'{f.stem}_mask.png' for f in wi])
    c = clean_films(sets, a.model)
    print("2. clean films as given: mean Dice with the step and without it (baseline), films with a field found, rejected")
    for s, d in c.groupby('set', sort=False):
        on, off = d[d.framing_step].set_index('stem'), d[~d.framing_step].set_index('stem')
        delta = on.dice - off.dice.loc[on.index]
        print(f"   {s:8} n {len(on)}: step {on.dice.mean():.4f}, baseline {off.dice.mean():.4f}, difference {delta.mean():+.5f}"
              f" (target within 0.002); field found on {int(on.field.sum())}, largest change {delta.abs().max():.4f};"
              f" rejected {int(on.rejected.sum())} with the step, {int(off.rejected.sum())} without")
    fr, tot = cost(test.image_path.tolist()[:a.n], a.model)
    print(f"3. cost per image: framing {fr*1000:.1f} ms, whole pipeline {tot*1000:.1f} ms: {fr/tot:.1%} (target <= 10 %)")

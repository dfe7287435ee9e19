"""Annotation conventions, steps 3 and 4: train on labels that agree, and an output for the anatomical lung.

The conventions come from lungseg/conventions.csv (nbs/12a_conventions.ipynb: each pair judged by a network that never
trained on it). Every run starts from the shipped default's torch weights (lungseg/weights/lungseg.pth, the distilled
plain8 at 384 px; the recorded runs started from the all-masks default 86e8ea96008f..., shipped then, whose hash their
JSON keeps, and a rerun today starts from the default shipped now) and trains plain8 at 384 px with fit_one_cycle, ce_dice, batch size 8, lr 5e-4, seed 42, as the
earlier 384 px continuation runs (records/lever_mc/control):
  visible     4 epochs on the train rows called visible (every Montgomery row and the visible Shenzhen rows),
              validated on the valid rows called visible.
  control     the same 4 epochs from the same weights on every train row (both conventions), validated on all valid
              rows: it separates the effect of the labels from that of 4 more epochs.
  anatomical  the train rows called anatomical only (Shenzhen), 16 epochs, validated on the valid rows called anatomical.
              Its JSON says `extent: anatomical`. (With the 36 train masks called anatomical, 16 epochs are 576 image
              presentations, about 1.2 epochs of the whole train split.)

Decision rules, written before the runs (applied in nbs/13_train_experiments.ipynb, per-image Dice at 512 px of the
network's own masks, threshold 0.5, as every lever there; paired bootstrap intervals of per-image differences):
  visible     replaces the default if the interval of its valid-visible difference from the shipped default lies above
              0 (same network, so the same size and speed). It is credited to the labels if, in addition, the interval
              of its valid-visible difference from `control` lies above 0.
  anatomical  ships as `--extent anatomical` if, on the valid rows called anatomical, scored against their own
              (anatomical) masks, the interval of its difference from the default that ships lies above 0 and its mean
              Dice there is at least 0.95. Otherwise it does not ship, and the notebook says so.

    python experiments/lever_conventions.py DATA_DIR visible|control|anatomical [--threads N]

Resumable (rerun the same command). Writes runs/lever_conventions/NAME/ and the small records to
records/lever_conventions/NAME/ (JSON, history, config, per-image metrics on every valid row, both conventions).
"""
import json, argparse
from pathlib import Path
import torch
from lungseg.data import manifest, atomic_write, pkg_path
from lungseg.train import train
from harness import record_run

EPOCHS = dict(visible=4, control=4, anatomical=16)
p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('name', choices=sorted(EPOCHS))
p.add_argument('--threads', type=int, default=2, help='torch CPU threads (the record names them)')
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
if not (df.convention != '').any(): raise SystemExit("no convention calls: run nbs/12a_conventions.ipynb first")
keep = {'visible': df.convention == 'visible', 'control': df.convention != '', 'anatomical': df.convention == 'anatomical'}[a.name]
d = df.assign(split=df.split.where(keep, 'held'))   # rows of the other convention are held out of training and validation
out, rec = Path('runs/lever_conventions')/a.name, Path('records/lever_conventions')/a.name
if not (out/'lungseg.json').exists():
    meta = train(df=d, out=out, arch='plain8', size=384, epochs=EPOCHS[a.name], lr=5e-4, loss='ce_dice', bs=8, quiet=True,
                 init=pkg_path()/'weights'/'lungseg.pth', resume=(out/'config.json').exists())
    meta['lever'] = dict(name=f'conventions_{a.name}', train_rows=int((d.split == 'train').sum()), valid_rows=int((d.split == 'valid').sum()))
    if a.name == 'anatomical': meta['extent'] = 'anatomical'
    atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
    print(a.name, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
per = record_run(out, rec, df)   # every valid row, both conventions, with the `convention` column
print(a.name, per.groupby('convention').dice.mean().round(4).to_dict())

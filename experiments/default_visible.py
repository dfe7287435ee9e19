"""A default trained from scratch on labels that agree: the shipped recipe's two stages on the visible-convention rows only.

The conventions come from lungseg/conventions.csv (nbs/12a_conventions.ipynb). Rows called anatomical are held out of
training and validation; every Montgomery row and the visible Shenzhen rows stay. Two stages, the recipe of the
all-masks twin records/lever_mc/init (the shipped default's initialisation before distillation):
  s256   plain8 from scratch, 16 epochs of fit_one_cycle at 256 px, lr 3e-3, ce_dice, batch size 8, seed 42
  s384   from s256, 6 epochs at 384 px, lr 1e-3, otherwise the same
  distill (session 10, after s384 tied) the shipped default's last stage on the same rows: from s384, 4 epochs at 384 px,
         lr 5e-4, loss ce_dice_soft, targets 0.5 x label + 0.5 x the mean lung probability of two teachers: s384 (the
         visible plain8, as the shipped default was taught by its own initialisation) and `large` (effl0s at 384 px,
         lungseg/weights/large.onnx through `lungseg.model.NetTeacher`; the shipped default's second teacher, whose torch
         weights are gone). `large` was trained on every mask; it teaches only on the visible rows. Its all-masks twin is
         the shipped default itself (records/lever_distill/plain8).
  distill2 (session 12) the distill stage again, once `large` is the effl0s trained on the visible masks
         (experiments/lever_full.py --visible, shipped by nbs/13_train_experiments.ipynb when it passes its rule): from s384,
         4 epochs at 384 px, lr 5e-4, ce_dice_soft, targets 0.5 x label + 0.5 x the mean of s384 and that `large`. Then no
         network in the default's lineage, teachers included, trained on a mask of the other extent. The script refuses to
         run it while lungseg/weights/large.json is not that run's.

Decision rules, written before the runs (applied in nbs/13_train_experiments.ipynb; per-image Dice at 512 px of the
network's own masks, threshold 0.5, on the valid rows called visible; paired bootstrap intervals of per-image
differences):
  label effect  s384 against its all-masks twin records/lever_mc/init (same recipe, same split): the labels helped if
                the interval lies above 0.
  replacement   The default's target is the visible lung field, so the default should be a network whose training
                labels agree with it. s384 replaces the shipped default if it is not worse on valid-visible: the
                lower end of the interval of its difference from the shipped default is at least -0.002 (the seed
                noise at this budget) and the mean difference is at least 0. Otherwise the default stays, and the
                notebook says so.
  distill       (written before its run, session 10) label effect: against the shipped default (its all-masks twin), the
                labels helped if the interval lies above 0. Replacement: the rule above, against the shipped default.
  distill2      (written before its run, session 12) replacement: the rule above, against the shipped default
                (records/default_visible/distill), on the valid rows called visible. A tie keeps the lineage argument:
                the lower end at least -0.002 and the mean difference at least 0.

    python experiments/default_visible.py DATA_DIR [--threads N] [--stages distill2]

Resumable (rerun the same command). Writes runs/default_visible/{s256,s384,distill,distill2}/ and the small records to
records/default_visible/{s256,s384,distill,distill2}/ (JSON, history, config, per-image metrics on every valid row, both conventions).
"""
import json, argparse, os
from pathlib import Path
import torch
from lungseg.data import manifest, atomic_write, pkg_path
from lungseg.train import train
from harness import record_run

STAGES = dict(s256=dict(size=256, epochs=16, lr=3e-3, init=None), s384=dict(size=384, epochs=6, lr=1e-3, init='s256'),
              distill=dict(size=384, epochs=4, lr=5e-4, init='s384', loss='ce_dice_soft', teachers=['s384', 'large']))
STAGES['distill2'] = STAGES['distill']   # the same stage; its `large` must be the effl0s trained on the visible masks (checked below)
p = argparse.ArgumentParser(); p.add_argument('data')
p.add_argument('--threads', type=int, default=2, help='torch CPU threads (the record names them)')
p.add_argument('--stages', nargs='*', default=['s256', 's384', 'distill'], choices=list(STAGES), help='the stages to run, in order')
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
if not (df.convention != '').any(): raise SystemExit("no convention calls: run nbs/12a_conventions.ipynb first")
d = df.assign(split=df.split.where(df.convention == 'visible', 'held'))   # anatomical rows: out of training and validation
root, recs = Path('runs/default_visible'), Path('records/default_visible')
for name in a.stages:
    s = STAGES[name]
    if name == 'distill2' and json.loads((pkg_path()/'weights'/'large.json').read_text()).get('lever', {}).get('name') != 'effl0s_mc3_visible':
        raise SystemExit("distill2: lungseg/weights/large.json is not the effl0s trained on the visible masks (experiments/lever_full.py --visible, shipped by nbs/13_train_experiments.ipynb)")
    out = root/name
    if not (out/'lungseg.json').exists():
        init = root/s['init']/'lungseg.pth' if s['init'] else None
        teachers = [Path(os.path.relpath(pkg_path()/'weights'/'large.onnx')) if t == 'large' else root/t/'lungseg.pth' for t in s.get('teachers', [])]
        meta = train(df=d, out=out, arch='plain8', size=s['size'], epochs=s['epochs'], lr=s['lr'], loss=s.get('loss', 'ce_dice'), bs=8,
                     quiet=True, init=init, teachers=teachers or None, alpha=0.5, resume=(out/'config.json').exists())
        meta['lever'] = dict(name=f'default_visible_{name}', train_rows=int((d.split == 'train').sum()), valid_rows=int((d.split == 'valid').sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print(name, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, recs/name, df)   # every valid row, both conventions, with the `convention` column
    print(name, per.groupby('convention').dice.mean().round(4).to_dict(), flush=True)

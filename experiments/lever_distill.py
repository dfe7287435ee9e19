"""Accuracy v2, lever 4 (distillation): the ensemble's knowledge in the fast default network.

The ensemble of the two full-budget 384 px models (the shipped plain8 and effl0s_mc3's 384 px stage) was the best on
valid (+0.0025) but too slow to ship. Here it teaches the shipped plain8 network (`lungseg.train.Distill`):
  plain8   from the shipped plain8 384 px weights (runs/lever_mc/init), 4 epochs of fit_one_cycle at 384 px (lr 5e-4),
           targets 0.5 x label + 0.5 x the teachers' mean lung probability, loss ce_dice_soft, all else as
           records/lever_mc/control (the same 4 epochs with the labels alone), which is its comparison run.
Decision rule, written before the run (applied in nbs/13_train_experiments.ipynb): adopted if the paired bootstrap
interval of its valid per-image Dice difference from the control lies above 0; it replaces the default by the shipping
rule there (interval above 0 against the shipped model, same network so the same size and speed).

With --montgomery 3 (session 7, after the plain run above had shipped): the same run with the Montgomery train rows
repeated 3x (`repeat_rows`), written to runs/lever_distill/plain8_mc3/. Its comparison run is records/lever_mc/mc3 (the
same 4 epochs from the same weights with Montgomery x3 and the labels alone). Decision rule, written before the run:
adopted if the paired interval of its valid difference from that control lies above 0; it replaces the default only
if, in addition, the paired interval of its valid difference from the default it would replace (the plain distilled
run, records/lever_distill/plain8) lies above 0.

    python experiments/lever_distill.py DATA_DIR [--montgomery 3]

Resumable (rerun the same command). Writes runs/lever_distill/plain8[_mc3]/ and the small records to records/lever_distill/plain8[_mc3]/.
"""
import json, argparse
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.train import train, record_run, repeat_rows

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--alpha', type=float, default=0.5)
p.add_argument('--montgomery', type=int, default=1, help='times each Montgomery train row is seen per epoch')
a = p.parse_args()
torch.set_num_threads(2)
df, _ = manifest(a.data, check=False)
d = repeat_rows(df, 'Montgomery', a.montgomery)
init, teachers = Path('runs/lever_mc/init/lungseg.pth'), [Path('runs/lever_mc/init/lungseg.pth'), Path('runs/lever_full/s384/lungseg.pth')]
name = 'plain8' + (f'_mc{a.montgomery}' if a.montgomery > 1 else '')
out, rec = Path('runs/lever_distill')/name, Path('records/lever_distill')/name
if not (out/'lungseg.json').exists():
    meta = train(df=d, out=out, arch='plain8', size=384, epochs=4, lr=5e-4, loss='ce_dice_soft', bs=8, quiet=True, init=init,
                 teachers=teachers, alpha=a.alpha, resume=(out/'config.json').exists())
    meta['lever'] = dict(name=name, montgomery_train_repeats=a.montgomery, n_rows=len(d))
    (out/'lungseg.json').write_text(json.dumps(meta, indent=2, default=str))
    print('distill', json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
print('distill', f"valid per-image Dice {record_run(out, rec, df).dice.mean():.4f}")

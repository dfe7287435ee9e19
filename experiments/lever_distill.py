"""Accuracy v2, lever 4 (distillation): the ensemble's knowledge in the fast default network.

The ensemble of the two full-budget 384 px models (the shipped plain8 and effl0s_mc3's 384 px stage) was the best on
valid (+0.0025) but too slow to ship. Here it teaches the shipped plain8 network (`lungseg.model.Distill`):
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

With --more NAME (session 7): 4 further epochs of the same distillation (same teachers, lr, loss), starting from the
finished run runs/lever_distill/NAME/ (with that run's Montgomery weight), written to runs/lever_distill/NAME_more/. The
teacher (0.9644 on valid) is still ahead of the students (0.9625), and 4 more epochs on the labels alone did nothing
(records/lever_mc/control against init), so this asks whether a longer distillation moves more of the gap. Its comparison
is the run it continues. Decision rule, written before the run: adopted if the paired interval of its valid difference
from the run it continues lies above 0; it replaces the default only if, in addition, that interval against the default
lies above 0 (the same run when it continues the default).

    python experiments/lever_distill.py DATA_DIR [--montgomery 3 | --more NAME]

Resumable (rerun the same command). Writes runs/lever_distill/plain8[_mc3]/ and the small records to records/lever_distill/plain8[_mc3]/.
"""
import json, argparse
from pathlib import Path
import torch
from lungseg.data import manifest, atomic_write
from lungseg.train import train
from harness import record_run, repeat_rows

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--alpha', type=float, default=0.5)
g = p.add_mutually_exclusive_group()   # a continuation keeps the Montgomery weight of the run it continues
g.add_argument('--montgomery', type=int, default=1, help='times each Montgomery train row is seen per epoch')
g.add_argument('--more', default=None, help='continue this finished run of runs/lever_distill/ for 4 more epochs')
a = p.parse_args()
if a.more: a.montgomery = json.loads((Path('runs/lever_distill')/a.more/'lungseg.json').read_text()).get('lever', {}).get('montgomery_train_repeats', 1)
torch.set_num_threads(2)
df, _ = manifest(a.data, check=False)
d = repeat_rows(df, 'Montgomery', a.montgomery)
init, teachers = Path('runs/lever_mc/init/lungseg.pth'), [Path('runs/lever_mc/init/lungseg.pth'), Path('runs/lever_full/s384/lungseg.pth')]
name = 'plain8' + (f'_mc{a.montgomery}' if a.montgomery > 1 else '')
if a.more: init, name = Path('runs/lever_distill')/a.more/'lungseg.pth', a.more + '_more'
out, rec = Path('runs/lever_distill')/name, Path('records/lever_distill')/name
if not (out/'lungseg.json').exists():
    meta = train(df=d, out=out, arch='plain8', size=384, epochs=4, lr=5e-4, loss='ce_dice_soft', bs=8, quiet=True, init=init,
                 teachers=teachers, alpha=a.alpha, resume=(out/'config.json').exists())
    meta['lever'] = dict(name=name, montgomery_train_repeats=a.montgomery, n_rows=len(d))
    atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))   # never a JSON without its lever
    print('distill', json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
print('distill', f"valid per-image Dice {record_run(out, rec, df).dice.mean():.4f}")

"""Accuracy v2, lever 3 (budget): a 512 px stage after the full-budget run's 384 px stage.

Masks are scored at 512 px, and the 384 px stage is the `large` model; this stage continues it at 512 px:
  s512   from runs/lever_full/s384, 512 px, --epochs epochs of fit_one_cycle (lr --lr), batch 8, seed 42,
         Montgomery train rows x3, loss --loss (the one adopted at the probe budget by experiments/lever_soft.py)
Decision rule, written before the run (applied in nbs/13_train_experiments.ipynb): the 512 px stage replaces the 384 px
stage as `large` if the paired bootstrap interval of its valid per-image Dice difference from the 384 px stage lies
above 0 and its ONNX graph fits 10 MB.

    python experiments/lever_512.py DATA_DIR [--epochs 3] [--lr 5e-4] [--loss ce_dice]

Resumable (rerun the same command). Writes runs/lever_full/s512/ and the small records to records/lever_full/s512/.
"""
import json, argparse
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.train import train
from harness import repeat_rows, record_run

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--epochs', type=int, default=3)
p.add_argument('--lr', type=float, default=5e-4); p.add_argument('--loss', default='ce_dice')
a = p.parse_args()
torch.set_num_threads(2)
df, _ = manifest(a.data, check=False)
d = repeat_rows(df, 'Montgomery', 3)
out, rec = Path('runs/lever_full/s512'), Path('records/lever_full/s512')
if not (out/'lungseg.json').exists():
    meta = train(df=d, out=out, arch='effl0s', size=512, epochs=a.epochs, lr=a.lr, loss=a.loss, bs=8, quiet=True,
                 init=Path('runs/lever_full/s384/lungseg.pth'), resume=(out/'config.json').exists())
    meta['lever'] = dict(name='effl0s_mc3', montgomery_train_repeats=3, n_rows=len(d))
    (out/'lungseg.json').write_text(json.dumps(meta, indent=2, default=str))
    print('s512', json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
print('s512', f"valid per-image Dice {record_run(out, rec, df).dice.mean():.4f}")

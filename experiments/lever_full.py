"""Accuracy v2, the adopted levers at a full budget: ImageNet EfficientNet-Lite0 body (effl0s) + Montgomery train rows x3.

Progressive resizing as for the shipped model (256 px, then 384 px from those weights), on this session's CPU budget:
  s256   effl0s, 256 px, EPOCHS_256 epochs of fit_one_cycle (lr 3e-3), batch 8, seed 42, Montgomery train rows x3
  s384   from s256, 384 px, EPOCHS_384 epochs (lr 1e-3), same rows
The shipped model had 16 + 6 epochs; this run has fewer (see --e256/--e384), so a gain here is not a budget effect.
Both stages are candidates, scored on valid through the one pipeline (torch_net + evaluate_model, undecided settings), per
image at 512 px, against the shipped model scored the same way (records/lever_mc/init/valid_per_image.csv). The decision
rule is applied in nbs/13_train_experiments.ipynb.

    python experiments/lever_full.py DATA_DIR [--threads 2] [--e256 12] [--e384 5]

Resumable (rerun the same command). Writes runs/lever_full/{s256,s384}/ and the small records to records/lever_full/.
"""
import json, argparse
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.train import train, repeat_rows, record_run

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--threads', type=int, default=2)
p.add_argument('--e256', type=int, default=12); p.add_argument('--e384', type=int, default=5)
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
d = repeat_rows(df, 'Montgomery', 3)
root, rec_root = Path('runs/lever_full'), Path('records/lever_full')
stages = [('s256', dict(size=256, epochs=a.e256, lr=3e-3, init=None)),
          ('s384', dict(size=384, epochs=a.e384, lr=1e-3, init=root/'s256/lungseg.pth'))]
for name, kw in stages:
    out, rec = root/name, rec_root/name
    if not (out/'lungseg.json').exists():
        resume = (out/'config.json').exists()
        meta = train(df=d, out=out, arch='effl0s', bs=8, quiet=True, resume=resume, **kw)
        meta['lever'] = dict(name='effl0s_mc3', montgomery_train_repeats=3, n_rows=len(d))
        (out/'lungseg.json').write_text(json.dumps(meta, indent=2, default=str))
        print(name, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    print(name, f"valid per-image Dice {record_run(out, rec, df).dice.mean():.4f}")   # each stage is a candidate; the notebook compares them

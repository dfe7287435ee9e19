"""How fast does a run on this machine's CPU reach valid Dice >= 0.96? (issue: aim for <= 30 minutes)

    LUNGSEG_DATA=path/to/chest-xray-masks-and-labels .venv/bin/python benchmarks/time_to_096.py [--epochs 8] [--out runs/speed] [--device cpu]

Trains the shipped configuration (plain8, 256 px, CE + Dice, batch 8, lr 3e-3) with a shorter one-cycle schedule
on an otherwise idle machine, and prints, per epoch, the cumulative training time (fastai's logged epoch times,
training + validation) and the validation Dice (pooled, 256 px), then the first epoch at or above 0.96.
Run it on an idle machine: it prints numbers, it is not a test.
"""
import argparse, time
from pathlib import Path
import pandas as pd
from lungseg.train import train, hardware, _secs

p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=8)
p.add_argument('--out', default='runs/speed')
p.add_argument('--target', type=float, default=0.96)
p.add_argument('--device', default='cpu', help="device to train on: 'cpu' (the default, what this benchmark reports), 'cuda', 'mps'")
a = p.parse_args()
t0 = time.time()
meta = train(None, out=a.out, size=256, epochs=a.epochs, arch='plain8', bs=8, lr=3e-3, loss='ce_dice', quiet=True, device=a.device)
h = pd.read_csv(Path(a.out)/'history.csv')
h['minutes'] = h.time.map(_secs).cumsum()/60
print(f"hardware: {hardware()}")
print(f"config: plain8, 256 px, CE + Dice, bs 8, lr 3e-3, {a.epochs}-epoch one-cycle; wall time {(time.time()-t0)/60:.1f} min (incl. data setup and final validation)")
print(h[['epoch', 'train_loss', 'valid_loss', 'dice', 'minutes']].round(4).to_string(index=False))
hit = h[h.dice >= a.target]
print(f"first epoch with valid Dice >= {a.target}: {int(hit.epoch.iloc[0])} after {hit.minutes.iloc[0]:.1f} min" if len(hit)
      else f"valid Dice never reached {a.target} (best {h.dice.max():.4f})")

"""Accuracy v2, lever 1 (an ImageNet-pretrained encoder that installs offline), at the encoder table's budget.

Three runs, identical but for the network and the Montgomery weight: 128 px, 5 epochs of fit_one_cycle (lr 3e-3), batch 8,
seed 42 — the budget of the training notebook's encoder table:
  plain8        the shipped architecture, from scratch (the baseline, retrained here in the same harness)
  effl0s        DynamicUnet over the first 11 blocks of ImageNet EfficientNet-Lite0 (1.5 M parameters, the size budget)
  effl0s_mc3    the same with the Montgomery train rows repeated 3x (lever 2 on top)
Each is scored on valid through the one pipeline (torch_net + lungseg.evaluate.evaluate_model, undecided settings: threshold
0.5, no post-processing), per image at 512 px. Decision rule, written before the runs: a lever is adopted for the next full
budget run if the paired bootstrap 95 % interval of its valid per-image Dice difference from plain8 lies above 0.

    python experiments/lever_encoder.py DATA_DIR [--threads 1]

Writes runs/lever_enc/<name>/ and copies the small records (JSON, history, per-image valid metrics) to records/lever_encoder/.
"""
import json, shutil, argparse, time
from pathlib import Path
import pandas as pd, torch
from lungseg.data import manifest
from lungseg.train import train
from lungseg.model import load_model, torch_net
from lungseg.evaluate import evaluate_model, bootstrap_ci
from lungseg.pipeline import UNDECIDED

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
mc = df[(df.source == 'Montgomery') & (df.split == 'train')]
RUNS = {'plain8': ('plain8', df), 'effl0s': ('effl0s', df), 'effl0s_mc3': ('effl0s', pd.concat([df, mc, mc], ignore_index=True))}
per = {}
for name, (arch, d) in RUNS.items():
    out, rec = Path('runs/lever_enc')/name, Path('records/lever_encoder')/name
    if not (out/'valid_per_image.csv').exists():
        t = time.time()
        train(df=d, out=out, size=128, epochs=5, arch=arch, bs=8, lr=3e-3, quiet=True)
        m, meta = load_model(out/'lungseg.pth')
        evaluate_model(torch_net(m), meta, df, 'valid', **UNDECIDED).to_csv(out/'valid_per_image.csv', index=False)
        print(name, f"{time.time() - t:.0f} s", flush=True)
    rec.mkdir(parents=True, exist_ok=True)
    for f in ('lungseg.json', 'history.csv', 'valid_per_image.csv'): shutil.copy(out/f, rec/f)
    per[name] = pd.read_csv(out/'valid_per_image.csv').set_index('stem')
base = per['plain8']
for name, p_ in per.items():
    d = p_.dice - base.dice
    m, lo, hi = bootstrap_ci(d)
    print(f"{name:<11} valid Dice {p_.dice.mean():.4f} (SZ {p_[p_.source == 'Shenzhen'].dice.mean():.4f}, MC {p_[p_.source == 'Montgomery'].dice.mean():.4f}), "
          f"5th pct {p_.dice.quantile(.05):.4f}; vs plain8 {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")

"""Accuracy v2: the adopted levers (ImageNet EfficientNet-Lite0 body `effl0s`, Montgomery x3) at a larger budget, against
the shipped model. Progressive resizing as for the shipped model but shorter: 10 epochs at 256 px from ImageNet (lr 3e-3),
then 4 epochs at 384 px from those weights (lr 1e-3); batch 8, seed 42, one CPU thread. Valid per-image metrics through the
one pipeline (threshold 0.5, no post-processing) go to records/lever_budget/<stage>/.

    python experiments/lever_budget.py DATA_DIR [--threads 1]
"""
import shutil, argparse
from pathlib import Path
import pandas as pd, torch
from lungseg.data import manifest
from lungseg.train import train
from lungseg.model import load_model, torch_net
from lungseg.evaluate import evaluate_model
from lungseg.pipeline import UNDECIDED

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
mc = df[(df.source == 'Montgomery') & (df.split == 'train')]
d = pd.concat([df, mc, mc], ignore_index=True)
stages = [('s256', 256, 10, 3e-3, None), ('s384', 384, 4, 1e-3, 'runs/lever_budget/s256/lungseg.pth')]
for name, size, epochs, lr, init in stages:
    out, rec = Path('runs/lever_budget')/name, Path('records/lever_budget')/name
    if not (out/'valid_per_image.csv').exists():
        train(df=d, out=out, size=size, epochs=epochs, arch='effl0s', bs=8, lr=lr, init=init, quiet=True)
        m, meta = load_model(out/'lungseg.pth')
        evaluate_model(torch_net(m), meta, df, 'valid', **UNDECIDED).round(6).to_csv(out/'valid_per_image.csv', index=False)
    rec.mkdir(parents=True, exist_ok=True)
    for f in ('lungseg.json', 'history.csv', 'valid_per_image.csv'): shutil.copy(out/f, rec/f)
    per = pd.read_csv(out/'valid_per_image.csv')
    print(name, f"valid Dice {per.dice.mean():.4f} (SZ {per[per.source == 'Shenzhen'].dice.mean():.4f}, MC {per[per.source == 'Montgomery'].dice.mean():.4f})", flush=True)

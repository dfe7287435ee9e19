"""Accuracy v2, lever 2 (label noise): Montgomery train rows repeated 3x, against a control with the same schedule.

Both runs start from the shipped 384 px weights and fine-tune 4 epochs at 384 px (lr 5e-4, one-cycle), so the only
difference between them is the Montgomery weight. Decision rule, written before the runs: adopt the weighting if the
paired bootstrap interval of the valid per-image Dice difference (weighted - control) lies above 0.

    python experiments/lever_montgomery_weight.py DATA_DIR [--threads 1]

Writes runs/lever_mc/{control,mc3}/ (weights, JSON, history.csv) and copies the small records to records/lever_mc/.
`init` is the model shipped when this ran (its SHA-256 is in records/lever_mc/init/lungseg.json); the script refuses
another one, so after the default changed, restore those weights from git history into runs/lever_mc/init/ first.
"""
import json, shutil, argparse
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.train import train
from harness import repeat_rows
from lungseg.pipeline import default_weights   # the shipped ONNX model; its torch weights (.pth) sit beside it

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--threads', type=int, default=1)
p.add_argument('--epochs', type=int, default=4); p.add_argument('--lr', type=float, default=5e-4)
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
init = Path('runs/lever_mc/init/lungseg.pth'); init.parent.mkdir(parents=True, exist_ok=True)
if not init.exists():
    for ext in ('.pth', '.json', '.onnx'): shutil.copy(default_weights().with_suffix(ext), init.with_suffix(ext))
want = json.loads(Path('records/lever_mc/init/lungseg.json').read_text())['sha256']
if json.loads(init.with_suffix('.json').read_text())['sha256'] != want: raise SystemExit(f"{init}: not the weights this lever started from (sha256 {want[:12]})")
variants = {'control': df, 'mc3': repeat_rows(df, 'Montgomery', 3)}
for name, d in variants.items():
    out = Path('runs/lever_mc')/name
    if (out/'lungseg.json').exists(): print(name, 'done already'); continue
    meta = train(df=d, out=out, size=384, epochs=a.epochs, lr=a.lr, init=init, quiet=True)
    meta['lever'] = dict(name=name, montgomery_train_repeats=3 if name == 'mc3' else 1, n_rows=len(d))
    (out/'lungseg.json').write_text(json.dumps(meta, indent=2, default=str))
    rec = Path('records/lever_mc')/name; rec.mkdir(parents=True, exist_ok=True)
    for f in ('lungseg.json', 'history.csv', 'config.json'): shutil.copy(out/f, rec/f)
    print(name, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds')}), flush=True)

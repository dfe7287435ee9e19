"""Accuracy v2, lever 4 (ensembles): the mean lung probability of the two full-budget 384 px models, the shipped plain8
(16 + 6 epochs) and effl0s + Montgomery x3 (runs/lever_full/s384), scored on valid through the one pipeline (undecided
settings) like every other lever, against the shipped model alone. Both networks see the same 384 px input.

    python experiments/lever_ensemble.py DATA_DIR [--threads 2]

Needs the weights (lungseg/weights/lungseg.pth and runs/lever_full/s384/lungseg.pth); writes the small record
(lungseg.json with the summed cost, valid_per_image.csv) to records/lever_ensemble/.
"""
import json, argparse
from pathlib import Path
import numpy as np, torch
from lungseg.data import manifest
from lungseg.model import load_model, torch_net
from lungseg.evaluate import evaluate_model
from lungseg.card import train_stages, total_train_seconds
from lungseg.pipeline import UNDECIDED, default_weights

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
df, _ = manifest(a.data, check=False)
members = [load_model(f) for f in (default_weights().with_suffix('.pth'), Path('runs/lever_full/s384/lungseg.pth'))]
assert len({m['size'] for _, m in members}) == 1, 'members must share the input size'
nets = [torch_net(m) for m, _ in members]
def ensemble(x): return np.mean([n(x) for n in nets], axis=0)
meta = dict(arch='+'.join(m['arch'] for _, m in members), size=members[0][1]['size'], members=[m['sha256'] for _, m in members],
            n_params=sum(m['n_params'] for _, m in members), size_bytes=sum(m['size_bytes'] for _, m in members),
            onnx_bytes=sum(m.get('onnx_bytes', 0) for _, m in members), n_train=members[0][1]['n_train'],
            epochs=sum(s['epochs'] for _, m in members for s in train_stages(m)),
            train_seconds_total=sum(total_train_seconds(m) for _, m in members))
rec = Path('records/lever_ensemble'); rec.mkdir(parents=True, exist_ok=True)
per = evaluate_model(ensemble, meta, df, 'valid', **UNDECIDED)
per.round(6).to_csv(rec/'valid_per_image.csv', index=False)
(rec/'lungseg.json').write_text(json.dumps(meta, indent=2))
print(f"ensemble {meta['arch']}: valid per-image Dice {per.dice.mean():.4f}")

"""Annotation conventions, step 1: every image/mask pair judged by a network that never trained on it.

The train split is cut into 5 folds (`lungseg.conventions.fold_of`, a hash of the stem). Each fold's network
(plain8, 192 px, 6 epochs of fit_one_cycle, lr 3e-3, CE + Dice, all train rows outside the fold) predicts
the rows of its fold and those valid and test rows that hash to the same fold, so every pair is predicted by
exactly one network that never saw it. The network is validated on its held-out fold for the log only;
nothing is chosen on it. Per-image metrics come from the one pipeline (`lungseg.evaluate.evaluate_model`) at
the mask's resolution; `lungseg.conventions.outside_share` turns them into the share of the true mask
outside the prediction, which nbs/12a_conventions.ipynb cuts into the two conventions.

    python experiments/conventions_oof.py DATA_DIR

Resumable (rerun the same command). Writes runs/conventions/fold{k}/ and the small records to
records/conventions/fold{k}/ (JSON, history, config, per-image metrics of the pairs it judged).
"""
import argparse
from pathlib import Path
import torch
from lungseg.data import manifest
from lungseg.conventions import N_FOLDS, oof_fold

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--folds', type=int, nargs='*', default=None)
a = p.parse_args()
torch.set_num_threads(2)
df, _ = manifest(a.data, check=False)
for k in (a.folds if a.folds is not None else range(N_FOLDS)):
    per = oof_fold(df, k, root=Path('runs/conventions'), records=Path('records/conventions'))
    print(f'fold {k}: {len(per)} pairs judged, median outside share {per.outside.median():.4f}', flush=True)

"""Accuracy v2, lever 2 (label noise) in the form not yet tried: soft targets near the mask boundary.

The ambiguous band (e.g. the retrocardiac left-lung edge, where Shenzhen's masks disagree with Montgomery's convention)
is where the labels are noisiest, so the loss `ce_dice_soft` replaces the hard 0/1 target by its box-blurred version
(`soft_band` px wide at the training size): pixels far from an edge keep their hard label, pixels at the edge get a
target between 0 and 1 and are punished less for either answer.

All runs are the encoder table's budget (128 px, 5 epochs, lr 3e-3, batch 8) on effl0s with Montgomery's train rows x3,
i.e. the configuration `effl0s_mc3` of records/encoder_table (seed 42), with two seeds each:
  control_s42 = records/encoder_table/effl0s_mc3 (not retrained)   control_s7   soft3_s42   soft3_s7
Decision rule, written before the runs: adopt soft targets if the paired bootstrap interval of the valid per-image
Dice difference (soft - control, each image averaged over the two seeds) lies above 0.

    python experiments/lever_soft.py DATA_DIR [--only NAME ...]

Writes runs/lever_soft/NAME/ and the small records to records/lever_soft/NAME/ (JSON, history, valid per-image metrics).
"""
import argparse
import torch
from lungseg.data import manifest
from harness import run_experiment

RUNS = {'control_s7': dict(seed=7), 'soft3_s42': dict(seed=42, loss='ce_dice_soft'), 'soft3_s7': dict(seed=7, loss='ce_dice_soft')}
p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--only', nargs='*', default=list(RUNS))
a = p.parse_args()
torch.set_num_threads(2)
df, _ = manifest(a.data, check=False)
for name in a.only:
    kw = dict(arch='effl0s', loss='ce_dice', lr=3e-3, mc_repeats=3) | RUNS[name]
    s = run_experiment(name, df, root='runs/lever_soft', records='records/lever_soft', **kw)
    print(name, s['valid_dice'], s['train_minutes'], 'min', flush=True)

"""Per-image valid metrics of finished training runs, through the one pipeline (torch_net + lungseg.evaluate.evaluate_model,
threshold 0.5, no post-processing), written as valid_per_image.csv into each run's record folder.

    python experiments/eval_valid.py DATA_DIR RUN_DIR:RECORD_DIR [RUN_DIR:RECORD_DIR ...]
"""
import sys
from pathlib import Path
from lungseg.data import manifest
from lungseg.model import load_model, torch_net
from lungseg.evaluate import evaluate_model
from lungseg.pipeline import UNDECIDED

df, _ = manifest(sys.argv[1], check=False)
for pair in sys.argv[2:]:
    run, rec = map(Path, pair.split(':'))
    m, meta = load_model(run/'lungseg.pth')
    per = evaluate_model(torch_net(m), meta, df, 'valid', **UNDECIDED)
    rec.mkdir(parents=True, exist_ok=True); per.round(6).to_csv(rec/'valid_per_image.csv', index=False)
    print(run, f"valid per-image Dice {per.dice.mean():.4f}")

"""A heart model beside the lung model: the default's network (plain8) fine-tuned to outline the cardiac silhouette.

  heart256  from the shipped default's weights (lungseg/weights/lungseg.pth: its encoder has seen chest films),
            10 epochs of fit_one_cycle at 256 px, lr 2e-3, loss ce_dice, batch size 8, seed 42, fastai's augmentation
            (no flip: the heart lies left of the midline). Rows: the Wingspan films (the only heart masks for training),
            split by `lungseg.data.hash_split` of their stems: train to train, valid to validate; test is held out.

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run) and, once, on the
Wingspan test fold and on JSRT/SCR (external; the error analysis of the heart reads them). No threshold, size or
post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--threads N]

Resumable (rerun the same command). Writes runs/heart/heart256/ and its small record to records/heart/heart256/.
"""
import json, argparse
from pathlib import Path
import pandas as pd, torch
from lungseg.data import atomic_write, pkg_path, hash_split
from lungseg.train import train
from harness import record_run


def heart_rows(folder) -> pd.DataFrame:
    "Manifest rows of the Wingspan films in `folder` with their heart masks (heart/<stem>_heart.png), split by stem hash"
    folder = Path(folder)
    rows = [dict(stem=f.stem, source='Wingspan', image_path=str(f), mask_path=str(folder/'heart'/f'{f.stem}_heart.png'),
                 split=hash_split(f.stem), convention='heart') for f in sorted((folder/'images').glob('*.png'))]
    missing = [r['mask_path'] for r in rows if not Path(r['mask_path']).exists()]
    if missing: raise SystemExit(f"{missing[0]}: Wingspan heart mask missing ({len(missing)} in all)")
    return pd.DataFrame(rows)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = heart_rows(a.wingspan)
    out, rec = Path('runs/heart/heart256'), Path('records/heart/heart256')
    if not (out/'lungseg.json').exists():
        meta = train(df=d, out=out, arch='plain8', size=256, epochs=10, lr=2e-3, loss='ce_dice', bs=8, quiet=True,
                     init=pkg_path()/'weights'/'lungseg.pth', resume=(out/'config.json').exists())
        meta['structure'] = 'heart'
        meta['lever'] = dict(name='heart256', train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print('heart256', json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print('heart256 valid', per.dice.describe().round(4).to_dict(), flush=True)

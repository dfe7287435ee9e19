"""The default, taught real films: a fine-tuning stage with synthetic framing and opacity, on the visible-convention
rows plus the Wingspan films.

  film   from the shipped default (lungseg/weights/lungseg.pth, plain8 at 384 px), 4 epochs of fit_one_cycle at 384 px,
         lr 5e-4, loss ce_dice, batch size 8, seed 42, aug 'film' (fastai's augmentation plus `lungseg.augment.FilmAug`:
         a random framing with probability 0.3 and a random opacity with probability 0.3, label unchanged under an
         opacity, lung painted over by a border removed from the label). Rows: the visible-convention rows of the
         Kaggle copy (anatomical rows held out, as for the default), plus the 259 Wingspan films (visible field) split by
         `lungseg.data.hash_split` of their stems.

Decision rule, written before the run (per-image Dice at 512 px of the network's own masks, threshold 0.5; paired
bootstrap intervals of per-image differences against the shipped default; JSRT is never used):
  clean     on the valid rows called visible (Kaggle copy): mean difference >= -0.001 and lower end >= -0.003.
  opacity   on the same valid images, each opacified by `lungseg.augment.opacify` (consolidation and effusion, severity
            0.6 and 0.9, fixed seeds): mean difference > 0 and lower end > 0.
  wingspan  on the Wingspan valid rows: mean difference >= 0.
  The stage replaces the default only if all three hold. Otherwise the default stays and the record says why.

    python experiments/robust_finetune.py KAGGLE_DIR WINGSPAN_DIR [--threads N]

Resumable (rerun the same command). Writes runs/robust/film/ and the small record to records/robust/film/.
"""
import json, argparse
from pathlib import Path
import pandas as pd, torch
from lungseg.data import manifest, atomic_write, pkg_path
from lungseg.train import train
from harness import record_run, wingspan_rows



if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('wingspan')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    df, _ = manifest(a.data, check=False)
    d = df.assign(split=df.split.where(df.convention == 'visible', 'held'))
    d = pd.concat([d, wingspan_rows(a.wingspan)], ignore_index=True)
    out, rec = Path('runs/robust/film'), Path('records/robust/film')
    if not (out/'lungseg.json').exists():
        meta = train(df=d, out=out, arch='plain8', size=384, epochs=4, lr=5e-4, loss='ce_dice', bs=8, quiet=True,
                     init=pkg_path()/'weights'/'lungseg.pth', aug='film', resume=(out/'config.json').exists())
        meta['lever'] = dict(name='robust_film', train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()),
                             wingspan_train=int(((d.source == 'Wingspan') & (d.split == 'train')).sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print('film', json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print('film', per.groupby('source').dice.mean().round(4).to_dict(), flush=True)

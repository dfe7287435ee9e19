"""The default, taught real films: a fine-tuning stage with synthetic framing and opacity, on the visible-convention
rows plus the Wingspan films.

  film   from the shipped default (lungseg/weights/lungseg.pth, plain8 at 384 px), 4 epochs of fit_one_cycle at 384 px,
         lr 5e-4, loss ce_dice, batch size 8, seed 42, aug 'film' (fastai's augmentation plus `lungseg.augment.FilmAug`:
         a random framing with probability 0.3 and a random opacity with probability 0.3, label unchanged under an
         opacity, lung painted over by a border removed from the label). Rows: the visible-convention rows of the
         Kaggle copy (anatomical rows held out, as for the default), plus the 259 Wingspan films (visible field) split by
         `lungseg.data.hash_split` of their stems.

  film_kd  (session 15, after `film` lost 0.0028 on clean films) the same stage, taught by the default as well: from the
         shipped default, 4 epochs at 384 px, lr 5e-4, loss ce_dice_soft, batch size 8, seed 42, aug 'film', the same
         rows; targets 0.5 x label + 0.5 x the shipped default's lung probability on the same augmented image, gated by
         the label (`lungseg.model.Distill(gate=True)`): where the default's call (probability >= 0.5) differs from the
         label, the label alone teaches. On a clean film the default keeps teaching its own soft borders (the stage
         that made it was a distillation); on an opacified lung it misses, the gate gives the label, and the lung is
         taught whole. The lever is the teacher; everything else is `film`'s.

Decision rule, written before the run (per-image Dice at 512 px of the network's own masks, threshold 0.5; paired
bootstrap intervals of per-image differences against the shipped default; JSRT is never used):
  clean     on the valid rows called visible (Kaggle copy): mean difference >= -0.001 and lower end >= -0.003.
  opacity   on the same valid images, each opacified by `lungseg.augment.opacify` (consolidation and effusion, severity
            0.6 and 0.9, fixed seeds): mean difference > 0 and lower end > 0.
  wingspan  on the Wingspan valid rows: mean difference >= 0.
  The stage replaces the default only if all three hold. Otherwise the default stays and the record says why.
  film_kd: the same three clauses against the shipped default, written before its run; it is judged alone (not
  against `film`).

    python experiments/robust_finetune.py KAGGLE_DIR WINGSPAN_DIR [--stage film|film_kd] [--threads N]

Resumable (rerun the same command). Writes runs/robust/<stage>/ and the small record to records/robust/<stage>/.
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
    p.add_argument('--stage', default='film', choices=['film', 'film_kd'])
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    df, _ = manifest(a.data, check=False)
    d = df.assign(split=df.split.where(df.convention == 'visible', 'held'))
    d = pd.concat([d, wingspan_rows(a.wingspan)], ignore_index=True)
    out, rec = Path('runs/robust')/a.stage, Path('records/robust')/a.stage
    default = pkg_path()/'weights'/'lungseg.pth'
    kd = dict(loss='ce_dice_soft', teachers=[default], alpha=0.5, gate=True) if a.stage == 'film_kd' else {}
    if not (out/'lungseg.json').exists():
        meta = train(df=d, out=out, arch='plain8', size=384, epochs=4, lr=5e-4, bs=8, quiet=True, init=default,
                     aug='film', resume=(out/'config.json').exists(), **({'loss': 'ce_dice'} | kd))
        meta['lever'] = dict(name=f'robust_{a.stage}', train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()),
                             wingspan_train=int(((d.source == 'Wingspan') & (d.split == 'train')).sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print(a.stage, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print(a.stage, per.groupby('source').dice.mean().round(4).to_dict(), flush=True)

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

  wise   (session 16, after `film` and `film_kd` each lost about 0.003 on clean films) weight-space ensembles of the
         shipped default and a fine-tuned end (WiSE-FT, Wortsman et al. 2022): the `film` stage trained again, the same
         settings on 2 threads, into runs/robust/wise_end; then for a in 0.25, 0.5 and 0.75 the weights
         (1 - a) x default + a x end (every float tensor, BatchNorm statistics included) are the candidates wise25,
         wise50 and wise75. Fine-tuning moves the weights only a little from the default, so the straight line between
         them stays in one basin; near the default it keeps the default's clean borders, and the end's opacity gain
         comes in with a. Each candidate is judged by the three clauses below against the shipped default. Among those
         for which all three hold, the one with the largest mean opacity gain replaces the default (a tie: the smaller a).
         If none holds, the default stays.

  soup   (session 17, after `wise50` shipped; written before the run) a uniform model soup of two fine-tuned ends
         (Wortsman et al. 2022, "Model soups"), blended with the replaced default as `wise` was. The `film` stage is
         trained once more with seed 43 (everything else as `wise_end`, from the same replaced default:
         runs/robust/default_before/lungseg.pth, SHA-256 4c1dcf5a...) into runs/robust/film_s43; the soup is the mean of
         its weights and wise_end's (every float tensor) in runs/robust/soup_end. Two runs from one start differ in
         their noise and share the signal the stage teaches, so their mean should keep the opacity gain and lose less of
         the clean films than either end. For a in 0.5, 0.75 and 1.0 the weights (1 - a) x replaced default + a x soup
         are the candidates soup50, soup75 and soup100. Each is judged by the three clauses below against the replaced
         default, as the `wise` blends were. Among all blends of both stages (wise25, wise50, wise75, soup50, soup75,
         soup100) for which all three clauses hold, the one with the largest mean opacity gain is the default; a tie
         keeps the shipped one (wise50), then the smaller a. If no soup wins, the default stays wise50.

  soup3  (session 17, after `soup`; written before the run) the same with a third end: the `film` stage trained once
         more with seed 44 from the replaced default into runs/robust/film_s44, and the mean of the three ends' weights
         (wise_end, film_s43, film_s44) in runs/robust/soup3_end. At a = 0.75 the two-end soup lost 0.0011 on clean
         films against 0.0015 for one end, so a third end should take the loss further down at the same opacity gain.
         Candidates soup3_75 and soup3_100 (a = 0.75, 1), judged by the same three clauses against the replaced
         default. Among all blends of the stages wise, soup and soup3 that pass all three, the one with the largest
         mean opacity gain is the default; a tie keeps the shipped one, then the smaller a.

Decision rule, written before the run (per-image Dice at 512 px of the network's own masks, threshold 0.5; paired
bootstrap intervals of per-image differences against the shipped default; JSRT is never used):
  clean     on the valid rows called visible (Kaggle copy): mean difference >= -0.001 and lower end >= -0.003.
  opacity   on the same valid images, each opacified by `lungseg.augment.opacify` (consolidation and effusion, severity
            0.6 and 0.9, fixed seeds): mean difference > 0 and lower end > 0.
  wingspan  on the Wingspan valid rows: mean difference >= 0.
  The stage replaces the default only if all three hold. Otherwise the default stays and the record says why.
  film_kd: the same three clauses against the shipped default, written before its run; it is judged alone (not
  against `film`).

    python experiments/robust_finetune.py KAGGLE_DIR WINGSPAN_DIR [--stage film|film_kd|wise|soup|soup3] [--threads N]

Resumable (rerun the same command). Writes runs/robust/<stage>/ and the small record to records/robust/<stage>/.
"""
import json, argparse, shutil
from pathlib import Path
import pandas as pd, torch
from lungseg.data import manifest, atomic_write, pkg_path
from lungseg.train import train
from lungseg.model import load_model
from harness import record_run, wingspan_rows, blend

WISE = (0.25, 0.5, 0.75)   # the weight of the fine-tuned end in each `wise` candidate
SOUP = (0.5, 0.75, 1.0)    # the weight of the soup of two ends in each `soup` candidate
SOUP3 = (0.75, 1.0)        # the weight of the soup of three ends in each `soup3` candidate
SEEDS = dict(soup=43, soup3=44)
REPLACED = Path('runs/robust/default_before/lungseg.pth')   # the default `wise50` replaced (SHA-256 4c1dcf5a...)



def record_blends(default, end, weights, prefix:str, out, d) -> None:
    "Blend `default` with `end` at each of `weights` into runs/robust/`prefix`<100 w>; record each on `d`'s valid rows"
    for w in weights:
        cand = f'{prefix}{round(100*w)}'
        c_out = Path('runs/robust')/cand
        if not (c_out/'lungseg.json').exists(): blend(default, end, w, c_out, f'robust_{prefix}{round(100*w)}')
        for f in ('history.csv', 'config.json'): shutil.copyfile(Path(out)/f, c_out/f)
        per = record_run(c_out, Path('records/robust')/cand, d)
        print(cand, per.groupby('source').dice.mean().round(4).to_dict(), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('wingspan')
    p.add_argument('--stage', default='film', choices=['film', 'film_kd', 'wise', 'soup', 'soup3'])
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    df, _ = manifest(a.data, check=False)
    d = df.assign(split=df.split.where(df.convention == 'visible', 'held'))
    d = pd.concat([d, wingspan_rows(a.wingspan)], ignore_index=True)
    name = dict(wise='wise_end', soup='film_s43', soup3='film_s44').get(a.stage, a.stage)
    out, rec = Path('runs/robust')/name, Path('records/robust')/name
    default = REPLACED if a.stage in SEEDS else pkg_path()/'weights'/'lungseg.pth'
    if a.stage in SEEDS: assert load_model(default)[1]['sha256'].startswith('4c1dcf5a'), 'not the replaced default'
    kd = dict(loss='ce_dice_soft', teachers=[default], alpha=0.5, gate=True) if a.stage == 'film_kd' else {}
    if not (out/'lungseg.json').exists():
        meta = train(df=d, out=out, arch='plain8', size=384, epochs=4, lr=5e-4, bs=8, quiet=True, init=default,
                     seed=SEEDS.get(a.stage, 42),
                     aug='film', resume=(out/'config.json').exists(), **({'loss': 'ce_dice'} | kd))
        meta['lever'] = dict(name=f'robust_{a.stage}', train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()),
                             wingspan_train=int(((d.source == 'Wingspan') & (d.split == 'train')).sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print(a.stage, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print(name, per.groupby('source').dice.mean().round(4).to_dict(), flush=True)
    if a.stage == 'soup':
        soup = Path('runs/robust/soup_end')
        if not (soup/'lungseg.json').exists():
            blend(Path('runs/robust/wise_end/lungseg.pth'), out/'lungseg.pth', 0.5, soup, 'robust_soup_end50')
        record_blends(default, soup/'lungseg.pth', SOUP, 'soup', out, d)
    if a.stage == 'soup3':
        soup3 = Path('runs/robust/soup3_end')   # (2/3) x the two-end soup + (1/3) x the third end: the mean of three
        if not (soup3/'lungseg.json').exists():
            blend(Path('runs/robust/soup_end/lungseg.pth'), out/'lungseg.pth', 1/3, soup3, 'robust_soup3_end33')
        record_blends(default, soup3/'lungseg.pth', SOUP3, 'soup3_', out, d)
    if a.stage == 'wise': record_blends(default, out/'lungseg.pth', WISE, 'wise', out, d)

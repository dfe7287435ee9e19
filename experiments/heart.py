"""A heart model beside the lung model: the default's network (plain8) fine-tuned to outline the cardiac silhouette.

  heart256  from the shipped default's weights (lungseg/weights/lungseg.pth: its encoder has seen chest films),
            10 epochs of fit_one_cycle at 256 px, lr 2e-3, loss ce_dice, batch size 8, seed 42, fastai's augmentation
            (no flip: the heart lies left of the midline). Rows: the Wingspan films (the only heart masks for training),
            split by `lungseg.data.hash_split` of their stems: train to train, valid to validate; test is held out.
  heart384  (session 15, written before its run) from heart256, 6 epochs at 384 px (the default's own size), lr 5e-4,
            otherwise the same. Rule: heart384 is the heart model to ship if the mean of its per-image differences from
            heart256 on Wingspan valid is at least 0; otherwise heart256 is. `--choose` applies it and writes
            records/heart/choice.json.

  heart384_s43, heart_soup  (session 17, written before the run) heart384's recipe again with seed 43 (from heart256,
            6 epochs at 384 px, lr 5e-4), and the uniform soup of the two runs' weights (every float tensor, BatchNorm
            statistics included; Wortsman et al. 2022): two runs from one start differ in their noise, and with 183
            training films that noise is large. Rule: heart_soup replaces the chosen stage if the mean of its per-image
            heart Dice differences from heart384 on Wingspan valid is at least 0. `--choose` applies both rules.

  heart384_s44, heart_soup3  (session 18, written before the run) heart384's recipe a third time with seed 44, and the
            uniform soup of the three runs' weights (heart_soup blended with heart384_s44 at 1/3). The lung soup of three
            ends lost less than that of two at the same weight, so a third run should average more of the noise away.
            Rule: heart_soup3 replaces heart_soup, when heart_soup is the chosen stage, if the mean of its per-image
            heart Dice differences from heart_soup on Wingspan valid is at least 0.

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run). The shipped heart model is
measured once on the Wingspan test fold and on JSRT/SCR by nbs/17_heart.ipynb and benchmarks/heart.py (the one
pipeline, `lungseg predict --heart`); records/heart/heart256/external.csv is the float heart256 graph's earlier record of
the same. No threshold, size or post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--stage heart256|heart384|heart384_s43|heart_soup|heart384_s44|heart_soup3] [--choose] [--threads N]

Resumable (rerun the same command). Writes runs/heart/<stage>/ and its small record to records/heart/<stage>/.
"""
import json, argparse, shutil
from pathlib import Path
import pandas as pd, torch
from lungseg.data import atomic_write, pkg_path
from lungseg.train import train
from harness import record_run, wingspan_rows, blend
STAGES = dict(heart256=dict(size=256, epochs=10, lr=2e-3, init=None),
              heart384=dict(size=384, epochs=6, lr=5e-4, init='heart256'),
              heart384_s43=dict(size=384, epochs=6, lr=5e-4, init='heart256', seed=43),
              heart384_s44=dict(size=384, epochs=6, lr=5e-4, init='heart256', seed=44))
SOUPS = dict(heart_soup=('runs/heart/heart384', 'runs/heart/heart384_s43', 0.5),   # (first, second, weight of second)
             heart_soup3=('runs/heart/heart_soup', 'runs/heart/heart384_s44', 1/3))


def choose(recs=Path('records/heart')) -> dict:
    "The rule between heart256 and heart384 on Wingspan valid, written to `recs`/choice.json"
    a, b = [pd.read_csv(recs/k/'valid_per_image.csv').set_index('stem').dice for k in ('heart256', 'heart384')]
    diff = (b - a.loc[b.index]).mean()
    out = dict(chosen='heart384' if diff >= 0 else 'heart256', mean_difference=round(float(diff), 5), n=len(b),
               rule='experiments/heart.py (docstring, written before the heart384 run)')
    if (recs/'heart_soup'/'valid_per_image.csv').exists():
        c = pd.read_csv(recs/'heart_soup'/'valid_per_image.csv').set_index('stem').dice
        soup_diff = (c - b.loc[c.index]).mean()
        out |= dict(soup_mean_difference=round(float(soup_diff), 5),
                    rule='experiments/heart.py (docstring: heart384 written before its run, heart_soup before its run)')
        if soup_diff >= 0: out['chosen'] = 'heart_soup'
    if out['chosen'] == 'heart_soup' and (recs/'heart_soup3'/'valid_per_image.csv').exists():
        c3 = pd.read_csv(recs/'heart_soup3'/'valid_per_image.csv').set_index('stem').dice
        soup3_diff = (c3 - c.loc[c3.index]).mean()
        out |= dict(soup3_mean_difference=round(float(soup3_diff), 5),
                    rule='experiments/heart.py (docstring: heart384, heart_soup and heart_soup3 each written before its run)')
        if soup3_diff >= 0: out['chosen'] = 'heart_soup3'
    (recs/'choice.json').write_text(json.dumps(out, indent=2))
    return out


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--stage', default='heart256', choices=list(STAGES) + list(SOUPS))
    p.add_argument('--choose', action='store_true', help='apply the rule between heart256 and heart384 (both recorded)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = wingspan_rows(a.wingspan, 'heart', '_heart', 'heart')
    if a.choose: raise SystemExit(print(json.dumps(choose(), indent=2)))
    out, rec = Path('runs/heart')/a.stage, Path('records/heart')/a.stage
    if a.stage in SOUPS:   # the mean of the runs' weights
        first, second, w = SOUPS[a.stage]
        if not (out/'lungseg.json').exists(): blend(f'{first}/lungseg.pth', f'{second}/lungseg.pth', w, out, a.stage)
        for f in ('history.csv', 'config.json'): shutil.copyfile(Path(second)/f, out/f)
    st = STAGES.get(a.stage, {})
    if not (out/'lungseg.json').exists():
        init = Path('runs/heart')/st['init']/'lungseg.pth' if st['init'] else pkg_path()/'weights'/'lungseg.pth'
        meta = train(df=d, out=out, arch='plain8', size=st['size'], epochs=st['epochs'], lr=st['lr'], loss='ce_dice',
                     bs=8, quiet=True, init=init, resume=(out/'config.json').exists(), seed=st.get('seed', 42))
        meta['structure'] = 'heart'
        meta['lever'] = dict(name=a.stage, train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print(a.stage, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print(a.stage, 'valid', per.dice.describe().round(4).to_dict(), flush=True)

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

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run). The shipped heart model is
measured once on the Wingspan test fold and on JSRT/SCR by nbs/17_heart.ipynb and benchmarks/heart.py (the one
pipeline, `lungseg predict --heart`); records/heart/heart256/external.csv is the float heart256 graph's earlier record of
the same. No threshold, size or post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--stage heart256|heart384|heart384_s43|heart_soup] [--choose] [--threads N]

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
              heart384_s43=dict(size=384, epochs=6, lr=5e-4, init='heart256', seed=43))


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
    (recs/'choice.json').write_text(json.dumps(out, indent=2))
    return out


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--stage', default='heart256', choices=list(STAGES) + ['heart_soup'])
    p.add_argument('--choose', action='store_true', help='apply the rule between heart256 and heart384 (both recorded)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = wingspan_rows(a.wingspan, 'heart', '_heart', 'heart')
    if a.choose: raise SystemExit(print(json.dumps(choose(), indent=2)))
    out, rec = Path('runs/heart')/a.stage, Path('records/heart')/a.stage
    if a.stage == 'heart_soup':
        if not (out/'lungseg.json').exists():   # the mean of the two runs' weights
            blend('runs/heart/heart384/lungseg.pth', 'runs/heart/heart384_s43/lungseg.pth', 0.5, out, 'heart_soup')
        for f in ('history.csv', 'config.json'): shutil.copyfile(Path('runs/heart/heart384_s43')/f, out/f)
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

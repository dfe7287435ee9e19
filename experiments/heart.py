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

  heart_pseudo  (session 19, written before the run) more heart outlines, from films lungseg already trains on:
            the shipped heart pipeline (heart_soup's int8 graph and its post-processing; `lungseg predict --heart`)
            outlines the heart on every Kaggle train-split film (Shenzhen and Montgomery; never a valid or test film).
            Each film that the pipeline accepts as given (not rejected, turned or inverted) and gives a heart becomes a
            training row with that mask as its label: pseudo-labels, the student taught by its teacher (Xie et al.
            2020). From heart_soup's weights, 4 epochs at 384 px, lr 5e-4, loss ce_dice, batch size 8, seed 42,
            fastai's augmentation, on the Wingspan train rows and the pseudo-labelled rows. Why: three runs of one
            recipe on 183 outlines did not average the heart's error away (heart_soup3), and the Kaggle films are the
            tight, digitised PA films that users bring and that no heart outline in training shows. Rule:
            heart_pseudo replaces heart_soup, when heart_soup is the chosen stage, if the mean of its per-image heart
            Dice differences from heart_soup on Wingspan valid is at least 0.

  heart_pseudo2, heart_pseudo_soup  (session 20, written before the run) a second round of pseudo-labels, on more films.
            The shipped heart pipeline (now heart_pseudo's int8 graph) outlines the heart again on every Kaggle
            train-split film and on the 96 Kaggle films that have no lung mask (split '': in no lung split, so no lung
            valid or test film). From heart_pseudo's weights, 4 epochs at 384 px, lr 5e-4, loss ce_dice, batch size 8,
            seed 43, fastai's augmentation, on the Wingspan train rows and these pseudo-labelled rows. heart_pseudo_soup
            is the uniform soup of heart_pseudo and heart_pseudo2. Why: the first round gained +0.0024 on valid, a
            student taught again by the better teacher on more films may gain again, and a second seed's run averaged
            with the first removes part of each run's noise. Rule: heart_pseudo2 replaces heart_pseudo, when
            heart_pseudo is the chosen stage, if the mean of its per-image heart Dice differences from heart_pseudo on
            Wingspan valid is at least 0; then heart_pseudo_soup replaces the chosen one of the two if the mean of its
            differences from it is at least 0.

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run). The shipped heart model is
measured once on the Wingspan test fold and on JSRT/SCR by nbs/17_heart.ipynb and benchmarks/heart.py (the one
pipeline, `lungseg predict --heart`); records/heart/heart256/external.csv is the float heart256 graph's earlier record of
the same. No threshold, size or post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--stage heart256|...|heart_pseudo_soup] [--choose] [--threads N]

Resumable (rerun the same command). Writes runs/heart/<stage>/ and its small record to records/heart/<stage>/.
"""
import json, argparse, shutil
from pathlib import Path
import pandas as pd, torch
from PIL import Image
from lungseg.data import atomic_write, pkg_path, manifest, data_path, sha256
from lungseg.pipeline import load_net, settings_of, run_many, onnx_path, heart_weights
from lungseg.train import train
from harness import record_run, wingspan_rows, blend
STAGES = dict(heart256=dict(size=256, epochs=10, lr=2e-3, init=None),
              heart384=dict(size=384, epochs=6, lr=5e-4, init='heart256'),
              heart384_s43=dict(size=384, epochs=6, lr=5e-4, init='heart256', seed=43),
              heart384_s44=dict(size=384, epochs=6, lr=5e-4, init='heart256', seed=44),
              heart_pseudo=dict(size=384, epochs=4, lr=5e-4, init='heart_soup', pseudo=True),
              heart_pseudo2=dict(size=384, epochs=4, lr=5e-4, init='heart_pseudo', pseudo=True, unmasked=True, seed=43))
SOUPS = dict(heart_soup=('runs/heart/heart384', 'runs/heart/heart384_s43', 0.5),   # (first, second, weight of second)
             heart_soup3=('runs/heart/heart_soup', 'runs/heart/heart384_s44', 1/3),
             heart_pseudo_soup=('runs/heart/heart_pseudo', 'runs/heart/heart_pseudo2', 0.5))


# (candidate, the stages it may replace, the key of its mean difference), in the order the rules were written; a
# candidate is judged against the chosen stage when that is one of its stages, else against the first of them
CHAIN = [('heart384', ('heart256',), 'mean_difference'), ('heart_soup', ('heart384',), 'soup_mean_difference'),
         ('heart_soup3', ('heart_soup',), 'soup3_mean_difference'),
         ('heart_pseudo', ('heart_soup',), 'pseudo_mean_difference'),
         ('heart_pseudo2', ('heart_pseudo',), 'pseudo2_mean_difference'),
         ('heart_pseudo_soup', ('heart_pseudo', 'heart_pseudo2'), 'pseudo_soup_mean_difference')]


def choose(recs=Path('records/heart')) -> dict:
    "Each recorded rule of the docstring in turn: a candidate replaces the chosen stage it was judged against"
    dice = lambda k: pd.read_csv(recs/k/'valid_per_image.csv').set_index('stem').dice
    out, done = dict(chosen='heart256'), ['heart256']
    for cand, stages, key in CHAIN:
        if not (recs/cand/'valid_per_image.csv').exists(): continue
        against = out['chosen'] if out['chosen'] in stages else stages[0]
        c, b = dice(cand), dice(against)
        diff = (c - b.loc[c.index]).mean()
        out[key] = round(float(diff), 5)
        out.setdefault('n', len(c))
        done.append(cand)
        if out['chosen'] == against and diff >= 0: out['chosen'] = cand
    out['rule'] = f"experiments/heart.py (docstring: {', '.join(done[1:])} each written before its run)"
    (recs/'choice.json').write_text(json.dumps(out, indent=2))
    return out


def pseudo_label(df:pd.DataFrame, out:Path, threads:int=1) -> dict:
    "Write the shipped heart pipeline's mask of each film of `df` to `out`; {stem: why} of the films it gives none"
    net, meta = load_net(threads=threads)
    skipped = {}
    for (_, r), (_, res) in zip(df.iterrows(), run_many(df.image_path.tolist(), net, settings_of(meta, heart=True))):
        why = 'rejected' if res.rejected else 'turned or inverted' if res.rotation or res.inverted else \
              'no heart' if res.heart is None or not res.heart.any() else None
        png = lambda t: Image.fromarray(res.heart.astype('uint8')*255).save(t, format='png')
        if why: skipped[r.stem] = why
        else: atomic_write(out/f'{r.stem}_heart.png', png)
    return skipped


def pseudo_rows(data, out:Path, threads:int=1, unmasked:bool=False) -> pd.DataFrame:
    "Train rows of the Kaggle train-split films (and `unmasked` ones) labelled by the shipped heart pipeline, once"
    df = manifest(data, check=False)[0].query("split == 'train'" + (" or split == ''" if unmasked else ''))
    df = df.reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    if not (out/'pseudo.json').exists():
        skipped = pseudo_label(df, out, threads)
        rec = dict(films=len(df), labelled=len(df) - len(skipped), skipped=skipped,
                   teacher_sha256=sha256(heart_weights()), lungs_sha256=sha256(onnx_path()))
        atomic_write(out/'pseudo.json', lambda t: Path(t).write_text(json.dumps(rec, indent=2)))
    skipped = json.loads((out/'pseudo.json').read_text())['skipped']
    d = df[~df.stem.isin(skipped)]
    return pd.DataFrame(dict(stem=d.stem, source=d.source + ' (pseudo-labelled)', image_path=d.image_path,
                             mask_path=[str(out/f'{s}_heart.png') for s in d.stem], split='train',
                             convention='visible', tb=pd.NA))


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--stage', default='heart256', choices=list(STAGES) + list(SOUPS))
    p.add_argument('--choose', action='store_true', help='apply the rules of the docstring to the recorded stages')
    p.add_argument('--data', default=None, help='the Kaggle folder (default: LUNGSEG_DATA), for pseudo-labels')
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
    if st.get('pseudo'):   # the Kaggle train films, labelled by the shipped heart pipeline (LUNGSEG_DATA or --data)
        d = pd.concat([d, pseudo_rows(data_path(a.data), out/'pseudo', a.threads, st.get('unmasked', False))],
                      ignore_index=True)
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
    if st.get('pseudo'): shutil.copyfile(out/'pseudo'/'pseudo.json', rec/'pseudo.json')
    print(a.stage, 'valid', per.dice.describe().round(4).to_dict(), flush=True)

"""A heart model beside the lung model: the default's network (plain8) fine-tuned to outline the cardiac silhouette.

  heart256  from the shipped default's weights (lungseg/weights/lungseg.pth: its encoder has seen chest films),
            10 epochs of fit_one_cycle at 256 px, lr 2e-3, loss ce_dice, batch size 8, seed 42, fastai's augmentation
            (no flip: the heart lies left of the midline). Rows: the Wingspan films (the only heart masks for training),
            split by `lungseg.data.hash_split` of their stems: train to train, valid to validate; test is held out.
  heart384  (session 15, written before its run) from heart256, 6 epochs at 384 px (the default's own size), lr 5e-4,
            otherwise the same. Rule: heart384 is the heart model to ship if the mean of its per-image differences from
            heart256 on Wingspan valid is at least 0; otherwise heart256 is. `--choose` applies it and writes
            records/heart/choice.json.

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run) and, once, on the
Wingspan test fold and on JSRT/SCR (external; the error analysis of the heart reads them). No threshold, size or
post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--stage heart256|heart384] [--choose] [--external JSRT_DIR] [--threads N]

With --external, once the run is recorded: per-image heart Dice (the one pipeline: framing, input check, threshold 0.5,
no post-processing) on the Wingspan test fold and on JSRT/SCR, and the CTR (`lungseg.measure.ctr`, lungs from the
shipped default, right/left by `lungseg.masks.lr_labels`) against Wingspan's reference CTRs and against the CTR of the
JSRT ground-truth masks; written to records/heart/<stage>/external.csv and printed.

Resumable (rerun the same command). Writes runs/heart/<stage>/ and its small record to records/heart/<stage>/.
"""
import json, argparse
from pathlib import Path
import pandas as pd, torch
from lungseg.data import atomic_write, pkg_path
from lungseg.train import train
from harness import record_run, wingspan_rows
STAGES = dict(heart256=dict(size=256, epochs=10, lr=2e-3, init=None), heart384=dict(size=384, epochs=6, lr=5e-4,
                                                                                     init='heart256'))


def choose(recs=Path('records/heart')) -> dict:
    "The rule between heart256 and heart384 on Wingspan valid, written to `recs`/choice.json"
    a, b = [pd.read_csv(recs/k/'valid_per_image.csv').set_index('stem').dice for k in ('heart256', 'heart384')]
    diff = (b - a.loc[b.index]).mean()
    out = dict(chosen='heart384' if diff >= 0 else 'heart256', mean_difference=round(float(diff), 5), n=len(b),
               rule='experiments/heart.py (docstring, written before the heart384 run)')
    (recs/'choice.json').write_text(json.dumps(out, indent=2))
    return out


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--external', default=None, help='JSRT/SCR folder: measure once on it and on the Wingspan test fold')
    p.add_argument('--stage', default='heart256', choices=list(STAGES))
    p.add_argument('--choose', action='store_true', help='apply the rule between heart256 and heart384 (both recorded)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = wingspan_rows(a.wingspan, 'heart', '_heart', 'heart')
    if a.choose: raise SystemExit(print(json.dumps(choose(), indent=2)))
    st = STAGES[a.stage]
    out, rec = Path('runs/heart')/a.stage, Path('records/heart')/a.stage
    if not (out/'lungseg.json').exists():
        init = Path('runs/heart')/st['init']/'lungseg.pth' if st['init'] else pkg_path()/'weights'/'lungseg.pth'
        meta = train(df=d, out=out, arch='plain8', size=st['size'], epochs=st['epochs'], lr=st['lr'], loss='ce_dice',
                     bs=8, quiet=True, init=init, resume=(out/'config.json').exists())
        meta['structure'] = 'heart'
        meta['lever'] = dict(name=a.stage, train_rows=int((d.split == 'train').sum()),
                             valid_rows=int((d.split == 'valid').sum()))
        atomic_write(out/'lungseg.json', lambda t: t.write_text(json.dumps(meta, indent=2, default=str)))
        print(a.stage, json.dumps({k: meta[k] for k in ('valid_dice', 'train_seconds', 'hardware')}), flush=True)
    per = record_run(out, rec, d)
    print(a.stage, 'valid', per.dice.describe().round(4).to_dict(), flush=True)
    if a.external:
        from lungseg.data import read_mask
        from lungseg.pipeline import load_net, settings_of, run_many
        from lungseg.evaluate import dice_score, bootstrap_ci
        from lungseg.masks import lr_labels
        from lungseg.measure import ctr, agreement
        hnet, hmeta = load_net(out/'lungseg.onnx')
        lnet, lmeta = load_net()
        ext = Path(a.external)
        jsrt = sorted((ext/'images').glob('*.png'))
        wt = d[d.split == 'test']
        sets = dict(wingspan_test=(wt.image_path.tolist(), wt.mask_path.tolist()),
                    jsrt=([str(f) for f in jsrt], [str(ext/'heart'/f'{f.stem}_heart.png') for f in jsrt]))
        ref = pd.read_csv(Path(a.wingspan)/'ctr.csv')
        ref = dict(zip(ref['id'].map(lambda x: Path(str(x)).stem), ref.iloc[:, 1]))
        rows = []
        for name, (files, masks) in sets.items():
            hs = run_many(files, hnet, settings_of(hmeta, postprocess=None, threshold=0.5))
            ls = run_many(files, lnet, settings_of(lmeta))
            for f, g, (_, h), (_, lg) in zip(files, masks, hs, ls):
                gt = read_mask(g)
                lab = lr_labels(lg.mask)
                truth = ctr(lr_labels(read_mask(ext/'masks'/f'{Path(f).stem}_mask.png')), gt) if name == 'jsrt' else \
                    ref.get(Path(f).stem)
                rows.append(dict(set=name, stem=Path(f).stem, dice=dice_score(h.mask, gt), ctr=ctr(lab, h.mask),
                                 ctr_ref=truth, rejected=bool(h.rejected)))
        per = pd.DataFrame(rows)
        per.round(6).to_csv(rec/'external.csv', index=False)
        for name, g in per.groupby('set', sort=False):
            m, lo, hi = bootstrap_ci(g.dice)
            ok = g.dropna(subset=['ctr', 'ctr_ref'])
            agr = agreement(ok.ctr.to_numpy(float), ok.ctr_ref.to_numpy(float)) if len(ok) > 2 else {}
            stats = ', '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}' for k, v in agr.items())
            print(f"{name}: heart Dice {m:.4f} [{lo:.4f}, {hi:.4f}], p5 {g.dice.quantile(0.05):.4f}, n {len(g)}, "
                  f"rejected {int(g.rejected.sum())}; CTR against its reference (n {len(ok)}): {stats}", flush=True)

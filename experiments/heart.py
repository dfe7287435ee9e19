"""A heart model beside the lung model: the default's network (plain8) fine-tuned to outline the cardiac silhouette.

  heart256  from the shipped default's weights (lungseg/weights/lungseg.pth: its encoder has seen chest films),
            10 epochs of fit_one_cycle at 256 px, lr 2e-3, loss ce_dice, batch size 8, seed 42, fastai's augmentation
            (no flip: the heart lies left of the midline). Rows: the Wingspan films (the only heart masks for training),
            split by `lungseg.data.hash_split` of their stems: train to train, valid to validate; test is held out.

Measured, not chosen: per-image heart Dice at 512 px on Wingspan valid (recorded by the run) and, once, on the
Wingspan test fold and on JSRT/SCR (external; the error analysis of the heart reads them). No threshold, size or
post-processing is chosen on test or JSRT.

    python experiments/heart.py WINGSPAN_DIR [--external JSRT_DIR] [--threads N]

With --external, once the run is recorded: per-image heart Dice (the one pipeline: framing, input check, threshold 0.5,
no post-processing) on the Wingspan test fold and on JSRT/SCR, and the CTR (`lungseg.measure.ctr`, lungs from the
shipped default, right/left by `lungseg.masks.lr_labels`) against Wingspan's reference CTRs and against the CTR of the
JSRT ground-truth masks; written to records/heart/heart256/external.csv and printed.

Resumable (rerun the same command). Writes runs/heart/heart256/ and its small record to records/heart/heart256/.
"""
import json, argparse
from pathlib import Path
import pandas as pd, torch
from lungseg.data import atomic_write, pkg_path
from lungseg.train import train
from harness import record_run, wingspan_rows



if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--external', default=None, help='JSRT/SCR folder: measure once on it and on the Wingspan test fold')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (the record names them)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = wingspan_rows(a.wingspan, 'heart', '_heart', 'heart')
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

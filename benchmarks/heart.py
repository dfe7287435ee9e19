"""The heart and CTR targets of issue 37, beside a baseline from the same run. Prints numbers; not a test.

    .venv/bin/python benchmarks/heart.py WINGSPAN_DIR JSRT_DIR

1. Heart Dice of `lungseg predict --heart`'s masks (the one pipeline, the shipped int8 heart model) on the Wingspan
   test fold (`lungseg.data.hash_split`) and on JSRT/SCR (external): mean and 5th percentile. Targets on JSRT: mean
   >= 0.93, p5 >= 0.85.
2. CTR (`lungseg.measure.measure`, lungs by the default) against the Wingspan authors' CTR and against the CTR of the
   JSRT ground-truth masks: bias, 95 % limits of agreement, ICC(2,1), kappa at 0.5. Targets: |bias| <= 0.01, limits
   within +-0.04, ICC >= 0.95, kappa >= 0.85. Baseline: the same function on the ground-truth lungs and heart against
   the same references (what the CTR definition itself allows), in the same run.
"""
import argparse
from pathlib import Path
import pandas as pd
from lungseg.data import read_mask, hash_split
from lungseg.pipeline import load_net, settings_of, run_many
from lungseg.evaluate import dice_score
from lungseg.masks import lr_labels
from lungseg.measure import ctr, measure, agreement
from lungseg.train import hardware


def films(wdir:Path, jdir:Path) -> dict:
    "{set: (images, heart masks, lung masks, reference CTRs)}: the Wingspan test fold and JSRT"
    ref = pd.read_csv(wdir/'ctr.csv')
    ref = dict(zip(ref['id'].map(lambda x: Path(str(x)).stem), ref['ctr']))
    wt = [f for f in sorted((wdir/'images').glob('*.png')) if hash_split(f.stem) == 'test']
    js = sorted((jdir/'images').glob('*.png'))
    return {'wingspan-test': (wt, [wdir/'heart'/f'{f.stem}_heart.png' for f in wt],
                              [wdir/'masks'/f'{f.stem}_mask.png' for f in wt], [ref.get(f.stem) for f in wt]),
            'jsrt': (js, [jdir/'heart'/f'{f.stem}_heart.png' for f in js],
                     [jdir/'masks'/f'{f.stem}_mask.png' for f in js], None)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('wingspan'); ap.add_argument('jsrt')
    a = ap.parse_args()
    net, meta = load_net()
    print(f"hardware: {hardware()}")
    for name, (imgs, hearts, lungs, refs) in films(Path(a.wingspan), Path(a.jsrt)).items():
        rows = []
        for f, h, l, r, (_, res) in zip(imgs, hearts, lungs, refs or [None]*len(imgs),
                                        run_many(imgs, net, settings_of(meta, heart=True))):
            gt_h, gt_l = read_mask(h), lr_labels(read_mask(l))
            gt_ctr = ctr(gt_l, gt_h)
            rows.append(dict(dice=dice_score(res.heart, gt_h) if res.heart is not None else 0.,
                             ctr=None if res.rejected else measure(res)['ctr'], gt_ctr=gt_ctr,
                             ref=gt_ctr if refs is None else r))
        d = pd.DataFrame(rows)
        print(f"1. {name}: heart Dice {d.dice.mean():.4f} (target 0.93), p5 {d.dice.quantile(0.05):.4f} (target 0.85), "
              f"{len(d)} films")
        ok = d.dropna(subset=['ctr', 'ref'])
        for label, x in (('lungseg', ok.ctr), ('baseline: ground-truth masks', ok.gt_ctr)):
            if label.startswith('baseline') and refs is None: continue   # on JSRT the reference is that CTR itself
            g = agreement(x.to_numpy(float), ok.ref.to_numpy(float))
            print(f"2. {name}, CTR of {label} against the reference ({g['n']} films): bias {g['bias']:+.4f} "
                  f"(|target| 0.01), limits {g['loa_lo']:+.4f} to {g['loa_hi']:+.4f} (target +-0.04), "
                  f"ICC {g['icc']:.3f} (0.95), kappa {g['kappa']:.3f} (0.85)")


if __name__ == '__main__': main()

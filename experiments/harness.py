"""The experiment harness: what the training-experiments notebook and the scripts in experiments/ share.

`run_experiment` trains one configuration on the train split (`lungseg.train.train`) and scores it on the valid split
with the reported metric: per-image mean Dice at 512×512, through the one pipeline. `record_run` keeps the small record
of a finished run (JSON, history, config, per-image valid metrics) in a `records` folder that is committed, so a rerun
on a fresh clone reuses finished runs instead of training again; every experiment script calls it, so every record
holds the same files, scored the same way (the pipeline's undecided settings: a run's JSON has no `pipeline` block yet).
`run_summary` reads a record back as one row of a table. `repeat_rows` gives one source's train rows more weight.

Scripts in this folder import it as `from harness import ...` (Python puts a script's folder on its path); a notebook
in nbs/ puts this folder on `sys.path` first.
"""
from __future__ import annotations
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd
from fastai.torch_core import rank_distrib, distrib_barrier
from lungseg.data import hash_split
from lungseg.evaluate import evaluate_model
from lungseg.model import load_model, save_model, torch_net, TORCH_WEIGHTS
from lungseg.train import train

__all__ = ['EXPERIMENTS', 'repeat_rows', 'run_summary', 'record_run', 'run_experiment', 'blend']

EXPERIMENTS = [  # the encoder table and the loss ablation: 128 px, 5 epochs, same split and schedule
    dict(name='plain8_ce_dice',   arch='plain8',   loss='ce_dice', lr=3e-3),
    dict(name='plain8_ce',        arch='plain8',   loss='ce',      lr=3e-3),
    dict(name='res8_ce_dice',     arch='res8',     loss='ce_dice', lr=3e-3),
    dict(name='vanilla_bce',      arch='vanilla',  loss='ce',      lr=1e-3),  # the seed's U-Net: BCE, Adam
    dict(name='effl0s_ce_dice',   arch='effl0s',   loss='ce_dice', lr=3e-3),  # ImageNet EfficientNet-Lite0 body
    dict(name='effl0s_mc3',       arch='effl0s',   loss='ce_dice', lr=3e-3, mc_repeats=3),  # Montgomery's train rows x3
]


def repeat_rows(df:pd.DataFrame, source:str, k:int=1) -> pd.DataFrame:
    "`df` with its train rows of `source` repeated `k` times in all: a per-source weight (valid and test rows once)"
    extra = df[(df.source == source) & (df.split == 'train')]
    return pd.concat([df] + [extra]*(k - 1), ignore_index=True)


def run_summary(name:str, rec) -> dict:
    "One row for the experiment table from the record folder `rec` of a finished run (JSON, per-image valid metrics)"
    meta = json.loads((Path(rec)/'lungseg.json').read_text())
    per = pd.read_csv(Path(rec)/'valid_per_image.csv')
    return dict(name=name, arch=meta['arch'], loss=meta['loss'], size=meta['size'], epochs=meta['epochs'],
                lr=meta['lr'], n_params=meta['n_params'], weights_MB=round(meta['size_bytes']/1e6, 2),
                train_minutes=round(meta['train_seconds']/60, 1), valid_dice_pooled=round(meta['valid_dice'], 4),
                valid_dice=round(float(per.dice.mean()), 4),
                valid_hd95=round(float(per.hd95[np.isfinite(per.hd95)].median()), 2), hardware=meta['hardware'])


def record_run(out, rec, df:pd.DataFrame) -> pd.DataFrame:
    "Copy the record of the finished run in `out` to `rec`, with its per-image valid metrics at 512 px (computed once)"
    out, rec = Path(out), Path(rec)
    rec.mkdir(parents=True, exist_ok=True)
    if not (out/'valid_per_image.csv').exists():
        m, meta = load_model(out/TORCH_WEIGHTS)
        evaluate_model(torch_net(m), meta, df, 'valid').round(6).to_csv(out/'valid_per_image.csv', index=False)
    for f in ('lungseg.json', 'history.csv', 'config.json', 'valid_per_image.csv'):
        shutil.copyfile(out/f, rec/f)
    return pd.read_csv(rec/'valid_per_image.csv')


def run_experiment(name:str, df:pd.DataFrame, root='runs/exp', records=None, size:int=128, epochs:int=5, bs:int=8,
                   mc_repeats:int=1, **kw) -> dict:
    "Train configuration `name` in `root`/`name` unless `records`/`name` holds its record; return its summary row"
    out, rec = Path(root)/name, Path(records or root)/name
    if not (rec/'valid_per_image.csv').exists():   # `kw` go to `train` (`arch`, `loss`, `lr`, `device`, ...)
        train(df=repeat_rows(df, 'Montgomery', mc_repeats), out=out, size=size, epochs=epochs, bs=bs, quiet=True, **kw)
        if not rank_distrib(): record_run(out, rec, df)   # the first process records
        distrib_barrier()
    return run_summary(name, rec)


def wingspan_rows(folder, masks:str='masks', suffix:str='_mask', convention:str='visible') -> pd.DataFrame:
    "Manifest rows of the Wingspan films in `folder` (images/, `masks`/<stem>`suffix`.png), split by stem hash"
    folder = Path(folder)
    rows = [dict(stem=f.stem, source='Wingspan', image_path=str(f), mask_path=str(folder/masks/f'{f.stem}{suffix}.png'),
                 split=hash_split(f.stem), convention=convention, tb=pd.NA)
            for f in sorted((folder/'images').glob('*.png'))]
    missing = [r['mask_path'] for r in rows if not Path(r['mask_path']).exists()]
    if missing: raise SystemExit(f"{missing[0]}: Wingspan mask missing ({len(missing)} in all)")
    return pd.DataFrame(rows)


def blend(default, end, a:float, out, name:str) -> dict:
    "Save (1 - `a`) x weights `default` + `a` x weights `end` to `out`/lungseg.pth (+ JSON, ONNX), its lever `name`"
    (m0, _), (m1, meta) = load_model(default), load_model(end)
    s0, s1 = m0.state_dict(), m1.state_dict()
    m1.load_state_dict({k: (1 - a)*s0[k] + a*v if v.is_floating_point() else v for k, v in s1.items()})
    lever = meta['lever'] | dict(name=name, blend=a, default=str(default), end=str(end))
    return save_model(m1, Path(out)/'lungseg.pth', meta | dict(lever=lever))

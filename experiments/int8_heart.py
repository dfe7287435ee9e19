"""Ship the heart model: the int8 copy of the heart run that records/heart/choice.json names, as lungseg/weights/heart.onnx.

The default ships as an int8 graph (experiments/int8_default.py, variant `float_ends`: MinMax calibration, per-channel
int8 weights, the input standardisation and the last block kept in float); the heart network has the default's form
(plain8), so it is quantized the same way, by `lungseg.model.quantize_onnx`. int8 is not optional here: the float graph
of plain8 is ~6 MB and every ONNX in the wheel together must stay within 10 MB (tests/test_predict.py asserts it).

    python experiments/int8_heart.py WINGSPAN_DIR [--runs runs/heart] [--data KAGGLE_DIR]

Steps, all by code:
  1. the chosen stage from records/heart/choice.json (the rule in experiments/heart.py); its run in RUNS/<stage>/ must be
     the recorded one (the SHA-256 of its torch weights and float ONNX equal those in records/heart/<stage>/lungseg.json)
  2. calibration: the first N_CALIB Wingspan train images by stem (`harness.wingspan_rows`; never valid, test or JSRT)
  3. the pipeline's heart masks on Wingspan valid with the float and the int8 graph (`evaluate_model`, the heart run's
     settings: threshold 0.5, no post-processing), per image at 512 px, and the paired int8 - float Dice difference
     with a bootstrap interval; whether it meets the default's int8 rule is recorded, not used to decide (int8 is needed
     for the size)
  4. lungseg/weights/heart.onnx and heart.json (the run's metadata, `structure: heart`, where it came from, the
     `quantization` block as the default's JSON has it); records/heart/int8/ keeps the per-image Dice and the summary

Calibration variants (session 20, written before their run). The first int8 graph of heart_pseudo lost most of its gain
over heart_soup on valid (-0.0018 against its float graph; the default's int8 graph lost +0.0000), so the calibration is
now chosen, by the same nodes kept in float (`float_ends`) and so the same size. Each variant is measured as in step 3:
  wing64      MinMax on the first 64 Wingspan train images by stem (steps 1-4 above)
  wing_all    MinMax on every Wingspan train image
  mixed128    MinMax on those 64 and the first 64 Kaggle train-split films by stem (the films users bring; never a
              valid or test film); needs the Kaggle folder (--data or LUNGSEG_DATA)
  percentile  percentile calibration (99.999 %) on the first 64 Wingspan train images
  entropy     entropy calibration on the first 64 Wingspan train images
Rule: the variant with the highest mean per-image heart Dice on Wingspan valid ships (a tie: the first listed). A
variant that onnxruntime's calibrator cannot make is recorded as failed, with its error (added after the first run:
the percentile calibration's histogram of a constant tensor raised "Too many bins for data range").
records/heart/int8/variants.json keeps every variant's summary and valid_per_image.csv every variant's Dice.
"""
import json, argparse, shutil, time
from pathlib import Path
import onnx, pandas as pd
from lungseg.data import atomic_write, sha256, manifest, data_path
from lungseg.inputcheck import OnnxNet
from lungseg.pipeline import load_image, heart_weights
from lungseg.model import quantize_onnx
from lungseg.evaluate import evaluate_model, bootstrap_ci
from lungseg.train import hardware
from harness import wingspan_rows

N_CALIB, RECS = 64, Path('records/heart')
FORMAT = 'onnxruntime static quantization: QDQ, per-channel int8 weights, uint8 activations'
LICENCE = ('CC BY-NC-SA 4.0: fine-tuned from the default lung weights (Shenzhen masks, CC BY-NC-SA 4.0) on the '
           'Wingspan heart masks (MIT)')
PSEUDO = (' and on Kaggle films (Shenzhen, Montgomery; never a lung valid or test film) with heart masks drawn by an '
          'earlier heart model')
# name: (calibration method, images: 'wing' the first 64 Wingspan train, 'wing_all' all, 'mixed' + 64 Kaggle train)
VARIANTS = dict(wing64=('minmax', 'wing'), wing_all=('minmax', 'wing_all'), mixed128=('minmax', 'mixed'),
                percentile=('percentile', 'wing'), entropy=('entropy', 'wing'))
CALIB_TEXT = dict(wing=f'the first {N_CALIB} Wingspan train images by stem', wing_all='every Wingspan train image',
                  mixed=f'the first {N_CALIB} Wingspan train images and the first {N_CALIB} Kaggle train-split films '
                        'by stem')


def licence(stage:str) -> str:
    "The licence line of heart stage `stage` (the pseudo-labelled stages also learned from Kaggle films)"
    return LICENCE + (PSEUDO if stage.startswith('heart_pseudo') else '')


def calibration_images(d:pd.DataFrame, which:str, data=None) -> list:
    "Paths of the calibration images `which` (a `VARIANTS` key's second part): Wingspan train, + Kaggle train films"
    wing = d[d.split == 'train'].sort_values('stem').image_path.tolist()
    if which == 'wing_all': return wing
    if which == 'wing': return wing[:N_CALIB]
    kag = manifest(data_path(data), check=False)[0].query("split == 'train'").sort_values('stem')
    return wing[:N_CALIB] + kag.image_path.head(N_CALIB).tolist()


def float_ends(fn) -> list:
    "Names of the nodes before the first Conv and from the last block's first Conv on (experiments/int8_default.py's)"
    ns = onnx.load(str(fn)).graph.node
    convs = [i for i, n in enumerate(ns) if n.op_type == 'Conv']
    return [n.name for n in ns[:convs[0]]] + [n.name for n in ns[convs[-3]:]]


def checked_run(runs:Path, stage:str) -> dict:
    "Metadata of the run of `stage` in `runs`, after checking it is the recorded run (weights and float graph)"
    rec, meta = json.loads((RECS/stage/'lungseg.json').read_text()), json.loads((runs/stage/'lungseg.json').read_text())
    for k, f in (('sha256', 'lungseg.pth'), ('onnx_sha256', 'lungseg.onnx')):
        if sha256(runs/stage/f) != rec[k]: raise SystemExit(f"{runs/stage/f}: not the run recorded in {RECS/stage}")
    return meta


def valid_dice(src, q, meta, d) -> pd.DataFrame:
    "Per-image heart Dice on Wingspan valid of float graph `src` and int8 graph `q`"
    per = evaluate_model(OnnxNet(src), meta, d, 'valid')[['stem', 'dice']].rename(columns={'dice': 'dice_float'})
    return per.assign(dice_int8=evaluate_model(OnnxNet(q), meta, d, 'valid').dice.to_numpy())


def summary_of(per:pd.DataFrame, src, q, keep:list, name:str) -> dict:
    "The `quantization` block: how the int8 graph of variant `name` was made and its valid Dice against the float graph"
    m, lo, hi = bootstrap_ci((per.dice_int8 - per.dice_float).to_numpy())
    valid = dict(n=len(per), dice_float=round(per.dice_float.mean(), 4), dice_int8=round(per.dice_int8.mean(), 4),
                 diff=round(m, 4), diff_lo=round(lo, 4), diff_hi=round(hi, 4))
    method, which = VARIANTS[name]
    return dict(variant='float_ends', method=method, calibration_variant=name, format=FORMAT, n_float_nodes=len(keep),
                calibration=CALIB_TEXT[which], float_onnx_sha256=sha256(src),
                float_onnx_bytes=Path(src).stat().st_size, int8_bytes=Path(q).stat().st_size, valid_wingspan=valid,
                passes_default_int8_rule=bool(lo >= -0.001 and m >= -0.0005), hardware=hardware('cpu'),
                record=str(RECS/'int8'), decided_by='records/heart/choice.json (the rule in experiments/heart.py)')


def ship(meta:dict, q, quant:dict, choice:dict):
    "Write lungseg/weights/heart.onnx and heart.json"
    dst = heart_weights()
    shutil.copyfile(q, dst)
    meta = {k: v for k, v in meta.items() if k not in ('weights', 'sha256', 'size_bytes')}
    meta |= dict(structure='heart', classes=['background', 'heart'], onnx=dst.name, onnx_sha256=sha256(dst),
                 onnx_bytes=dst.stat().st_size, licence=licence(choice['chosen']),
                 source=dict(choice=choice, record=str(RECS/choice['chosen'])), quantization=quant)
    atomic_write(dst.with_suffix('.json'), lambda t: Path(t).write_text(json.dumps(meta, indent=2, default=str) + '\n'))
    return meta


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('wingspan')
    p.add_argument('--runs', default='runs/heart', help='folder holding the heart runs (runs/heart/<stage>/)')
    p.add_argument('--data', default=None, help='the Kaggle folder (default: LUNGSEG_DATA), for variant mixed128')
    a = p.parse_args()
    choice = json.loads((RECS/'choice.json').read_text())
    runs, stage = Path(a.runs), choice['chosen']
    meta = checked_run(runs, stage)
    d = wingspan_rows(a.wingspan, 'heart', '_heart', 'heart')
    src, keep = runs/stage/'lungseg.onnx', float_ends(runs/stage/'lungseg.onnx')
    quants, pers = {}, {}
    for name, (method, which) in VARIANTS.items():
        q, t0 = runs/f'{stage}_int8_{name}.onnx', time.perf_counter()
        imgs = [load_image(f)[0] for f in calibration_images(d, which, a.data)]
        try: quantize_onnx(src, q, imgs, meta['size'], method=method, keep_float=keep)
        except ValueError as e:   # onnxruntime's calibrator could not make this variant: recorded, not shipped
            quants[name] = dict(calibration_variant=name, method=method, failed=f'onnxruntime: {e}')
            print(name, 'failed:', e, flush=True)
            continue
        pers[name] = valid_dice(src, q, meta, d)
        quants[name] = summary_of(pers[name], src, q, keep, name) | dict(
            quantize_and_measure_seconds=round(time.perf_counter() - t0, 1))
        print(name, json.dumps(quants[name]['valid_wingspan']), flush=True)
    best = max(pers, key=lambda k: (pers[k].dice_int8.mean(), -list(VARIANTS).index(k)))   # unrounded means
    quant = quants[best] | dict(chosen_by='the highest mean valid Dice of the calibration variants '
                                          '(experiments/int8_heart.py docstring)', variants=list(VARIANTS))
    (RECS/'int8').mkdir(parents=True, exist_ok=True)
    per = pers[best].assign(**{f'dice_int8_{k}': v.dice_int8.to_numpy() for k, v in pers.items()})
    per.round(6).to_csv(RECS/'int8'/'valid_per_image.csv', index=False)
    (RECS/'int8'/'summary.json').write_text(json.dumps(quant, indent=2) + '\n')
    (RECS/'int8'/'variants.json').write_text(json.dumps(quants, indent=2) + '\n')
    out = ship(meta, runs/f'{stage}_int8_{best}.onnx', quant, choice)
    print(json.dumps(dict(shipped=stage, variant=best, onnx_bytes=out['onnx_bytes'], valid=quant['valid_wingspan']),
                     indent=2))

"""An int8 graph of the default: is it as accurate as the float graph on valid, and how much faster is its forward pass?

On this project's CPUs the ONNX forward pass is most of `lungseg predict`'s time (profiled on 48 images: 4.2 of 5.5 s), and
the default runs at 1.6-1.8x the vanilla U-Net's forward pass on the Intel Xeon, short of the 2x target. onnxruntime's
static quantization (`lungseg.model.quantize_onnx`: QDQ, per-channel int8 weights, uint8 activations) makes an int8 copy of
the default's float graph, calibrated on the first N_CALIB images of the train split (sorted by stem; never valid or test).
The float graph is exported from the default's torch weights (`runs/int8/float.onnx`) and must have the SHA-256 its JSON
records for it, so the script measures the same graph once the int8 copy ships.

Measured, in this run, on these cores:
  accuracy  the pipeline's masks on the valid split with each graph (the shipped settings, `lungseg.evaluate.evaluate_model`),
            per image at 512 px, paired int8 - float differences on the valid images whose masks follow the visible
            convention (the default's target), with a paired bootstrap interval (`bootstrap_ci`)
  speed     ONNX forward images/s of each graph at the model's input size, batch 8, best of 5 after a warm-up, with 1 and
            2 threads, one graph after the other

Decision rule, written before the run (to be applied by the training-experiments notebook before shipping): the int8 graph
may replace the default's ONNX graph if, on valid-visible, the lower end of the paired interval of its Dice difference
from the float graph is at least -0.001 and the mean difference at least -0.0005, and its forward pass is at least 1.3x
the float graph's with 2 threads. Shipping it also needs the error-analysis notebook's pipeline decision re-run on it and
the Try-it page's onnxruntime-web check; this script only measures.

Variants (added after the first run, `minmax`, missed the accuracy part of the rule: -0.0013, -0.0024 to -0.0004; written
before their runs). The same measurements and the same rule for each; among those that pass it, the highest mean
valid-visible Dice is the candidate:
  minmax       MinMax calibration, every node quantized (the first run)
  entropy      entropy calibration
  percentile   percentile calibration (99.999 %)
  float_ends   MinMax, with the per-image standardisation at the input and the last block, the output convolution and the
               softmax kept in float (the boundary decision is made there)

    python experiments/int8_default.py DATA_DIR [--variants minmax entropy percentile float_ends] [--weights PTH]

Writes runs/int8/NAME.onnx and the small records to records/int8/NAME/ (per-image valid Dice of both graphs, summary.json).
"""
import json, argparse, time
from pathlib import Path
import numpy as np, onnx
from lungseg.data import manifest, atomic_write, sha256
from lungseg.inputcheck import to_input, OnnxNet
from lungseg.pipeline import load_image, onnx_path, load_meta
from lungseg.model import quantize_onnx, load_model, export_onnx, float_graph_sha
from lungseg.evaluate import evaluate_model, bootstrap_ci
from lungseg.train import hardware

N_CALIB = 64
p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--variants', nargs='*', default=['minmax'])
p.add_argument('--weights', help="torch weights of a default about to ship (a .pth with its JSON and float ONNX); "
               "default: the package's")
a = p.parse_args()
df, _ = manifest(a.data, check=False)
pth = Path(a.weights) if a.weights else onnx_path().with_suffix('.pth')
meta = load_meta(pth.with_suffix('.onnx')); out = Path('runs/int8'); out.mkdir(parents=True, exist_ok=True)
float_sha = float_graph_sha(meta)   # the shipped graph, or the float graph it was quantized from
src = out/'float.onnx'; export_onnx(load_model(pth)[0], src, meta['size'])
if sha256(src) != float_sha: raise SystemExit(f"{src}: SHA-256 {sha256(src)[:12]}… is not the default's float graph ({float_sha[:12]}…); export it with the torch build that made it")
calib = df[df.split == 'train'].sort_values('stem').image_path.head(N_CALIB).tolist()
cimgs = [load_image(f)[0] for f in calib]

def img_s(fn, threads):
    net, x = OnnxNet(fn, threads), to_input(cimgs[:8], meta['size'])
    net(x); best = np.inf
    for _ in range(5): t = time.perf_counter(); net(x); best = min(best, time.perf_counter() - t)
    return round(8/best, 2)

def float_ends(fn) -> list:
    "Names of the nodes before the first Conv (the standardisation) and from the last block's first Conv to the end"
    ns = onnx.load(str(fn)).graph.node; convs = [i for i, n in enumerate(ns) if n.op_type == 'Conv']
    return [n.name for n in ns[:convs[0]]] + [n.name for n in ns[convs[-3]:]]

VARIANTS = dict(minmax=dict(method='minmax'), entropy=dict(method='entropy'), percentile=dict(method='percentile'),
                float_ends=dict(method='minmax', keep_float=float_ends(src)))
per_float = evaluate_model(OnnxNet(src), meta, df, 'valid')[['stem', 'source', 'convention', 'dice']].rename(columns={'dice': 'dice_float'})
for name in a.variants:
    q, rec = out/f'{name}.onnx', Path('records/int8')/name; rec.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try: quantize_onnx(src, q, cimgs, meta['size'], **VARIANTS[name])
    except ValueError as e:   # a calibration onnxruntime cannot do on this graph: recorded, not measured
        err = json.dumps(dict(variant=name, error=f"{type(e).__name__}: {e}", passes_rule=False), indent=2)
        atomic_write(rec/'summary.json', lambda t: t.write_text(err))
        print(name, 'failed:', e, flush=True); continue
    q_s = time.perf_counter() - t0
    speed = {k: {th: img_s(f, th) for th in (1, 2)} for k, f in (('float', src), ('int8', q))}
    per = per_float.assign(dice_int8=evaluate_model(OnnxNet(q), meta, df, 'valid').dice.to_numpy())
    per.round(6).to_csv(rec/'valid_per_image.csv', index=False)
    v = per[per.convention == 'visible']; d = v.dice_int8 - v.dice_float
    m, lo, hi = bootstrap_ci(d.to_numpy())
    summary = dict(variant=name, method=VARIANTS[name]['method'], n_float_nodes=len(VARIANTS[name].get('keep_float', [])),
                   source_onnx_sha256=float_sha, int8_sha256=sha256(q), int8_bytes=q.stat().st_size, float_bytes=src.stat().st_size,
                   n_calib=N_CALIB, quantize_seconds=round(q_s, 1), speed_img_s=speed, speedup_2_threads=round(speed['int8'][2]/speed['float'][2], 2),
                   valid_visible=dict(n=len(v), dice_float=round(v.dice_float.mean(), 4), dice_int8=round(v.dice_int8.mean(), 4), diff=round(m, 4),
                                      diff_lo=round(lo, 4), diff_hi=round(hi, 4), better=int((d > 1e-4).sum()), worse=int((d < -1e-4).sum()),
                                      largest_loss=round(float(-d.min()), 4)),
                   hardware=hardware('cpu'), created=time.strftime('%Y-%m-%d %H:%M:%S'))
    summary['passes_rule'] = bool(lo >= -0.001 and m >= -0.0005 and summary['speedup_2_threads'] >= 1.3)
    atomic_write(rec/'summary.json', lambda t: t.write_text(json.dumps(summary, indent=2)))
    print(name, json.dumps({k: summary[k] for k in ('speedup_2_threads', 'valid_visible', 'passes_rule')}), flush=True)

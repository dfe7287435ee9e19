"""CPU speed of `lungseg predict`, end to end (image files in, mask files + predictions.csv out), next to a
vanilla U-Net's forward pass measured in the same run.

    .venv/bin/python benchmarks/predict_speed.py [--model PATH] [--n 36] [--big 8] [--side 2048]

Inputs are the real sample images (256 px), copied `--n` times, plus `--big` of them upscaled to a
clinical `--side` x 1.25*`--side` px 16-bit PNG. The model is `--model`, else the shipped weights, else an
untrained `plain8` network at 256 px (speed does not depend on the weight values). Prints numbers; it is
not a test.
"""
import argparse, os, shutil, tempfile, time, contextlib, io
from pathlib import Path
import numpy as np, torch
from PIL import Image
from lungseg.data import sample_path, read_gray
from lungseg.model import build_model, save_model, default_weights, load_model
from lungseg.predict import predict_cmd
from lungseg.train import hardware


def forward_speed(model, size, bs=8, reps=3):
    "Images/s of `model`'s forward pass alone on a (bs,1,size,size) batch (best of `reps`)"
    x = torch.rand(bs, 1, size, size)
    with torch.inference_mode():
        model(x)                                                  # warm up
        best = min(_timed(lambda: model(x)) for _ in range(reps))
    return bs/best


def _timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t


def end_to_end(files, model, out, **kw):
    "Images/s of predict_cmd over `files` (model load excluded: it is cached after a warm-up call)"
    predict_cmd(str(files[0]), out=str(out/'warm'), model=str(model), quiet=True)
    t = _timed(lambda: predict_cmd(*map(str, files), out=str(out/'run'), model=str(model), quiet=True, **kw))
    return len(files)/t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model'); ap.add_argument('--n', type=int, default=36); ap.add_argument('--big', type=int, default=8)
    ap.add_argument('--side', type=int, default=2048)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        model = Path(a.model) if a.model else default_weights()
        if not model.exists():
            model = tmp/'untrained'/'lungseg.pth'
            save_model(build_model('plain8', 256).eval(), model, dict(arch='plain8', size=256))
            print("no shipped weights: timing an untrained plain8 network at 256 px")
        m, meta = load_model(model)
        imgs = sorted((sample_path()/'images').glob('*.png'))
        small = [shutil.copy(imgs[i % len(imgs)], tmp/f'in_{i:03d}.png') for i in range(a.n)]
        big = []
        for i in range(a.big):
            f = tmp/f'big_{i:02d}.png'
            Image.fromarray(read_gray(imgs[i % len(imgs)]).astype(np.uint16)*257).resize((a.side, a.side*5//4), Image.BILINEAR).save(f)
            big.append(f)
        print(f"hardware: {hardware()}; torch threads: {torch.get_num_threads()}; load average: {os.getloadavg()[0]:.2f}")
        print(f"model: {model} ({meta['arch']}, {meta['size']} px)")
        r_small = end_to_end(small, model, tmp/'o1')
        r_tta = end_to_end(small, model, tmp/'o2', tta=True)
        r_big = end_to_end(big, model, tmp/'o3') if big else float('nan')
        f_ours = forward_speed(m, meta['size'])
        f_van = forward_speed(build_model('vanilla').eval(), meta['size'])
        print(f"end to end, {a.n} sample PNGs (256x256 8-bit):            {r_small:7.1f} images/s")
        print(f"end to end, same with --tta:                             {r_tta:7.1f} images/s")
        print(f"end to end, {a.big} PNGs {a.side}x{a.side*5//4} 16-bit (mask at full size): {r_big:7.1f} images/s")
        print(f"forward pass only, {meta['arch']} at {meta['size']} px, batch 8:          {f_ours:7.1f} images/s")
        print(f"forward pass only, vanilla U-Net at {meta['size']} px, batch 8:   {f_van:7.1f} images/s")
    finally: shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': main()

"""A compact copy of the training pairs for a lent GPU machine, whose working tree travels within 64 MiB.

Images become JPEG (quality 85 by default) and masks 1-bit PNG, in the Kaggle layout and under the same stems, so that the stored
split (lungseg/split.csv) and convention calls (lungseg/conventions.csv) apply unchanged. Only the image/mask pairs are
copied. The copy is for training runs on the device only: JPEG changes the images slightly, so the valid and test scores
of weights trained there are computed here on the original PNGs (`harness.record_run` on the returned weights).
The copy lives under runs/ (git-ignored): a data set is never committed. Pass it to the device with `carry`.

    python experiments/pack_data.py DATA_DIR [--out runs/packed] [--quality 85]

At quality 85 the 704 pairs take about 27 MiB (a mean difference of about 2 grey levels per pixel); at 95, about 55 MiB,
which with the working tree (about 25 MiB) exceeds what travels. The script refuses a copy that does not fit beside the
tracked files.

It checks the copy before it reports: the same pairs, splits and conventions as DATA_DIR, and every mask bit-identical
after binarisation. It prints the copy's size and the largest difference between an original image and its JPEG.
"""
import argparse, shutil, subprocess
from pathlib import Path
import numpy as np
from PIL import Image
from lungseg.data import manifest, read_mask, read_gray

p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--out', default='runs/packed'); p.add_argument('--quality', type=int, default=85)
LIMIT_MIB = 64   # what travels to the device machine: the working tree and the carried paths together
a = p.parse_args()
df, _ = manifest(a.data, check=False)
pairs = df[df.mask_path != ''].sort_values('stem')
root = Path(a.out); tmp = root.with_name(root.name + '.partial')
shutil.rmtree(tmp, ignore_errors=True)
ims, mks = tmp/'Lung Segmentation'/'CXR_png', tmp/'Lung Segmentation'/'masks'
ims.mkdir(parents=True); mks.mkdir(parents=True)
worst = 0
for r in pairs.itertuples():
    img = read_gray(r.image_path)
    Image.fromarray(img).save(ims/f'{r.stem}.jpg', quality=a.quality)
    worst = max(worst, int(np.abs(read_gray(ims/f'{r.stem}.jpg').astype(int) - img).max()))
    name = f'{r.stem}.png' if r.source == 'Montgomery' else f'{r.stem}_mask.png'   # the Kaggle layout's mask names
    Image.fromarray(read_mask(r.mask_path)).save(mks/name, optimize=True)   # bool -> mode '1' PNG: parts merged (MASK_SEP) as read_mask merges them
got, _ = manifest(tmp, check=False); got = got.sort_values('stem')
cols = ['stem', 'source', 'tb', 'split', 'convention']
if not got[cols].reset_index(drop=True).equals(pairs[cols].reset_index(drop=True)): raise SystemExit(f"{tmp}: the copy's manifest differs from {a.data}'s pairs")
bad = [r.stem for r, g in zip(pairs.itertuples(), got.itertuples()) if not np.array_equal(read_mask(r.mask_path), read_mask(g.mask_path))]
if bad: raise SystemExit(f"{tmp}: {len(bad)} masks differ from the originals, e.g. {bad[:3]}")
mb = sum(f.stat().st_size for f in tmp.rglob('*') if f.is_file())/2**20
tree = sum(Path(f).stat().st_size for f in subprocess.run(['git', 'ls-files'], capture_output=True, text=True, check=True).stdout.splitlines() if Path(f).is_file())/2**20
if mb + tree > LIMIT_MIB: raise SystemExit(f"{tmp}: {mb:.1f} MiB beside {tree:.1f} MiB of tracked files exceeds the {LIMIT_MIB} MiB that travel; lower --quality")
shutil.rmtree(root, ignore_errors=True); tmp.rename(root)
print(f"{root}: {len(pairs)} pairs, {mb:.1f} MiB (tracked files {tree:.1f} MiB); masks bit-identical; largest image difference {worst} grey levels (JPEG quality {a.quality})")

// lungseg's pipeline (lungseg/pipeline.py) in JavaScript, for the docs site's "Try it" page.
// Pure functions on typed arrays: no DOM, so a worker (and Node) can import them. The page's browser test
// (tests/test_docs.py) holds them to `lungseg.pipeline.segment` on the shipped sample images.

export const WORK_SIDE = 1024;  // lungseg.pipeline.WORK_SIDE
const PRECISION_BITS = 32 - 8 - 2;  // Pillow's fixed point for 8-bit resampling (Resample.c)

// Python's round(): halves to even
export function pyRound(x) {
  const f = Math.floor(x), d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}

// Pillow's bilinear coefficients from `inSize` to `outSize` pixels, in fixed point (precompute_coeffs)
function coeffs(inSize, outSize) {
  const scale = inSize / outSize, filterscale = Math.max(scale, 1), support = filterscale;
  const ksize = Math.ceil(support) * 2 + 1, kk = new Int32Array(outSize * ksize), bounds = new Int32Array(outSize * 2);
  const w = new Float64Array(ksize), ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < n; x++) { const t = Math.abs((x + xmin - center + 0.5) * ss); w[x] = t < 1 ? 1 - t : 0; ww += w[x]; }
    for (let x = 0; x < n; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      kk[xx * ksize + x] = Math.trunc((v < 0 ? -0.5 : 0.5) + v * (1 << PRECISION_BITS));
    }
    bounds[2 * xx] = xmin; bounds[2 * xx + 1] = n;
  }
  return {ksize, kk, bounds};
}

function clip8(v) {
  if (v >= (1 << PRECISION_BITS) * 256) return 255;
  return v <= 0 ? 0 : Math.floor(v / (1 << PRECISION_BITS));
}

function resizeH(a, h, w0, w) {
  const {ksize, kk, bounds} = coeffs(w0, w), out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    const row = y * w0;
    for (let xx = 0; xx < w; xx++) {
      const xmin = bounds[2 * xx], n = bounds[2 * xx + 1], k = xx * ksize;
      let s = 1 << (PRECISION_BITS - 1);
      for (let x = 0; x < n; x++) s += a[row + xmin + x] * kk[k + x];
      out[y * w + xx] = clip8(s);
    }
  }
  return out;
}

function resizeV(a, h0, w, h) {
  const {ksize, kk, bounds} = coeffs(h0, h), out = new Uint8Array(h * w);
  for (let yy = 0; yy < h; yy++) {
    const ymin = bounds[2 * yy], n = bounds[2 * yy + 1], k = yy * ksize;
    for (let x = 0; x < w; x++) {
      let s = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < n; y++) s += a[(ymin + y) * w + x] * kk[k + y];
      out[yy * w + x] = clip8(s);
    }
  }
  return out;
}

// `Image.fromarray(a).resize((w, h), Image.BILINEAR)` of a uint8 grayscale image `a` (h0 x w0), as Pillow does it:
// two passes, each rounded to uint8; the vertical one first when it reduces and the horizontal one enlarges
export function resizeBilinear(a, h0, w0, h, w) {
  if (h === h0 && w === w0) return a.slice();
  if (w === w0) return resizeV(a, h0, w, h);
  if (h === h0) return resizeH(a, h, w0, w);
  return h < h0 && w > w0 ? resizeH(resizeV(a, h0, w0, h), h, w0, w) : resizeV(resizeH(a, h0, w0, w), h0, w, h);
}

// 8-bit grayscale of RGBA pixels: Pillow's convert('L') (ITU-R 601-2 luma, in its fixed point); alpha dropped
export function grayOfRGBA(rgba, n) {
  const g = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) g[i] = (rgba[j] * 19595 + rgba[j + 1] * 38470 + rgba[j + 2] * 7471 + 0x8000) >> 16;
  return g;
}

// `shrink`: the working copy, longest side at most `maxSide` (bilinear, aspect ratio kept)
export function shrink(a, h, w, maxSide = WORK_SIDE) {
  if (!maxSide || Math.max(h, w) <= maxSide) return {a, h, w};
  const s = maxSide / Math.max(h, w), nh = Math.max(1, pyRound(h * s)), nw = Math.max(1, pyRound(w * s));
  return {a: resizeBilinear(a, h, w, nh, nw), h: nh, w: nw};
}

// `to_input`: the network's input (1 x 1 x size x size, float32 in 0..1), the working copy squished to `size`
export function toInput(a, h, w, size) {
  const r = resizeBilinear(a, h, w, size, size), x = new Float32Array(size * size);
  for (let i = 0; i < x.length; i++) x[i] = r[i] / 255;
  return x;
}

// numpy's round() of a float32 (halves to even)
function rint(v) {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}

// `upsample`: probability map `prob` (size x size) as uint8 0..255, resized (bilinear) to h x w
export function upsample(prob, size, h, w) {
  const p8 = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) p8[i] = rint(Math.fround(Math.min(1, Math.max(0, prob[i])) * 255));
  return resizeBilinear(p8, size, size, h, w);
}

// Connected components of the pixels of `m` (h x w, nonzero = on) equal to `on`; 8- or 4-connected.
// Labels 1.. in raster order of each component's first pixel (as scipy.ndimage.label); with area, box, centroid.
export function label(m, h, w, eight, on = 1) {
  const lab = new Int32Array(h * w), stack = new Int32Array(h * w);
  const areas = [], r0 = [], r1 = [], c0 = [], c1 = [], sr = [], sc = [];
  let n = 0;
  for (let start = 0; start < h * w; start++) {
    if ((m[start] ? 1 : 0) !== on || lab[start]) continue;
    n++; lab[start] = n;
    let top = 0, area = 0, ra = h, rb = -1, ca = w, cb = -1, sumr = 0, sumc = 0;
    stack[top++] = start;
    while (top) {
      const p = stack[--top], y = (p / w) | 0, x = p - y * w;
      area++; sumr += y; sumc += x;
      if (y < ra) ra = y; if (y > rb) rb = y; if (x < ca) ca = x; if (x > cb) cb = x;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy; if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if ((!dy && !dx) || (!eight && dy && dx)) continue;
          const xx = x + dx; if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (!lab[q] && (m[q] ? 1 : 0) === on) { lab[q] = n; stack[top++] = q; }
        }
      }
    }
    areas.push(area); r0.push(ra); r1.push(rb + 1); c0.push(ca); c1.push(cb + 1); sr.push(sumr / area); sc.push(sumc / area);
  }
  return {lab, n, areas, r0, r1, c0, c1, cr: sr, cc: sc};
}

// `_beside`: whether component b lies beside component a (rows overlapping by half of b's height, b wholly on
// the other side of a's centre)
function beside(s, a, b) {
  if (Math.min(s.r1[a], s.r1[b]) - Math.max(s.r0[a], s.r0[b]) < 0.5 * (s.r1[b] - s.r0[b])) return false;
  return s.cc[b] > s.cc[a] ? s.c0[b] > s.cc[a] : s.c1[b] - 1 < s.cc[a];
}

// `postprocess`: keep the largest component and, if large enough and beside it, the second (plus large
// pieces centred in their box); fill small holes. `m`: Uint8Array 0/1, h x w; returns a new Uint8Array
export function postprocess(m, h, w, {min_ratio = 0.1, max_hole = 0.05, extra = 0.05} = {}) {
  const s = label(m, h, w, true);
  if (s.n === 0) return m.slice();
  const order = [...s.areas.keys()].sort((i, j) => s.areas[j] - s.areas[i] || i - j), keep = [order[0]];
  if (s.n > 1 && s.areas[order[1]] >= min_ratio * s.areas[order[0]] && beside(s, order[0], order[1])) keep.push(order[1]);
  if (extra !== null && extra !== undefined) {
    const r0 = Math.min(...keep.map(k => s.r0[k])), r1 = Math.max(...keep.map(k => s.r1[k]));
    const c0 = Math.min(...keep.map(k => s.c0[k])), c1 = Math.max(...keep.map(k => s.c1[k]));
    for (const k of order.slice(keep.length))
      if (s.areas[k] >= extra * s.areas[order[0]] && r0 <= s.cr[k] && s.cr[k] < r1 && c0 <= s.cc[k] && s.cc[k] < c1) keep.push(k);
  }
  const lut = new Uint8Array(s.n + 1);
  for (const k of keep) lut[k + 1] = 1;
  const out = new Uint8Array(h * w);
  let total = 0;
  for (let i = 0; i < out.length; i++) { out[i] = lut[s.lab[i]]; total += out[i]; }
  // holes: background pieces (4-connected, as binary_fill_holes) that do not reach the border
  const b = label(out, h, w, false, 0), small = new Uint8Array(b.n + 1);
  for (let k = 0; k < b.n; k++)
    small[k + 1] = b.r0[k] > 0 && b.c0[k] > 0 && b.r1[k] < h && b.c1[k] < w && b.areas[k] <= max_hole * total ? 1 : 0;
  for (let i = 0; i < out.length; i++) if (small[b.lab[i]]) out[i] = 1;
  return out;
}

// `qc_score`: uncertain pixels (band[0] < p < band[1]) per predicted lung pixel (p > thresh); 1 if no lung
export function qcScore(prob, band = [0.2, 0.8], thresh = 0.5) {
  const lo = Math.fround(band[0]), hi = Math.fround(band[1]), t = Math.fround(thresh);  // numpy compares in float32
  let lung = 0, unc = 0;
  for (let i = 0; i < prob.length; i++) { const p = prob[i]; if (p > t) lung++; if (p > lo && p < hi) unc++; }
  return lung === 0 ? 1 : unc / lung;
}

// `lungseg.pipeline.UNDECIDED`: the settings of weights whose JSON decides none
export const UNDECIDED = {threshold: 0.5, postprocess: null, qc: null, tta: false, input_check: true, framing: true};

// `settings_of(meta)`: the input size, then the JSON's `pipeline` block over `UNDECIDED`
export function settingsOf(meta) {
  const s = {...UNDECIDED};
  for (const k of Object.keys(s)) if (meta.pipeline && k in meta.pipeline) s[k] = meta.pipeline[k];
  s.size = meta.size;
  return s;
}

// `lungseg.inputcheck.NO_CHECK`: what a run without the input check assumes (upright, not inverted, not rejected)
export const NO_CHECK = {rotation: 0, inverted: false, chest: null, rejected: ''};

// `lungseg.inputcheck.sigmoid`: the logistic function, clipped so that it never overflows
const sigmoid = z => 1 / (1 + Math.exp(-Math.min(50, Math.max(-50, z))));

// `lungseg.inputcheck.decide`: the check of the checker's 6 logits `z` (4 quarter turns, inverted, chest) under the
// `decision` of its JSON: the quarter turn that makes the image upright, whether it is inverted, its chest score, and
// why it is turned away ('' if it is not)
export function decide(z, decision) {
  const chest = sigmoid(z[5]);
  let k = 0;
  for (let i = 1; i < 4; i++) if (z[i] > z[k]) k = i;   // numpy's argmax: the first largest
  const rejected = chest >= decision.chest ? '' : 'not a frontal chest X-ray (input check: chest score ' +
    `${chest.toFixed(3)} below ${decision.chest.toFixed(3)}); no mask written; --no-input-check segments it anyway`;
  const inverted = sigmoid(z[4]) > decision.inverted;
  return {rotation: 90 * k, inverted, chest: Math.round(chest * 1e4) / 1e4, rejected};
}

// `lungseg.inputcheck.turn`: image `a` (h x w) turned `rotation` degrees (a multiple of 90) counter-clockwise, as
// numpy's rot90; with its new height and width
export function turn(a, h, w, rotation) {
  const k = (((rotation / 90) % 4) + 4) % 4, n = h * w;
  if (!k) return {a, h, w};
  const out = new a.constructor(n);
  if (k === 2) {
    for (let i = 0; i < n; i++) out[i] = a[n - 1 - i];
    return {a: out, h, w};
  }
  for (let i = 0; i < w; i++)
    for (let j = 0; j < h; j++) out[i * h + j] = k === 1 ? a[j * w + w - 1 - i] : a[(h - 1 - j) * w + i];
  return {a: out, h: w, w: h};
}

// `lungseg.inputcheck.upright`: image `a` (h x w) put the right way up as check `c` says (inverted back if it was,
// then turned)
export function upright(a, h, w, c) {
  return turn(c.inverted ? a.map(v => 255 - v) : a, h, w, c.rotation);
}

// `finish`: mask (Uint8Array 0/1 at the input's h x w), QC score and flag of network map `prob` under settings `s`;
// `prob` was made on the image turned upright as check `c` says, and the mask is turned back to the input's geometry
export function finish(prob, h, w, s, c = NO_CHECK) {
  if (c.rejected) return {mask: new Uint8Array(h * w), qc: null, flag: null};
  const side = c.rotation % 180 !== 0, uh = side ? w : h, uw = side ? h : w;
  const p8 = upsample(prob, s.size, uh, uw), t = s.threshold * 255;
  let m = new Uint8Array(uh * uw);
  for (let i = 0; i < m.length; i++) m[i] = p8[i] > t ? 1 : 0;
  if (s.postprocess) m = postprocess(m, uh, uw, s.postprocess);
  m = turn(m, uh, uw, -c.rotation).a;
  if (!s.qc) return {mask: m, qc: null, flag: null};
  const q = qcScore(prob, s.qc.band, s.threshold);
  return {mask: m, qc: q, flag: q > s.qc.threshold};
}

// `lungseg.masks.midline`: the column splitting the lungs, the fewest lung pixels in the central half, nearest the
// centre
export function midline(m, h, w) {
  const lo = Math.floor(w / 4), hi = Math.max(lo + 1, Math.floor(3 * w / 4)), cols = new Float64Array(hi - lo);
  for (let y = 0; y < h; y++) for (let x = lo; x < hi; x++) cols[x - lo] += m[y * w + x];
  const mn = Math.min(...cols);
  let best = -1;
  for (let i = 0; i < cols.length; i++) if (cols[i] === mn && (best < 0 || Math.abs(i + lo - w / 2) < Math.abs(best - w / 2))) best = i + lo;
  return best;
}

// `lungseg.masks.lr_labels`: 1 = the patient's right lung (image left of the midline), 2 = the left lung,
// 0 = background
export function lrLabels(m, h, w) {
  const c = midline(m, h, w), lab = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const i = y * w + x; if (m[i]) lab[i] = x < c ? 1 : 2; }
  return lab;
}

// ---------------------------------------------------------------- framing (lungseg.framing)
export const FIELD_SIDE = 256;  // lungseg.framing.FIELD_SIDE: the field is found on a copy this many px a side at most

// `block`: the side f of the f x f blocks that reduce an image of h x w to at most `side` px a side
export function block(h, w, side = FIELD_SIDE) {
  return Math.max(1, Math.ceil(Math.max(h, w) / side));
}

// `np.percentile(a, q)` (linear) of integer values 0..hist.length-1 counted in `hist`, `n` of them
function percentile(hist, n, q) {
  const v = (n - 1) * q / 100, lo = Math.floor(v), g = v - lo;
  const kth = k => { let c = 0; for (let i = 0; i < hist.length; i++) if ((c += hist[i]) > k) return i; return hist.length - 1; };
  const a = kth(lo), b = kth(Math.min(lo + 1, n - 1)), d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

// `field_copy`: `a` (h x w) as block means (whole f x f blocks), summed over 3 x 3 neighbours (edges mirrored),
// stretched to 0..255; integer sums, so the copy is Python's to the grey level
export function fieldCopy(a, h, w, side = FIELD_SIDE) {
  const f = block(h, w, side), sh = Math.floor(h / f), sw = Math.floor(w / f), m = new Int32Array(sh * sw);
  for (let y = 0; y < sh * f; y++) {
    for (let x = 0; x < sw * f; x++) m[Math.floor(y / f) * sw + Math.floor(x / f)] += a[y * w + x];
  }
  for (let i = 0; i < m.length; i++) m[i] = Math.floor(m[i] / (f * f));
  const at = (i, n) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i), s = new Int32Array(sh * sw);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      let t = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) t += m[at(y + dy, sh) * sw + at(x + dx, sw)];
      s[y * sw + x] = t;
    }
  }
  const hist = new Float64Array(9 * 255 + 1);
  for (const v of s) hist[v]++;
  const lo = percentile(hist, s.length, 1), hi = percentile(hist, s.length, 99), k = Math.max(hi - lo, 1);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = Math.trunc(Math.min(255, Math.max(0, (s[i] - lo) * 255 / k)));
  return {a: out, h: sh, w: sw, f};
}

// numpy's median of the numbers `v` (the mean of the two middle ones for an even count)
function median(v) {
  const s = Float64Array.from(v).sort(), m = s.length;
  return m % 2 ? s[(m - 1) / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
}

// `edge_run`: how many rows of `rows` after a border of `n` rows at grey `level` are its soft edge: rows whose mean
// lies between the film's level (the median of the next tenth of the rows' means) and the frame's, more than `edge`
// of the way from the film's; at most `maxEdge` of all rows, none where frame and film share a grey
export const EDGE = 0.7;  // lungseg.framing.EDGE

function edgeRun(rows, n, level, tol = 8, edge = EDGE, maxEdge = 0.03) {
  const mean = r => r.reduce((c, v) => c + v, 0) / r.length;
  const means = rows.slice(n, n + Math.max(1, Math.floor(rows.length / 10))).map(mean);
  const inner = median(means);
  if (Math.abs(level - inner) <= tol) return 0;
  const cap = Math.min(Math.trunc(maxEdge * rows.length), means.length);
  for (let i = 0; i < cap; i++) {
    const f = (means[i] - inner) / (level - inner);
    if (!(f > edge && f <= 1 + tol / Math.abs(level - inner))) return i;
  }
  return cap;
}

// `border_run`: how many rows of `rows` (arrays of grey levels), from the first, form a border: a near-uniform first
// row, then rows mostly within `tol` of its grey; none if fewer than `minCut` of them, and its soft edge after
function borderRun(rows, tol = 8, start = 0.95, keep = 0.9, minCut = 0.02, maxCut = 0.4) {
  if (!rows.length || !rows[0].length) return 0;
  const r0 = Uint8Array.from(rows[0]).sort(), m = r0.length;
  const level = Math.trunc(m % 2 ? r0[(m - 1) / 2] : (r0[m / 2 - 1] + r0[m / 2]) / 2);
  const near = r => r.reduce((c, v) => c + (Math.abs(v - level) <= tol ? 1 : 0), 0) / r.length;
  if (near(rows[0]) < start) return 0;
  const n = Math.trunc(maxCut * rows.length);
  let run = n;
  for (let i = 0; i < n; i++) if (!(near(rows[i]) >= keep)) { run = i; break; }
  if (run < minCut * rows.length) return 0;
  return Math.min(run + Math.max(1, edgeRun(rows, run, level, tol)), n);
}

// `find_field`: (x0, y0, x1, y1) of the exposed field of `a` (h x w): what is left when border runs are cut
export function findField(a, h, w, rounds = 3) {
  const s = fieldCopy(a, h, w);
  let y0 = 0, y1 = s.h, x0 = 0, x1 = s.w;
  for (let r = 0; r < rounds; r++) {
    const rows = [], cols = [];
    for (let y = y0; y < y1; y++) rows.push(s.a.subarray(y * s.w + x0, y * s.w + x1));
    for (let x = x0; x < x1; x++) cols.push(rows.map(row => row[x - x0]));
    const t = borderRun(rows), bo = borderRun(rows.slice().reverse());
    const le = borderRun(cols), ri = borderRun(cols.slice().reverse());
    if (!(t || bo || le || ri)) break;
    y0 += t; y1 -= bo; x0 += le; x1 -= ri;
  }
  return [x0 * s.f, y0 * s.f, x1 === s.w ? w : x1 * s.f, y1 === s.h ? h : y1 * s.f];
}

// `field_box`: the exposed field (x0, y0, x1, y1) of working copy `a` (h x w) of an input of H x W, in input pixels;
// null if it is the whole image
export function fieldBox(a, h, w, H, W) {
  const [x0, y0, x1, y1] = findField(a, h, w);
  if (x0 === 0 && y0 === 0 && x1 === w && y1 === h) return null;
  const sy = H / h, sx = W / w;
  return [pyRound(x0 * sx), pyRound(y0 * sy), pyRound(x1 * sx), pyRound(y1 * sy)];
}

// `crop_to`: working copy `a` (h x w) of an input of H x W cut to `box` (input pixels; null: all of it)
export function cropTo(a, h, w, box, H, W) {
  if (!box) return {a, h, w};
  const sy = h / H, sx = w / W, [x0, y0, x1, y1] = box;
  const r0 = pyRound(y0 * sy), r1 = pyRound(y1 * sy), c0 = pyRound(x0 * sx), c1 = pyRound(x1 * sx);
  const out = new Uint8Array((r1 - r0) * (c1 - c0));
  for (let y = r0; y < r1; y++) out.set(a.subarray(y * w + c0, y * w + c1), (y - r0) * (c1 - c0));
  return {a: out, h: r1 - r0, w: c1 - c0};
}

// `paste`: mask `m` made inside field `box` (input pixels; null: the whole input) placed in an empty H x W array
export function paste(m, box, H, W) {
  if (!box) return m;
  const [x0, y0, x1, y1] = box, out = new Uint8Array(H * W), fw = x1 - x0;
  for (let y = y0; y < y1; y++) out.set(m.subarray((y - y0) * fw, (y - y0 + 1) * fw), y * W + x0);
  return out;
}

// ---------------------------------------------------------------- the CTR (lungseg.measure)
// `lungseg.measure.ctr_definition`s this page reads: the thoracic and the cardiac width as the extent of the outlines
export const CTR_DEFINITIONS = {thorax: ['extent'], cardiac: ['extent']};

// `col_range`: [first, last] column holding a nonzero pixel of `m` (h x w); null if there is none
export function colRange(m, h, w) {
  let a = w, b = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < a; x++) if (m[row + x]) { a = x; break; }
    for (let x = w - 1; x > b; x--) if (m[row + x]) { b = x; break; }
  }
  return b < 0 ? null : [a, b];
}

// `widths`: [cardiac, thoracic] widths in px of upright lung labels `lab` (`lrLabels`) and heart `heart` (h x w, 0/1 or
// null), read as definition `def` ({thorax, cardiac} of measure.json); null where missing (the thorax needs both lungs)
export function ctrWidths(lab, heart, h, w, def) {
  if (!CTR_DEFINITIONS.thorax.includes(def.thorax) || !CTR_DEFINITIONS.cardiac.includes(def.cardiac))
    throw new Error(`the CTR definition (thorax ${def.thorax}, cardiac ${def.cardiac}) is not one this page measures`);
  let right = false, left = false;
  for (let i = 0; i < lab.length && !(right && left); i++) { if (lab[i] === 1) right = true; else if (lab[i] === 2) left = true; }
  const t = right && left ? colRange(lab, h, w) : null, c = heart ? colRange(heart, h, w) : null;
  return [c ? c[1] - c[0] + 1 : null, t ? t[1] - t[0] + 1 : null];
}

// `ctr`: the cardiothoracic ratio of upright labels `lab` and heart `heart` under `def`; null without both widths
export function ctr(lab, heart, h, w, def) {
  const [c, t] = ctrWidths(lab, heart, h, w, def);
  return c === null || t === null ? null : c / t;
}

// `_widest_row`: the row of `m` (h x w) whose nonzero pixels span the most columns (first to last), the first of them
function widestRow(m, h, w) {
  let best = 0, span = -1;
  for (let y = 0; y < h; y++) {
    const r = colRange(m.subarray(y * w, (y + 1) * w), 1, w);
    if (r && r[1] - r[0] + 1 > span) { span = r[1] - r[0] + 1; best = y; }
  }
  return best;
}

// `ctr_lines`: {thoracic, cardiac: [row, first col, last col]} of the segments a CTR figure draws on upright labels
// `lab` (the lungs, either side) and heart `heart` (h x w); null where absent
export function ctrLines(lab, heart, h, w) {
  const out = {};
  for (const [k, m] of [['thoracic', lab], ['cardiac', heart]]) {
    const cr = m ? colRange(m, h, w) : null;
    out[k] = cr ? [widestRow(m, h, w), cr[0], cr[1]] : null;
  }
  return out;
}

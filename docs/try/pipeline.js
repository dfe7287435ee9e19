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

// `settings_of(meta)`: the input size, then the JSON's `pipeline` block over the undecided defaults
export function settingsOf(meta) {
  const s = {threshold: 0.5, postprocess: null, qc: null, tta: false};
  for (const k of Object.keys(s)) if (meta.pipeline && k in meta.pipeline) s[k] = meta.pipeline[k];
  s.size = meta.size;
  return s;
}

// `finish`: mask (Uint8Array 0/1 at h x w), QC score and flag of network map `prob` under settings `s`
export function finish(prob, h, w, s) {
  const p8 = upsample(prob, s.size, h, w), t = s.threshold * 255;
  let m = new Uint8Array(h * w);
  for (let i = 0; i < m.length; i++) m[i] = p8[i] > t ? 1 : 0;
  if (s.postprocess) m = postprocess(m, h, w, s.postprocess);
  if (!s.qc) return {mask: m, qc: null, flag: null};
  const q = qcScore(prob, s.qc.band, s.threshold);
  return {mask: m, qc: q, flag: q > s.qc.threshold};
}

// `lungseg.predict.midline`: the column splitting the lungs, the fewest lung pixels in the central half, nearest the centre
export function midline(m, h, w) {
  const lo = Math.floor(w / 4), hi = Math.max(lo + 1, Math.floor(3 * w / 4)), cols = new Float64Array(hi - lo);
  for (let y = 0; y < h; y++) for (let x = lo; x < hi; x++) cols[x - lo] += m[y * w + x];
  const mn = Math.min(...cols);
  let best = -1;
  for (let i = 0; i < cols.length; i++) if (cols[i] === mn && (best < 0 || Math.abs(i + lo - w / 2) < Math.abs(best - w / 2))) best = i + lo;
  return best;
}

// `lungseg.predict.lr_labels`: 1 = the patient's right lung (image left of the midline), 2 = the left lung, 0 = background
export function lrLabels(m, h, w) {
  const c = midline(m, h, w), lab = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const i = y * w + x; if (m[i]) lab[i] = x < c ? 1 : 2; }
  return lab;
}

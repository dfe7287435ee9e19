// The "Try it" page's worker: reads an image, runs lungseg's input check and ONNX model with onnxruntime-web
// (WebAssembly) and lungseg's pre- and post-processing (pipeline.js), all off the page's main thread. Nothing leaves
// the browser. The steps are those of `lungseg.pipeline.run_pipeline` with `heart=True`: framing, the input check, the
// lung and the heart networks, finish; then the CTR as `lungseg.measure.measure` takes it.
import * as ort from './ort/ort.wasm.min.mjs';
import {shrink, toInput, settingsOf, finish, lrLabels, grayOfRGBA, decide, upright, turn, fieldBox, cropTo, paste,
  ctrWidths, ctrLines, NO_CHECK, WORK_SIDE} from './pipeline.js';
import {readDicom} from './dicom.js';

const here = new URL('./', import.meta.url).href;
let ready = null;  // a promise of {session, meta, settings, check, heart, ctrDef, threads, seconds}

async function fetchOk(url, what) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch the ${what} (${url}): HTTP ${r.status}`);
  return r;
}

async function load() {
  const t0 = performance.now();
  // GitHub Pages sends no cross-origin-isolation headers: no SharedArrayBuffer, so WebAssembly runs on one thread
  const threads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.wasmPaths = here + 'ort/';
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;  // this is already a worker
  ort.env.logLevel = 'error';
  const [session, meta] = await model('lungseg', 'model');
  const settings = settingsOf(meta);
  // the input check (lungseg/weights/input_check.onnx), run first as `lungseg predict` runs it
  const check = settings.input_check ? await model('input_check', 'input check') : null;
  // the heart model (lungseg/weights/heart.onnx, as `lungseg predict --heart` runs it) and the CTR's definition
  const [hs, hm] = await model('heart', 'heart model'), heart = {session: hs, settings: settingsOf(hm)};
  const m = await (await fetchOk(here + 'measure.json', 'CTR definition')).json();
  const ctrDef = {thorax: m.thorax, cardiac: m.cardiac};
  return {session, meta, settings, check, heart, ctrDef, threads, seconds: (performance.now() - t0) / 1000};
}

// An ONNX model of this site and its JSON: [onnxruntime session, JSON], the file checked against the SHA-256 in its
// JSON as lungseg.pipeline.load_net and lungseg.inputcheck.load_checker check it
async function model(name, what) {
  const meta = await (await fetchOk(here + name + '.json', what + ' settings')).json();
  const bytes = new Uint8Array(await (await fetchOk(here + name + '.onnx', what)).arrayBuffer());
  if (meta.onnx_sha256 && self.crypto && crypto.subtle) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = Array.from(d, b => b.toString(16).padStart(2, '0')).join('');
    if (hex !== meta.onnx_sha256) throw new Error(`${name}.onnx: its SHA-256 is not the one in ${name}.json`);
  }
  const opts = {executionProviders: ['wasm'], graphOptimizationLevel: 'all'};
  return [await ort.InferenceSession.create(bytes, opts), meta];
}

// The output of `session` (its first) on a batch of one `size` x `size` image `x`
async function infer(session, x, size) {
  const out = await session.run({[session.inputNames[0]]: new ort.Tensor('float32', x, [1, 1, size, size])});
  return out[session.outputNames[0]].data;
}

// `lungseg.inputcheck.Checker` on the working copy `small`: which quarter turn makes it upright, whether it is
// inverted, whether it is a frontal chest X-ray at all
async function checkInput(check, small) {
  if (!check) return NO_CHECK;
  const [session, meta] = check;
  return decide(await infer(session, toInput(small.a, small.h, small.w, meta.size), meta.size), meta.decision);
}

// A 16-bit grayscale PNG (not interlaced), decoded here so that it is rescaled from its own range to 8 bits as
// lungseg reads it (Pillow mode I;16 then `to_uint8`); browsers decode such files to 8 bits only
async function gray16(bytes, info) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), parts = [];
  for (let p = 8; p + 8 <= bytes.length;) {
    const len = dv.getUint32(p), type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (type === 'IDAT') parts.push(bytes.subarray(p + 8, p + 8 + len));
    if (type === 'IEND') break;
    p += 12 + len;
  }
  const raw = new Uint8Array(await new Response(new Blob(parts).stream().pipeThrough(new DecompressionStream('deflate'))).arrayBuffer());
  const {w, h} = info, stride = 2 * w, v = new Uint16Array(w * h);
  if (raw.length < h * (stride + 1)) throw new Error(`${info.name}: the PNG file is truncated.`);
  let prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= 2 ? cur[i - 2] : 0, b = prev[i], c = i >= 2 ? prev[i - 2] : 0;
      let pr;
      if (f === 0) pr = 0; else if (f === 1) pr = a; else if (f === 2) pr = b; else if (f === 3) pr = (a + b) >> 1;
      else { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      cur[i] = (row[i] + pr) & 255;
    }
    for (let x = 0; x < w; x++) v[y * w + x] = (cur[2 * x] << 8) | cur[2 * x + 1];
    [prev, cur] = [cur, prev];
  }
  let lo = 65535, hi = 0;
  for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  const k = 255 / Math.max(hi - lo, 1e-6), lut = new Uint8Array(65536), g = new Uint8Array(w * h);
  for (let i = 0; i < 65536; i++) { const f = Math.fround(Math.fround(i - lo) * Math.fround(k)); lut[i] = Math.min(255, Math.max(0, Math.round(f) - (Math.abs(f % 1) === 0.5 && Math.round(f) % 2 ? 1 : 0))); }
  for (let i = 0; i < g.length; i++) g[i] = lut[v[i]];
  return g;
}

// 8-bit grayscale of an image file's bytes (g, gh x gw: a DICOM's may be block-averaged) and the image's size (h x w)
async function decode(bytes, info) {
  if (info.kind === 'dicom') return readDicom(bytes, WORK_SIDE, info.maxPixels, info.name);
  if (info.kind === 'png' && info.depth === 16 && info.color === 0 && !info.interlaced) {
    try { return {g: await gray16(bytes, info), gh: info.h, gw: info.w, h: info.h, w: info.w}; }
    catch (e) { throw new Error(`${info.name}: cannot decode this 16-bit PNG file: it is damaged (${e.message}).`); }
  }
  let bmp;
  try { bmp = await createImageBitmap(new Blob([bytes]), {colorSpaceConversion: 'none', premultiplyAlpha: 'none'}); }
  catch (e) { throw new Error(`${info.name}: cannot decode this ${info.kind.toUpperCase()} file: it is damaged or not an image.`); }
  const {width: w, height: h} = bmp, cv = new OffscreenCanvas(w, h), cx = cv.getContext('2d', {willReadFrequently: true});
  cx.drawImage(bmp, 0, 0); bmp.close();
  return {g: grayOfRGBA(cx.getImageData(0, 0, w, h).data, w * h), gh: h, gw: w, h, w};
}

// A grayscale 8-bit PNG of `a` (h x w), like the masks `lungseg predict` writes
const CRC = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
function chunk(type, data) {
  const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
  dv.setUint32(0, data.length); for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  let c = 0xffffffff; for (let i = 4; i < 8 + data.length; i++) c = CRC[(c ^ out[i]) & 255] ^ (c >>> 8);
  dv.setUint32(8 + data.length, (c ^ 0xffffffff) >>> 0);
  return out;
}
async function grayPNG(a, h, w) {
  const raw = new Uint8Array(h * (w + 1));
  for (let y = 0; y < h; y++) raw.set(a.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const z = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w); dv.setUint32(4, h); ihdr[8] = 8; ihdr[9] = 0;
  return new Blob([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))], {type: 'image/png'});
}

// The overlay (RGBA at the working copy's size): the right lung (image left) orange, the left lung blue, outlined;
// the heart tinted and outlined in `lungseg.measure.draw_ctr`'s colours; the CTR's widths in its colours (thoracic
// green, cardiac magenta), found on the upright copy as `draw_ctr` finds them
const COLOURS = [null, [255, 140, 0], [30, 144, 255], [0, 96, 255]], EDGES = [null, ...COLOURS.slice(1, 3), [0, 255, 255]];
const LINES = [null, [0, 255, 0], [255, 0, 255]];
function overlay(small, sh, sw, lab, heart, h, w, rotation) {
  const L = new Uint8Array(sh * sw), H = new Uint8Array(sh * sw), sy = h / sh, sx = w / sw;
  for (let y = 0; y < sh; y++) {
    const r = Math.min(h - 1, Math.floor((y + 0.5) * sy)) * w;
    for (let x = 0; x < sw; x++) {
      const i = y * sw + x, j = r + Math.min(w - 1, Math.floor((x + 0.5) * sx));
      L[i] = lab[j]; H[i] = heart ? heart[j] : 0;
    }
  }
  const A = L.map((v, i) => H[i] ? 3 : v), width = Math.max(1, Math.floor(Math.max(sh, sw) / 256));
  // the outline: pixels within `width` px (4-connected steps) of another label, as draw_overlay's erosion
  let inner = A.slice();
  for (let it = 0; it < width; it++) {
    const next = new Uint8Array(sh * sw);
    for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
      const i = y * sw + x, v = inner[i];
      if (v && y > 0 && y < sh - 1 && x > 0 && x < sw - 1 && inner[i - 1] === v && inner[i + 1] === v && inner[i - sw] === v && inner[i + sw] === v) next[i] = v;
    }
    inner = next;
  }
  // the two widths, drawn upright (with end ticks 3 widths long each way) and turned back to the image's geometry
  const uL = turn(L, sh, sw, rotation), uH = turn(H, sh, sw, rotation), uh = uL.h, uw = uL.w, seg = new Uint8Array(uh * uw);
  const lines = ctrLines(uL.a, heart ? uH.a : null, uh, uw), half = Math.floor((width - 1) / 2);
  const box = (y0, y1, x0, x1, v) => {
    for (let y = Math.max(0, y0); y <= Math.min(uh - 1, y1); y++) for (let x = Math.max(0, x0); x <= Math.min(uw - 1, x1); x++) seg[y * uw + x] = v;
  };
  ['thoracic', 'cardiac'].forEach((k, n) => {
    if (!lines[k]) return;
    const [r, c0, c1] = lines[k], y0 = r - half, y1 = y0 + width - 1;
    box(y0, y1, c0, c1, n + 1);
    for (const c of [c0, c1]) box(r - 3 * width, r + 3 * width, c - half, c - half + width - 1, n + 1);
  });
  const S = turn(seg, uh, uw, -rotation).a, rgba = new Uint8ClampedArray(sh * sw * 4);
  for (let i = 0; i < sh * sw; i++) {
    const g = small[i], c = COLOURS[A[i]], j = 4 * i;
    if (S[i]) { const e = LINES[S[i]]; rgba[j] = e[0]; rgba[j + 1] = e[1]; rgba[j + 2] = e[2]; }
    else if (!c) { rgba[j] = rgba[j + 1] = rgba[j + 2] = g; }
    else if (!inner[i]) { const e = EDGES[A[i]]; rgba[j] = e[0]; rgba[j + 1] = e[1]; rgba[j + 2] = e[2]; }
    else for (let k = 0; k < 3; k++) rgba[j + k] = Math.round(0.65 * g + 0.35 * c[k]);
    rgba[j + 3] = 255;
  }
  return rgba;
}

async function segment(bytes, info) {
  const {session, settings: s, check, heart: hn, ctrDef, threads, seconds: loadSeconds} = await ready;
  const t = {start: performance.now()};
  const {g, gh, gw, h, w} = await decode(bytes, info);
  t.decoded = performance.now();
  const small = shrink(g, gh, gw, WORK_SIDE);
  // framing: the exposed field (input pixels; null: all of it); the check and the network see the copy cut to it
  const box = s.framing ? fieldBox(small.a, small.h, small.w, h, w) : null;
  const f = cropTo(small.a, small.h, small.w, box, h, w);
  const fh = box ? box[3] - box[1] : h, fw = box ? box[2] - box[0] : w;
  const c = await checkInput(check, f);
  const steps = {framing: !!s.framing, input_check: !!check};
  if (c.rejected) return {h, w, rejected: c.rejected, check: c, field: box, steps, threads, load_seconds: loadSeconds,
                          seconds: {total: (performance.now() - t.start) / 1000}};
  const up = upright(f.a, f.h, f.w, c);
  const x = toInput(up.a, up.h, up.w, s.size);
  t.input = performance.now();
  const prob = await infer(session, x, s.size);
  // the heart model on the same upright copy (`heart_maps`), its mask as `finish` makes it (the heart JSON's settings)
  const hs = hn.settings, hprob = await infer(hn.session, hs.size === s.size ? x : toInput(up.a, up.h, up.w, hs.size), hs.size);
  t.net = performance.now();
  const r = finish(prob, fh, fw, s, c);
  r.mask = paste(r.mask, box, h, w);   // the mask made inside the field, at the input's size
  const heart = paste(finish(hprob, fh, fw, hs, c).mask, box, h, w);
  // right and left are told apart on the upright mask, then turned back (as `lungseg predict` does)
  const um = turn(r.mask, h, w, c.rotation), ulab = lrLabels(um.a, um.h, um.w), lab = turn(ulab, um.h, um.w, -c.rotation).a;
  let n = 0, right = 0, nh = 0;
  for (let i = 0; i < lab.length; i++) { if (lab[i]) n++; if (lab[i] === 1) right++; if (heart[i]) nh++; }
  // the CTR on the upright masks at the input's size, as `lungseg.measure.measure` takes it
  const uheart = turn(heart, h, w, c.rotation).a, [cw, tw] = ctrWidths(ulab, uheart, um.h, um.w, ctrDef);
  const lines = ctrLines(ulab, nh ? uheart : null, um.h, um.w);
  t.post = performance.now();
  const png = await grayPNG(r.mask.map(v => v ? 255 : 0), h, w), heartPng = await grayPNG(heart.map(v => v ? 255 : 0), h, w);
  const rgba = overlay(small.a, small.h, small.w, lab, nh ? heart : null, h, w, c.rotation);
  t.end = performance.now();
  const sec = (a, b) => (t[b] - t[a]) / 1000;
  const seconds = {total: sec('start', 'end'), decode: sec('start', 'decoded'), input: sec('decoded', 'input'),
                   network: sec('input', 'net'), postprocess: sec('net', 'post'), outputs: sec('post', 'end')};
  return {h, w, sh: small.h, sw: small.w, png, heart_png: heartPng, rgba, lung_fraction: n / (h * w),
          right_lung_fraction: right / (h * w), left_lung_fraction: (n - right) / (h * w), heart_fraction: nh / (h * w),
          ctr: cw === null || tw === null ? null : cw / tw, cardiac_width: cw, thoracic_width: tw, ctr_lines: lines,
          qc_score: r.qc, qc_flag: r.flag,
          qc_threshold: s.qc ? s.qc.threshold : null, check: c, field: box, steps, threads, load_seconds: loadSeconds,
          seconds};
}

self.onmessage = async ({data}) => {
  try {
    if (!ready) ready = load();
    const res = await segment(data.bytes, data.info);
    self.postMessage({type: 'result', id: data.id, ...res}, res.rgba ? [res.rgba.buffer] : []);
  } catch (e) {
    if (ready) ready.catch(() => { ready = null; });  // a failed load: the next image tries again
    self.postMessage({type: 'error', id: data.id, message: String(e && e.message || e)});
  }
};

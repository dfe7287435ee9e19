// The "Try it" page: the reader's chest X-ray segmented in their browser by lungseg's model (worker.js).
// `?image=URL` (same site) runs on load. When a run ends, #lungseg-status reads `done`, the input check's reason for
// turning the image away (state `rejected`) or the error message; after `done`, #lungseg-mask and #lungseg-heart are
// <img>s whose src is the lung and the heart mask, PNG data URLs at the input's size.
import {isDicom} from './dicom.js';
const MAX_BYTES = 64 * 2 ** 20;   // larger files are refused before they are read
const MAX_PIXELS = 40e6;          // larger images are refused before they are decoded (about 6300 x 6300)
const here = new URL('./', import.meta.url).href;
const $ = id => document.getElementById(id);
let worker = null, runId = 0, busy = null;

function setStatus(text, state) {
  const el = $('lungseg-status');
  el.textContent = text; el.dataset.state = state;
}

function startWorker() {
  worker = new Worker(here + 'worker.js', {type: 'module'});
  worker.onerror = e => { e.preventDefault(); fail(`the page's worker stopped (${e.message || 'out of memory?'}); reload the page to try again`); worker = null; };
  worker.onmessage = ({data}) => busy && busy(data);
}

function fail(msg) {
  busy = null;
  setStatus(msg, 'error');
}

// What a file's first bytes say it is, and for PNG and JPEG, the image's size (read before anything is decoded)
export function sniff(b, name) {
  const u32 = i => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47)
    return {kind: 'png', w: u32(16), h: u32(20), depth: b[24], color: b[25], interlaced: b[28] === 1};
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    for (let p = 2; p + 9 < b.length;) {
      if (b[p] !== 0xff) { p++; continue; }
      const m = b[p + 1];
      if (m === 0xff || m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { p++; continue; }   // fill, markers without length
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
        return {kind: 'jpeg', h: (b[p + 5] << 8) | b[p + 6], w: (b[p + 7] << 8) | b[p + 8]};
      p += 2 + ((b[p + 2] << 8) | b[p + 3]);
    }
    return {kind: 'jpeg', h: 0, w: 0};
  }
  if (isDicom(b) || /\.(dcm|dicom)$/i.test(name)) return {kind: 'dicom'};
  return {kind: null};
}

function check(b, name) {
  const info = sniff(b, name);
  info.name = name; info.maxPixels = MAX_PIXELS;
  if (info.kind === 'dicom') return info;   // its size is checked by the worker, once the header is read
  if (!info.kind) throw new Error(`${name} is not a PNG, JPEG or DICOM image: choose a chest X-ray saved in one of these formats.`);
  if (!info.w || !info.h) throw new Error(`${name}: the ${info.kind.toUpperCase()} header gives no image size: the file is damaged.`);
  if (info.w * info.h > MAX_PIXELS)
    throw new Error(`${name} is ${info.w} × ${info.h} pixels (${(info.w * info.h / 1e6).toFixed(0)} megapixels): this page reads images up to ${MAX_PIXELS / 1e6} megapixels. Reduce it first, or run \`lungseg predict\`.`);
  return info;
}

async function run(getBytes, name) {
  const id = ++runId;
  $('lungseg-result').hidden = true;
  setStatus(`reading ${name}…`, 'running');
  try {
    const bytes = await getBytes();
    const info = check(bytes, name);
    if (!worker) startWorker();
    setStatus(`segmenting ${name}${info.w ? ` (${info.w} × ${info.h})` : ''}…`, 'running');
    const res = await new Promise((resolve, reject) => {
      busy = d => d.id !== id ? null : d.type === 'result' ? resolve(d) : d.type === 'error' ? reject(new Error(d.message)) : null;
      worker.postMessage({type: 'segment', id, bytes, info}, [bytes.buffer]);
    });
    if (id !== runId) return;   // a later run has started
    busy = null;
    if (res.rejected) return rejected(res, name);
    await show(res, name);
    setStatus('done', 'done');
  } catch (e) {
    if (id === runId) fail(String(e.message || e));
  }
}

const pct = x => (100 * x).toFixed(1) + ' %';

// An image the input check turned away, as `lungseg predict` does: no mask, the reason
function rejected(r, name) {
  window.lungsegResult = {name, width: r.w, height: r.h, rejected: r.rejected, chest_score: r.check.chest,
                          rotation: r.check.rotation, inverted: r.check.inverted, field: r.field, steps: r.steps};
  const why = r.rejected.replace('; no mask written; --no-input-check segments it anyway', '');
  const anyway = 'lungseg predict --no-input-check segments it anyway';
  setStatus(`${name} is turned away: ${why}. No mask is made (${anyway}).`, 'rejected');
}

// What the input check found, in words
function checkText(c) {
  if (c.chest === null) return 'not run';
  const turned = c.rotation ? `turned ${c.rotation}° counter-clockwise to be upright` : 'upright as given';
  return `a frontal chest X-ray (score ${c.chest.toFixed(4)}), ${turned}${c.inverted ? ', inverted back' : ''}`;
}

// A mask PNG (Blob) shown in the <img> `id` (made in box `boxId` the first time) and offered by link `linkId` as `file`
async function showMask(png, id, alt, boxId, linkId, file) {
  const url = await new Promise(res => { const fr = new FileReader(); fr.onload = () => res(fr.result); fr.readAsDataURL(png); });
  let img = $(id);
  if (!img) { img = document.createElement('img'); img.id = id; img.alt = alt; $(boxId).append(img); }
  await new Promise(res => { img.onload = img.onerror = res; img.src = url; });
  const a = $(linkId);
  a.href = url; a.download = file;
}

// The CTR's value on the overlay, top left, as `lungseg.measure.draw_ctr` writes it
function ctrLabel(cx, r) {
  if (r.ctr === null) return;
  const lw = Math.max(1, Math.floor(Math.max(r.sw, r.sh) / 256)), size = Math.max(12, Math.floor(Math.max(r.sw, r.sh) / 24));
  cx.font = `${size}px sans-serif`; cx.textBaseline = 'top'; cx.lineJoin = 'round';
  cx.lineWidth = 2 * lw; cx.strokeStyle = 'black'; cx.fillStyle = 'white';
  cx.strokeText(`CTR ${r.ctr.toFixed(2)}`, 4 * lw, 4 * lw); cx.fillText(`CTR ${r.ctr.toFixed(2)}`, 4 * lw, 4 * lw);
}

async function show(r, name) {
  const cv = $('lungseg-overlay');
  cv.width = r.sw; cv.height = r.sh;
  const cx = cv.getContext('2d');
  cx.putImageData(new ImageData(new Uint8ClampedArray(r.rgba), r.sw, r.sh), 0, 0);
  ctrLabel(cx, r);
  const stem = name.replace(/\.[^.]*$/, '');
  await showMask(r.png, 'lungseg-mask', 'the lung mask', 'lungseg-mask-box', 'lungseg-download', stem + '_mask.png');
  await showMask(r.heart_png, 'lungseg-heart', 'the heart mask', 'lungseg-heart-box', 'lungseg-heart-download', stem + '_heart.png');
  const s = r.seconds;
  $('lungseg-name').textContent = `${name}, ${r.w} × ${r.h} pixels`;
  $('lungseg-share').textContent = `${pct(r.lung_fraction)} of the image (right lung ${pct(r.right_lung_fraction)}, left lung ${pct(r.left_lung_fraction)})`;
  $('lungseg-heart-share').textContent = `${pct(r.heart_fraction)} of the image`;
  $('lungseg-ctr').textContent = r.ctr === null ? 'not measured: it needs both lungs and the heart' :
    `${r.ctr.toFixed(3)}: heart ${r.cardiac_width} px wide, thorax ${r.thoracic_width} px (the outlines' widest extent)` +
    (r.ctr > 0.5 ? '; above 0.5, the usual cut for an enlarged heart' : '');
  $('lungseg-qc').textContent = r.qc_score === null ? 'not set for this model' : `${r.qc_score.toFixed(4)}: ` +
    (r.qc_flag ? `flagged (above ${r.qc_threshold}): check this mask by eye` : `not flagged (threshold ${r.qc_threshold})`);
  $('lungseg-check').textContent = checkText(r.check);
  $('lungseg-field').textContent = !r.steps.framing ? 'not run' : r.field ? `x ${r.field[0]}–${r.field[2]}, ` +
    `y ${r.field[1]}–${r.field[3]}: the borders around it are cut away before segmenting` : 'the whole image';
  $('lungseg-time').textContent = `${s.total.toFixed(2)} s (network ${s.network.toFixed(2)} s), on ${r.threads} thread${r.threads > 1 ? 's' : ''}; loading the model took ${r.load_seconds.toFixed(2)} s, once per visit`;
  window.lungsegResult = {name, width: r.w, height: r.h, lung_fraction: r.lung_fraction,
                          right_lung_fraction: r.right_lung_fraction, left_lung_fraction: r.left_lung_fraction,
                          heart_fraction: r.heart_fraction, ctr: r.ctr, cardiac_width: r.cardiac_width,
                          thoracic_width: r.thoracic_width, ctr_lines: r.ctr_lines, qc_score: r.qc_score, qc_flag: r.qc_flag, threads: r.threads, seconds: s,
                          load_seconds: r.load_seconds, chest_score: r.check.chest, rotation: r.check.rotation,
                          inverted: r.check.inverted, field: r.field, steps: r.steps};
  $('lungseg-result').hidden = false;
}

function fromFile(f) {
  run(async () => {
    if (f.size > MAX_BYTES) throw new Error(`${f.name} is ${(f.size / 2 ** 20).toFixed(0)} MB: this page reads files up to ${MAX_BYTES / 2 ** 20} MB.`);
    if (f.size === 0) throw new Error(`${f.name} is empty.`);
    return new Uint8Array(await f.arrayBuffer());
  }, f.name);
}

function fromURL(u) {
  const url = new URL(u, location.href), name = decodeURIComponent(url.pathname.split('/').pop() || 'image');
  run(async () => {
    if (url.origin !== location.origin) throw new Error(`?image= takes an image on this site only (${url.origin} is another site): drop the file on the page instead.`);
    const r = await fetch(url);
    if (!r.ok) throw new Error(`cannot fetch ${url.pathname}: HTTP ${r.status}`);
    const n = Number(r.headers.get('content-length') || 0);
    if (n > MAX_BYTES) throw new Error(`${name} is ${(n / 2 ** 20).toFixed(0)} MB: this page reads files up to ${MAX_BYTES / 2 ** 20} MB.`);
    return new Uint8Array(await r.arrayBuffer());
  }, name);
}

async function samples() {
  const box = $('lungseg-samples');
  try {
    const list = await (await fetch(here + 'samples.json')).json();
    for (const s of list) {
      const b = document.createElement('button');
      b.type = 'button'; b.title = s; b.className = 'lungseg-sample';
      const im = document.createElement('img'); im.src = here + 'samples/' + s; im.alt = s; im.loading = 'eager';
      b.append(im); b.onclick = () => fromURL(here + 'samples/' + s);
      box.append(b);
    }
  } catch (e) { box.textContent = 'the sample images could not be listed'; }
}

function init() {
  const drop = $('lungseg-drop'), input = $('lungseg-file');
  input.addEventListener('change', () => input.files[0] && fromFile(input.files[0]));
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, e => { e.preventDefault(); drop.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, e => { e.preventDefault(); drop.classList.remove('over'); });
  drop.addEventListener('drop', e => e.dataTransfer.files[0] && fromFile(e.dataTransfer.files[0]));
  $('lungseg-threads').textContent = self.crossOriginIsolated ? `${Math.min(4, navigator.hardwareConcurrency || 1)} threads` : 'one thread';
  samples();
  const q = new URLSearchParams(location.search).get('image');
  if (q) fromURL(q); else setStatus('waiting for an image', 'idle');
}

init();

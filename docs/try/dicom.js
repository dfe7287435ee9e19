// DICOM for the "Try it" page: `lungseg.dicom.read_dicom` in JavaScript for uncompressed pixel data (little endian,
// explicit or implicit VR) and JPEG baseline. The rescale slope and intercept, the first window (LINEAR,
// LINEAR_EXACT or SIGMOID) and MONOCHROME1 are applied; large images are block-averaged first, as in lungseg.
// Other compressed transfer syntaxes, LUT sequences and big-endian files get a message that names them.

const TAGS = {  // (group << 16 | element): [keyword, VR for implicit-VR files]
  0x00020010: ['TransferSyntaxUID', 'UI'], 0x00280002: ['SamplesPerPixel', 'US'], 0x00280004: ['PhotometricInterpretation', 'CS'],
  0x00280006: ['PlanarConfiguration', 'US'], 0x00280008: ['NumberOfFrames', 'IS'], 0x00280010: ['Rows', 'US'], 0x00280011: ['Columns', 'US'],
  0x00280100: ['BitsAllocated', 'US'], 0x00280101: ['BitsStored', 'US'], 0x00280103: ['PixelRepresentation', 'US'],
  0x00281050: ['WindowCenter', 'DS'], 0x00281051: ['WindowWidth', 'DS'], 0x00281052: ['RescaleIntercept', 'DS'],
  0x00281053: ['RescaleSlope', 'DS'], 0x00281056: ['VOILUTFunction', 'CS'], 0x00283000: ['ModalityLUTSequence', 'SQ'],
  0x00283010: ['VOILUTSequence', 'SQ'], 0x7fe00010: ['PixelData', 'OB'],
};
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const SYNTAXES = {'1.2.840.10008.1.2': 'implicit', '1.2.840.10008.1.2.1': 'explicit', '1.2.840.10008.1.2.4.50': 'jpeg'};
const NAMES = {'1.2.840.10008.1.2.2': 'explicit VR big endian', '1.2.840.10008.1.2.1.99': 'deflated', '1.2.840.10008.1.2.4.51': 'JPEG extended',
  '1.2.840.10008.1.2.4.57': 'JPEG lossless', '1.2.840.10008.1.2.4.70': 'JPEG lossless', '1.2.840.10008.1.2.4.80': 'JPEG-LS',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS', '1.2.840.10008.1.2.4.90': 'JPEG 2000', '1.2.840.10008.1.2.4.91': 'JPEG 2000', '1.2.840.10008.1.2.5': 'RLE'};

export function isDicom(b) {
  return b.length > 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;  // 'DICM'
}

// The elements lungseg needs, from the file meta (explicit VR) and the top level of the data set
function parse(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength), out = {}, txt = (p, n) => new TextDecoder('latin1').decode(b.subarray(p, p + n));
  let p = 132, implicit = false;
  while (p + 8 <= b.length) {
    const g = dv.getUint16(p, true), e = dv.getUint16(p + 2, true), tag = ((g << 16) | e) >>> 0;
    if (g !== 2 && !('TransferSyntaxUID' in out)) throw new Error('the file meta information has no transfer syntax');
    if (g !== 2 && implicit === false) implicit = SYNTAXES[out.TransferSyntaxUID] === 'implicit';
    let vr, len, q;
    if (g !== 2 && implicit) { vr = (TAGS[tag] || [null, 'UN'])[1]; len = dv.getUint32(p + 4, true); q = p + 8; }
    else {
      vr = txt(p + 4, 2);
      if (LONG_VRS.has(vr)) { len = dv.getUint32(p + 8, true); q = p + 12; } else { len = dv.getUint16(p + 6, true); q = p + 8; }
    }
    const name = (TAGS[tag] || [])[0];
    if (tag === 0x7fe00010) { out.PixelData = {offset: q, length: len}; break; }
    if (len === 0xffffffff) {  // a sequence (or item) of undefined length: skip to its delimiter
      if (name) out[name] = true;
      let depth = 1;
      while (q + 8 <= b.length && depth) {
        const gg = dv.getUint16(q, true), ee = dv.getUint16(q + 2, true), l = dv.getUint32(q + 4, true);
        if (gg === 0xfffe && (ee === 0xe0dd || ee === 0xe00d)) { depth -= ee === 0xe0dd ? 1 : 0; q += 8; continue; }
        if (gg === 0xfffe && ee === 0xe000) { q += 8 + (l === 0xffffffff ? 0 : l); continue; }
        // an element inside an item: explicit or implicit, nested sequences of undefined length counted
        let ll, qq;
        if (implicit) { ll = l; qq = q + 8; }
        else { const v = txt(q + 4, 2); if (LONG_VRS.has(v)) { ll = dv.getUint32(q + 8, true); qq = q + 12; } else { ll = dv.getUint16(q + 6, true); qq = q + 8; } }
        if (ll === 0xffffffff) { depth++; q = qq; } else q = qq + ll;
      }
      p = q; continue;
    }
    if (name) {
      if (vr === 'US') out[name] = dv.getUint16(q, true);
      else if (vr === 'SQ') out[name] = len > 0;
      else out[name] = txt(q, len).replace(/[\0 ]+$/, '').trim();
    }
    p = q + len;
  }
  return out;
}

const num = (s, i = 0) => s === undefined ? undefined : parseFloat(String(s).split('\\')[i]);

// The first frame's pixel values (number array), or for JPEG baseline the 8-bit gray decoded by the browser
async function pixels(b, d, rows, cols, spp) {
  const {offset, length} = d.PixelData, syntax = SYNTAXES[d.TransferSyntaxUID];
  if (syntax === 'jpeg') {
    // encapsulated: a basic offset table item, then the fragments of the frames; one frame, one fragment or more
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength), frags = [];
    let q = offset;
    q += 8 + dv.getUint32(q + 4, true);  // the offset table
    while (q + 8 <= b.length && dv.getUint16(q + 2, true) === 0xe000) {
      const l = dv.getUint32(q + 4, true); frags.push(b.subarray(q + 8, q + 8 + l)); q += 8 + l;
      const last = frags[frags.length - 1];
      if (last.length > 1 && last[last.length - 2] === 0xff && last[last.length - 1] === 0xd9) break;   // end of the first frame
    }
    const bmp = await createImageBitmap(new Blob(frags, {type: 'image/jpeg'}), {colorSpaceConversion: 'none', premultiplyAlpha: 'none'});
    const cv = new OffscreenCanvas(bmp.width, bmp.height), cx = cv.getContext('2d', {willReadFrequently: true});
    cx.drawImage(bmp, 0, 0);
    return {jpeg: cx.getImageData(0, 0, bmp.width, bmp.height).data};
  }
  const bits = d.BitsAllocated, n = rows * cols * spp, bytes = n * bits / 8;
  if (![8, 16, 32].includes(bits)) throw new Error(`${bits}-bit DICOM pixel data is not read here`);
  if (length !== 0xffffffff && length < bytes) throw new Error('the DICOM pixel data is shorter than the image');
  const buf = b.slice(offset, offset + bytes).buffer, signed = d.PixelRepresentation === 1;
  const T = bits === 8 ? (signed ? Int8Array : Uint8Array) : bits === 16 ? (signed ? Int16Array : Uint16Array) : (signed ? Int32Array : Uint32Array);
  let v = new T(buf);
  if (signed && d.BitsStored < bits) {  // sign-extend from the stored bits, as pydicom does
    const sh = 32 - d.BitsStored, out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = (v[i] << sh) >> sh;
    v = out;
  }
  return {v};
}

// `lungseg.dicom.read_dicom`: 8-bit grayscale (block-averaged to about `maxSide`) and the image's size (h, w)
export async function readDicom(b, maxSide, maxPixels, name) {
  if (!isDicom(b)) throw new Error(`${name}: a DICOM file without the 'DICM' preamble is not read here: run \`lungseg predict\`, which reads it.`);
  const d = parse(b), ts = d.TransferSyntaxUID;
  if (!SYNTAXES[ts]) throw new Error(`${name}: DICOM with ${NAMES[ts] || 'transfer syntax ' + ts} pixel data is not read here: run \`lungseg predict\`, which reads it.`);
  if (!d.PixelData) throw new Error(`${name}: the DICOM file has no pixel data.`);
  if (d.ModalityLUTSequence || d.VOILUTSequence) throw new Error(`${name}: DICOM with a ${d.ModalityLUTSequence ? 'modality' : 'VOI'} LUT sequence is not read here: run \`lungseg predict\`, which reads it.`);
  const h = d.Rows, w = d.Columns, spp = d.SamplesPerPixel || 1;
  if (!h || !w) throw new Error(`${name}: the DICOM file gives no image size.`);
  if (h * w > maxPixels) throw new Error(`${name} is ${w} × ${h} pixels (${(w * h / 1e6).toFixed(0)} megapixels): this page reads images up to ${maxPixels / 1e6} megapixels. Reduce it first, or run \`lungseg predict\`.`);
  const px = await pixels(b, d, h, w, spp);
  if (px.jpeg || spp === 3) {   // colour (or JPEG baseline): 8 bits, luminance as Pillow computes it
    const src = px.jpeg, g = new Uint8Array(h * w), planar = d.PlanarConfiguration === 1;
    for (let i = 0; i < h * w; i++) {
      const [r, gg, bb] = src ? [src[4 * i], src[4 * i + 1], src[4 * i + 2]] : planar ? [px.v[i], px.v[h * w + i], px.v[2 * h * w + i]] : [px.v[3 * i], px.v[3 * i + 1], px.v[3 * i + 2]];
      g[i] = (r * 19595 + gg * 38470 + bb * 7471 + 0x8000) >> 16;
    }
    if (src && spp === 1) return finishGray(Float64Array.from(g), h, w, h, w, d, maxSide);
    return {g, gh: h, gw: w, h, w};
  }
  if (spp !== 1) throw new Error(`${name}: DICOM with ${spp} samples per pixel is not read here.`);
  return finishGray(px.v, h, w, h, w, d, maxSide);
}

function finishGray(v, h, w, H, W, d, maxSide) {
  // block_mean: f x f blocks (edges cropped) in float32, when the image is at least twice `maxSide`
  let a = v, gh = h, gw = w;
  const f = Math.floor(Math.max(h, w) / maxSide);
  if (f >= 2) {
    gh = Math.floor(h / f); gw = Math.floor(w / f);
    a = new Float32Array(gh * gw);
    const acc = new Float64Array(gw);
    for (let by = 0; by < gh; by++) {
      acc.fill(0);
      for (let y = by * f; y < (by + 1) * f; y++) for (let x = 0; x < gw * f; x++) acc[(x / f) | 0] += v[y * w + x];
      for (let x = 0; x < gw; x++) a[by * gw + x] = acc[x] / (f * f);
    }
  }
  const n = gh * gw, out = new Float64Array(n);
  const slope = num(d.RescaleSlope), icpt = num(d.RescaleIntercept), rescale = slope !== undefined && icpt !== undefined;
  for (let i = 0; i < n; i++) out[i] = rescale ? a[i] * slope + icpt : a[i];
  if (d.WindowCenter !== undefined && d.WindowWidth !== undefined) {   // pydicom's apply_windowing, the first window
    const fn = (d.VOILUTFunction || 'LINEAR').toUpperCase(), bits = d.BitsStored || d.BitsAllocated;
    let ymin = d.PixelRepresentation === 1 ? -(2 ** (bits - 1)) : 0, ymax = d.PixelRepresentation === 1 ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (rescale) { ymin = ymin * slope + icpt; ymax = ymax * slope + icpt; }
    const yr = ymax - ymin;
    let c = num(d.WindowCenter), wd = num(d.WindowWidth);
    if (fn === 'SIGMOID') { for (let i = 0; i < n; i++) out[i] = yr / (1 + Math.exp(-4 * (out[i] - c) / wd)) + ymin; }
    else {
      if (fn === 'LINEAR') { c -= 0.5; wd -= 1; }
      for (let i = 0; i < n; i++) {
        const x = out[i];
        out[i] = x <= c - wd / 2 ? ymin : x > c + wd / 2 ? ymax : ((x - c) / wd + 0.5) * yr + ymin;
      }
    }
  }
  // float32, MONOCHROME1 inverted, then `to_uint8`: rescaled from its own range
  const f32 = Float32Array.from(out);
  let lo = Infinity, hi = -Infinity;
  for (const x of f32) { if (x < lo) lo = x; if (x > hi) hi = x; }
  if ((d.PhotometricInterpretation || '').toUpperCase() === 'MONOCHROME1') { for (let i = 0; i < n; i++) f32[i] = Math.fround(hi - f32[i]); [lo, hi] = [0, Math.fround(hi - lo)]; }
  const k = Math.fround(255 / Math.max(hi - lo, 1e-6)), g = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = Math.fround(Math.fround(f32[i] - lo) * k), r = Math.round(y);
    g[i] = Math.min(255, Math.max(0, (r - y === 0.5 && r % 2) ? r - 1 : r));
  }
  return {g, gh, gw, h: H, w: W};
}

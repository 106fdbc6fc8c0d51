/**
 * Pillow's separable resampling with the bilinear (triangle) filter, as torchvision's Resize
 * runs it on PIL images: support scaled by the downscale factor (antialiasing), 22-bit fixed-point
 * weights, and an 8-bit rounding between the horizontal and the vertical pass. Written out so
 * that upscaling matches PIL bit for bit (libvips upsamples on another pixel grid, see image.ts).
 * It runs on the main thread, so image.ts uses it only for axes that grow, which is rare and cheap.
 */

const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coefficients {
  /** First input index for each output index. */
  start: Int32Array;
  /** Number of taps for each output index. */
  count: Int32Array;
  /** Fixed-point weights, `taps` per output index. */
  weights: Int32Array;
  taps: number;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = filterScale; // bilinear support 1, stretched when shrinking
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const pre = new Float64Array(taps);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) / filterScale);
      pre[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? (pre[x] as number) / sum : 0;
      weights[xx * taps + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, taps };
}

function clip8(acc: number): number {
  if (acc <= 0) return 0;
  const v = Math.floor(acc / ONE);
  return v > 255 ? 255 : v;
}

/** Resamples interleaved 8-bit pixels (HWC) to outWidth × outHeight, horizontal pass first as Pillow does. */
export function resamplePilBilinear(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  let cur = data;
  let curW = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(outWidth * height * channels);
    for (let y = 0; y < height; y++) {
      const rowIn = y * width * channels;
      const rowOut = y * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const s = c.start[xx] as number;
        const n = c.count[xx] as number;
        const k0 = xx * c.taps;
        for (let ch = 0; ch < channels; ch++) {
          let acc = HALF;
          for (let t = 0; t < n; t++) acc += (cur[rowIn + (s + t) * channels + ch] as number) * (c.weights[k0 + t] as number);
          out[rowOut + xx * channels + ch] = clip8(acc);
        }
      }
    }
    cur = out;
    curW = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight);
    const out = new Uint8Array(curW * outHeight * channels);
    const stride = curW * channels;
    for (let yy = 0; yy < outHeight; yy++) {
      const s = c.start[yy] as number;
      const n = c.count[yy] as number;
      const k0 = yy * c.taps;
      const rowOut = yy * stride;
      for (let i = 0; i < stride; i++) {
        let acc = HALF;
        for (let t = 0; t < n; t++) acc += (cur[(s + t) * stride + i] as number) * (c.weights[k0 + t] as number);
        out[rowOut + i] = clip8(acc);
      }
    }
    cur = out;
  }
  return cur === data ? data.slice() : cur;
}

import * as T from '../tensor/index.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { checkImages, checkPerImage, checkRange } from './check.js';

/**
 * Colour operations on image batches [N, 3, H, W] in [0, 1], computed as torchvision 0.14's
 * functional_tensor does (same formulas, same order of float operations), with one factor per
 * image or one for all; and torchvision's ColorJitter: factors drawn per image, the four
 * operations applied in a random order per image.
 */

/** A factor for the whole batch, or one per image. */
export type Factors = number | readonly number[];

export const JITTER_OPS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type JitterOp = (typeof JITTER_OPS)[number];

// [N,1,1,1] factors (or the plain number), checked against [lo, hi].
function factorOperand(fn: string, images: T.Tensor, factors: Factors, lo: number, hi: number, fill: (f: number) => number = (f) => f): number | T.Tensor {
  if (typeof factors === 'number') {
    checkRange(fn, 'factor', factors, lo, hi);
    return fill(factors);
  }
  checkPerImage(fn, 'factors', factors.length, images);
  for (const f of factors) checkRange(fn, 'factor', f, lo, hi);
  return T.tensor(Float64Array.from(factors, fill), [factors.length, 1, 1, 1], { dtype: images.dtype, device: images.device });
}

const mulBy = (x: T.Tensor, f: number | T.Tensor): T.Tensor => T.mul(x, f);

// torchvision's _blend: (ratio·img1 + (1 − ratio)·img2).clamp(0, 1), with 1 − ratio taken in float64.
function blend(fn: string, img1: T.Tensor, img2: T.Tensor, factors: Factors): T.Tensor {
  const ratio = factorOperand(fn, img1, factors, 0, Infinity);
  const rest = factorOperand(fn, img1, factors, 0, Infinity, (f) => 1 - f);
  return T.clamp(T.add(mulBy(img1, ratio), mulBy(img2, rest)), 0, 1);
}

/** rgb_to_grayscale: 0.2989·R + 0.587·G + 0.114·B, [N, 1, H, W] (or repeated to 3 channels). */
export function rgbToGrayscale(images: T.Tensor, outputChannels: 1 | 3 = 1): T.Tensor {
  checkImages('rgbToGrayscale', images);
  return T.tidy(() => {
    const [r, g, b] = [0, 1, 2].map((c) => T.select(images, 1, c)) as [T.Tensor, T.Tensor, T.Tensor];
    const gray = T.unsqueeze(T.add(T.add(T.mul(r, 0.2989), T.mul(g, 0.587)), T.mul(b, 0.114)), 1);
    return outputChannels === 3 ? T.contiguous(T.expand(gray, images.shape)) : gray;
  });
}

/** adjust_brightness: blend with black. Factors ≥ 0. */
export function adjustBrightness(images: T.Tensor, factors: Factors): T.Tensor {
  checkImages('adjustBrightness', images);
  // (1 − f)·0 adds nothing (±0), so the blend reduces to clamp(f·img) bit for bit.
  return T.tidy(() => T.clamp(mulBy(images, factorOperand('adjustBrightness', images, factors, 0, Infinity)), 0, 1));
}

/** adjust_contrast: blend with the mean of the image's grayscale. Factors ≥ 0. */
export function adjustContrast(images: T.Tensor, factors: Factors): T.Tensor {
  checkImages('adjustContrast', images);
  return T.tidy(() => blend('adjustContrast', images, T.mean(rgbToGrayscale(images), [1, 2, 3], true), factors));
}

/** adjust_saturation: blend with the grayscale image. Factors ≥ 0. */
export function adjustSaturation(images: T.Tensor, factors: Factors): T.Tensor {
  checkImages('adjustSaturation', images);
  return T.tidy(() => blend('adjustSaturation', images, rgbToGrayscale(images), factors));
}

/** adjust_hue: RGB -> HSV, h = (h + factor) mod 1, HSV -> RGB. Factors in [-0.5, 0.5]. */
export function adjustHue(images: T.Tensor, factors: Factors): T.Tensor {
  checkImages('adjustHue', images);
  return T.tidy(() => {
    const shift = factorOperand('adjustHue', images, factors, -0.5, 0.5);
    const [h, s, v] = rgbToHsv(images);
    const shifted = T.remainder(T.add(h, typeof shift === 'number' ? shift : T.squeeze(shift, 1)), 1);
    return hsvToRgb(shifted, s, v);
  });
}

// torchvision's _rgb2hsv: [h, s, v] planes [N, H, W].
function rgbToHsv(images: T.Tensor): [T.Tensor, T.Tensor, T.Tensor] {
  const [r, g, b] = [0, 1, 2].map((c) => T.select(images, 1, c)) as [T.Tensor, T.Tensor, T.Tensor];
  const maxc = T.amax(images, 1);
  const minc = T.amin(images, 1);
  const eqc = T.eq(maxc, minc);
  const cr = T.sub(maxc, minc);
  const ones = T.onesLike(maxc);
  const s = T.div(cr, T.where(eqc, ones, maxc));
  const crDivisor = T.where(eqc, ones, cr);
  const rc = T.div(T.sub(maxc, r), crDivisor);
  const gc = T.div(T.sub(maxc, g), crDivisor);
  const bc = T.div(T.sub(maxc, b), crDivisor);
  const asFloat = (m: T.Tensor): T.Tensor => T.toDtype(m, images.dtype);
  const notR = T.ne(maxc, r);
  const hr = T.mul(asFloat(T.eq(maxc, r)), T.sub(bc, gc));
  const hg = T.mul(asFloat(T.logicalAnd(T.eq(maxc, g), notR)), T.sub(T.add(rc, 2), bc));
  const hb = T.mul(asFloat(T.logicalAnd(T.ne(maxc, g), notR)), T.sub(T.add(gc, 4), rc));
  const h = T.add(T.add(hr, hg), hb);
  // fmod and remainder agree here: h/6 + 1 > 0.
  return [T.remainder(T.add(T.div(h, 6), 1), 1), s, maxc];
}

// Which of (v, p, q, t) each channel takes in each sector of the hue circle: torchvision's
// _hsv2rgb table (r: v q p p t v, g: t v v q p p, b: p p t v v q), one row per sector.
const SECTOR_PICKS = BigInt64Array.from([0, 3, 1, 2, 0, 1, 1, 0, 3, 1, 2, 0, 3, 1, 0, 0, 1, 2], BigInt);

// torchvision's _hsv2rgb. Its one-hot einsum selects one candidate per pixel and channel;
// gathering from the four candidates selects the same values exactly, without stacking 18 planes.
function hsvToRgb(h: T.Tensor, s: T.Tensor, v: T.Tensor): T.Tensor {
  const [n, height, width] = h.shape as [number, number, number];
  const h6 = T.mul(h, 6);
  const i = T.floor(h6);
  const f = T.sub(h6, i);
  const p = T.clamp(T.mul(v, T.rsub(s, 1)), 0, 1);
  const q = T.clamp(T.mul(v, T.rsub(T.mul(s, f), 1)), 0, 1);
  const t = T.clamp(T.mul(v, T.rsub(T.mul(s, T.rsub(f, 1)), 1)), 0, 1);
  const sector = T.reshape(T.toDtype(T.remainder(i, 6), 'int64'), [-1]);
  const table = T.tensor(SECTOR_PICKS, [6, 3], { device: h.device });
  const picks = T.contiguous(T.permute(T.reshape(T.indexSelect(table, 0, sector), [n, height, width, 3]), [0, 3, 1, 2]));
  return T.gather(T.stack([v, p, q, t], 1), 1, picks);
}

/** ColorJitter strengths: brightness/contrast/saturation factors drawn from [max(0, 1−x), 1+x], hue from [−x, x]. */
export interface ColorJitterStrength {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** One image's draw: the order of the four operations and each factor (null: operation off). */
export interface ColorJitterParams {
  order: readonly JitterOp[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

export function checkJitterStrength(fn: string, s: ColorJitterStrength): void {
  for (const k of ['brightness', 'contrast', 'saturation'] as const) checkRange(fn, `jitter ${k}`, s[k], 0, Infinity);
  checkRange(fn, 'jitter hue', s.hue, 0, 0.5);
}

/** One image's jitter parameters, as torchvision's ColorJitter.get_params (a strength of 0 turns that operation off). */
export function sampleColorJitter(rng: Random, strength: ColorJitterStrength): ColorJitterParams {
  checkJitterStrength('sampleColorJitter', strength);
  const order = rng.shuffled(JITTER_OPS);
  const factor = (x: number): number | null => (x > 0 ? rng.uniform(Math.max(0, 1 - x), 1 + x) : null);
  const brightness = factor(strength.brightness);
  const contrast = factor(strength.contrast);
  const saturation = factor(strength.saturation);
  const hue = strength.hue > 0 ? rng.uniform(-strength.hue, strength.hue) : null;
  return { order, brightness, contrast, saturation, hue };
}

const ADJUST: Record<JitterOp, (images: T.Tensor, factors: Factors) => T.Tensor> = {
  brightness: adjustBrightness,
  contrast: adjustContrast,
  saturation: adjustSaturation,
  hue: adjustHue,
};

/**
 * Applies each image's jitter (null: leave the image as it is). At each of the four steps the
 * images are grouped by the operation they take there, so every image gets its own order while
 * each operation runs batched.
 */
export function applyColorJitter(images: T.Tensor, params: readonly (ColorJitterParams | null)[]): T.Tensor {
  checkImages('applyColorJitter', images);
  checkPerImage('applyColorJitter', 'jitter parameter sets', params.length, images);
  for (const p of params) {
    if (p !== null && (p.order.length !== 4 || new Set(p.order).size !== 4 || !p.order.every((o) => JITTER_OPS.includes(o)))) {
      throw new SpotdiffError('ERR_BAD_INPUT', `applyColorJitter: order must be a permutation of ${JITTER_OPS.join(', ')}, got [${p.order.join(', ')}]`);
    }
  }
  return T.tidy(() => {
    let out = T.clone(images);
    for (let step = 0; step < 4; step++) {
      for (const op of JITTER_OPS) {
        const members: number[] = [];
        const factors: number[] = [];
        params.forEach((p, n) => {
          const f = p === null ? null : p[op];
          if (p !== null && p.order[step] === op && f !== null) {
            members.push(n);
            factors.push(f);
          }
        });
        if (members.length === 0) continue;
        if (members.length === params.length) {
          out = ADJUST[op](out, factors);
          continue;
        }
        const idx = T.tensor(BigInt64Array.from(members, (m) => BigInt(m)), undefined, { device: images.device });
        T.indexPutInPlace(out, [idx], ADJUST[op](T.indexSelect(out, 0, idx), factors));
      }
    }
    return out;
  });
}

/** Draws jitter for each image with probability p (else null) and applies it. */
export function colorJitter(
  images: T.Tensor,
  rng: Random,
  strength: ColorJitterStrength,
  p = 1,
): { images: T.Tensor; params: (ColorJitterParams | null)[] } {
  checkImages('colorJitter', images);
  checkRange('colorJitter', 'p', p, 0, 1);
  const params = Array.from({ length: images.shape[0]! }, () => (rng.chance(p) ? sampleColorJitter(rng, strength) : null));
  return { images: applyColorJitter(images, params), params };
}

import sharp from 'sharp';
import { SpotdiffError } from '../util/errors.js';
import type { RgbImage } from '../data/image.js';
import type { MaskImage } from '../data/mask.js';
import { checkRange, colormapLut, lutIndex, type ColormapName, type ValueRange } from './colormap.js';

/**
 * Heatmap overlays and binary masks from anomaly maps, on plain typed arrays; sharp only
 * resizes and encodes. Colours are normalised with an explicit [vmin, vmax] rather than each
 * map's own min and max: per-map scaling paints the noise of a clean image as red as a real
 * defect and makes colours in a grid incomparable, whereas one shared range (sharedRange over
 * the batch, or a range tied to the threshold) makes a colour mean the same score everywhere.
 */

/** An anomaly map, row-major (height × width); any range, higher = more anomalous. */
export interface AnomalyMap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface OverlayOptions {
  range: ValueRange;
  /** Default 'turbo'. */
  colormap?: ColormapName;
  /** Weight of the heatmap colour in the blend (default 0.5). */
  alpha?: number;
  /** Pixels whose value is below this keep the image's own colour (default: colour everything). */
  clearBelow?: number;
  /** Ground truth (same size as the map): its outline is drawn on top. */
  groundTruth?: MaskImage | null;
  /** Outline colour (default white) and width in output pixels (default 1). */
  contourColor?: readonly [number, number, number];
  contourWidth?: number;
  /** Shrink the result so neither side exceeds this (default: the map's size). */
  maxSide?: number;
}

function checkMap(map: AnomalyMap, what = 'anomaly map'): void {
  const n = map.width * map.height;
  if (!Number.isInteger(map.width) || !Number.isInteger(map.height) || map.width <= 0 || map.height <= 0 || map.data.length !== n) {
    throw new SpotdiffError('ERR_SHAPE', `${what}: ${map.data.length} values for a ${map.width}×${map.height} map`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(map.data[i])) throw new SpotdiffError('ERR_BAD_INPUT', `${what}: value at pixel ${i} is ${map.data[i]}; maps must be finite`);
  }
}

/** The smallest and largest value over a batch of maps: one colour scale for all of them. */
export function sharedRange(maps: Iterable<AnomalyMap>): ValueRange {
  let vmin = Infinity;
  let vmax = -Infinity;
  for (const map of maps) {
    checkMap(map);
    for (let i = 0; i < map.data.length; i++) {
      const v = map.data[i] as number;
      if (v < vmin) vmin = v;
      if (v > vmax) vmax = v;
    }
  }
  if (vmin === Infinity) throw new SpotdiffError('ERR_BAD_INPUT', 'no maps to take a colour range from');
  // A constant batch still needs a non-empty range; it then shows the colormap's low end.
  return vmax > vmin ? { vmin, vmax } : { vmin, vmax: vmin + 1 };
}

/** The map coloured through the colormap, as an RGB image of the map's size. */
export function heatmapRgb(map: AnomalyMap, range: ValueRange, colormap: ColormapName = 'turbo'): RgbImage {
  checkMap(map);
  checkRange(range);
  const lut = colormapLut(colormap);
  const n = map.width * map.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const k = lutIndex(map.data[i] as number, range) * 3;
    out[i * 3] = lut[k] as number;
    out[i * 3 + 1] = lut[k + 1] as number;
    out[i * 3 + 2] = lut[k + 2] as number;
  }
  return { width: map.width, height: map.height, data: out };
}

async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

async function resizeMaskNearest(mask: MaskImage, width: number, height: number): Promise<MaskImage> {
  const grey = new Uint8Array(mask.data.length);
  for (let i = 0; i < grey.length; i++) grey[i] = mask.data[i] !== 0 ? 255 : 0;
  const data = await sharp(grey, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .raw()
    .toBuffer();
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = (data[i] as number) >= 128 ? 1 : 0;
  return { width, height, data: out };
}

/** The output size when neither side may exceed maxSide (aspect ratio kept). */
function fitSize(width: number, height: number, maxSide: number | undefined): [number, number] {
  if (maxSide === undefined || Math.max(width, height) <= maxSide) return [width, height];
  if (!Number.isInteger(maxSide) || maxSide < 1) throw new SpotdiffError('ERR_BAD_INPUT', `maxSide must be a positive integer, got ${maxSide}`);
  const s = maxSide / Math.max(width, height);
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

/**
 * Pixels on the mask's outline, inside the mask: width 1 marks pixels with a 4-neighbour outside
 * (a thin 8-connected line); width k marks pixels with an outside pixel within k steps in x and
 * y. The image border counts as outside, so a defect touching the edge is closed.
 */
export function maskContour(mask: MaskImage, width = 1): Uint8Array {
  const { width: w, height: h, data } = mask;
  const outside = (x: number, y: number): boolean => x < 0 || y < 0 || x >= w || y >= h || data[y * w + x] === 0;
  const r = Math.max(1, Math.round(width));
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (outside(x, y)) continue;
      let edge = false;
      if (r === 1) edge = outside(x - 1, y) || outside(x + 1, y) || outside(x, y - 1) || outside(x, y + 1);
      else {
        for (let dy = -r; dy <= r && !edge; dy++) for (let dx = -r; dx <= r && !edge; dx++) edge = outside(x + dx, y + dy);
      }
      if (edge) out[y * w + x] = 1;
    }
  }
  return out;
}

/**
 * The heatmap blended over the image: out = (1 − alpha)·image + alpha·colour, rounded once.
 * The image is stretched to the map's size when they differ (pass the image the model saw,
 * resized and cropped, so the two line up). Returns raw RGB; overlayPng encodes it.
 */
export async function overlayRgb(image: RgbImage, map: AnomalyMap, options: OverlayOptions): Promise<RgbImage> {
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `overlay alpha must be in [0, 1], got ${alpha}`);
  if (image.data.length !== image.width * image.height * 3) {
    throw new SpotdiffError('ERR_SHAPE', `image: ${image.data.length} bytes for a ${image.width}×${image.height} RGB image`);
  }
  const gt = options.groundTruth ?? null;
  if (gt !== null && (gt.width !== map.width || gt.height !== map.height || gt.data.length !== map.width * map.height)) {
    throw new SpotdiffError('ERR_SHAPE', `ground-truth mask is ${gt.width}×${gt.height}, the anomaly map ${map.width}×${map.height}`);
  }
  const heat = heatmapRgb(map, options.range, options.colormap);
  const base = image.width === map.width && image.height === map.height ? image : await resizeRgb(image, map.width, map.height);
  const n = map.width * map.height;
  const blended = new Uint8Array(n * 3);
  const clearBelow = options.clearBelow ?? -Infinity;
  for (let i = 0; i < n; i++) {
    const a = (map.data[i] as number) < clearBelow ? 0 : alpha;
    for (let c = 0; c < 3; c++) {
      const k = i * 3 + c;
      blended[k] = Math.round((1 - a) * (base.data[k] as number) + a * (heat.data[k] as number));
    }
  }
  let out: RgbImage = { width: map.width, height: map.height, data: blended };
  const [w, h] = fitSize(map.width, map.height, options.maxSide);
  if (w !== map.width || h !== map.height) out = await resizeRgb(out, w, h);
  if (gt !== null) {
    // Drawn after any shrinking, so the outline stays crisp and visible at the output size.
    const small = w === gt.width && h === gt.height ? gt : await resizeMaskNearest(gt, w, h);
    const contour = maskContour(small, options.contourWidth ?? 1);
    const colour = options.contourColor ?? [255, 255, 255];
    for (let i = 0; i < w * h; i++) {
      if (contour[i] === 1) out.data.set(colour, i * 3);
    }
  }
  return out;
}

/** The overlay as PNG bytes. */
export async function overlayPng(image: RgbImage, map: AnomalyMap, options: OverlayOptions): Promise<Uint8Array> {
  return encodePng(await overlayRgb(image, map, options));
}

/** Predicted defect pixels: 1 where the map is >= threshold (the metrics' convention). */
export function thresholdMask(map: AnomalyMap, threshold: number): MaskImage {
  checkMap(map);
  if (!Number.isFinite(threshold)) throw new SpotdiffError('ERR_BAD_INPUT', `mask threshold must be finite, got ${threshold}`);
  const out = new Uint8Array(map.width * map.height);
  for (let i = 0; i < out.length; i++) out[i] = (map.data[i] as number) >= threshold ? 1 : 0;
  return { width: map.width, height: map.height, data: out };
}

/** The binary mask at a threshold as an 8-bit greyscale PNG: 255 = defect, 0 = background. */
export async function maskPng(map: AnomalyMap, threshold: number): Promise<Uint8Array> {
  const mask = thresholdMask(map, threshold);
  const grey = new Uint8Array(mask.data.length);
  for (let i = 0; i < grey.length; i++) grey[i] = mask.data[i] === 1 ? 255 : 0;
  const png = await sharp(grey, { raw: { width: map.width, height: map.height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

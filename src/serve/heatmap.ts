import type { RgbImage } from '../data/image.js';
import { maskPng, overlayPng, sharedRange, type AnomalyMap } from '../report/overlay.js';
import type { ValueRange } from '../report/colormap.js';

/** The heatmap part of a score response: PNGs as base64. */
export interface HeatmapPayload {
  /** The anomaly map coloured (turbo) over the preprocessed image, PNG as base64. */
  overlay: string;
  /** The map thresholded at the model's pixel threshold: 255 = defect, 0 = background, PNG as base64. */
  mask: string;
  /** The colour scale of the overlay: [vmin, vmax]. */
  range: [number, number];
}

/**
 * The overlay's colour scale, one per model: [0, 2 × pixel threshold], so the threshold sits
 * at the middle of the colormap and a colour means the same score in every response (a
 * per-image range would paint the noise of a clean image as red as a defect). A threshold
 * <= 0 has no such scale: the map's own range is used then.
 */
export function heatmapRange(pixelThreshold: number, map: AnomalyMap): ValueRange {
  return pixelThreshold > 0 ? { vmin: 0, vmax: 2 * pixelThreshold } : sharedRange([map]);
}

export async function heatmapPayload(image: RgbImage, map: AnomalyMap, pixelThreshold: number): Promise<HeatmapPayload> {
  const range = heatmapRange(pixelThreshold, map);
  const [overlay, mask] = await Promise.all([overlayPng(image, map, { range }), maskPng(map, pixelThreshold)]);
  return { overlay: Buffer.from(overlay).toString('base64'), mask: Buffer.from(mask).toString('base64'), range: [range.vmin, range.vmax] };
}

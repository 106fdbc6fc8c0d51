/**
 * The anomaly map over the image, as spotdiff's overlays (src/report/overlay.ts,
 * src/serve/heatmap.ts): turbo colours on the model's fixed scale [0, 2 × pixel threshold]
 * (the map's own range when that threshold is not positive), blended at alpha 0.5, rounded once.
 */
interface ColourRange {
  vmin: number;
  vmax: number;
}

function heatmapRange(pixelThreshold: number, map: Float32Array): ColourRange {
  if (pixelThreshold > 0) return { vmin: 0, vmax: 2 * pixelThreshold };
  let vmin = Infinity;
  let vmax = -Infinity;
  for (const v of map) {
    if (v < vmin) vmin = v;
    if (v > vmax) vmax = v;
  }
  return vmax > vmin ? { vmin, vmax } : { vmin, vmax: vmin + 1 };
}

/** colormap.ts lutIndex: the position in the range, clamped, to the nearest of 256 entries. */
function lutIndex(value: number, range: ColourRange): number {
  const t = (value - range.vmin) / (range.vmax - range.vmin);
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

/** RGBA pixels of the blend, the image and the map both at the model's input size. */
function overlayPixels(img: DecodedImage, map: Float32Array, range: ColourRange, alpha = 0.5): ImageData {
  const n = img.width * img.height;
  if (map.length !== n) throw new Error(`the map has ${map.length} values for a ${img.width}×${img.height} image`);
  const out = new ImageData(img.width, img.height);
  const lut = spotdiffShared.turbo;
  for (let i = 0; i < n; i++) {
    const k = lutIndex(map[i] as number, range) * 3;
    for (let c = 0; c < 3; c++) out.data[i * 4 + c] = Math.round((1 - alpha) * (img.rgb[i * 3 + c] as number) + alpha * (lut[k + c] as number));
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** The colour bar under the overlay: the table left to right. */
function colourBar(width: number, height: number): ImageData {
  const out = new ImageData(width, height);
  const lut = spotdiffShared.turbo;
  for (let x = 0; x < width; x++) {
    const k = Math.round((x / (width - 1)) * 255) * 3;
    for (let y = 0; y < height; y++) out.data.set([lut[k] as number, lut[k + 1] as number, lut[k + 2] as number, 255], (y * width + x) * 4);
  }
  return out;
}

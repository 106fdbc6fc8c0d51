import * as T from '../../tensor/index.js';
import type { ResNet } from '../../models/resnet.js';
import { gaussianBlur } from '../../augment/gaussian-blur.js';
import { upsampleScores } from '../common/anomaly-map.js';
import type { FeatureMaps, Scores } from '../common/features.js';
import { cutTiles, parseTileSpec, stitchTiles, tileLayout, type Tile, type TileConfig } from '../common/tiling.js';
import { SpotdiffError } from '../../util/errors.js';
import type { ModelManifest } from './model-folder.js';
import { batchFeatures, disposeFeatures } from './backbone.js';
import { moduleDevice } from './device.js';
import { detectorLayers, type Detector } from './detector.js';

/**
 * The glue between tiling (src/detect/common/tiling.ts) and the backbone/detector: cuts a
 * batch of preprocessed images into tiles, runs the backbone on at most `maxTiles` tiles at a
 * time, and for scoring stitches the tiles' maps back into whole-image maps.
 */

/** Tiles per loader batch: whole images whose tiles fill about one backbone batch (at least one image). */
export function imagesPerBatch(height: number, width: number, tiling: TileConfig, tilesPerBatch: number): number {
  return Math.max(1, Math.floor(tilesPerBatch / tileLayout(height, width, tiling).length));
}

/**
 * Backbone features of every tile of `images` [N, 3, H, W], `maxTiles` tiles per call of
 * `use` (image by image, tiles row by row); each feature batch is freed after `use` returns.
 */
export function forEachTileFeatures(backbone: ResNet, images: Float32Array, shape: readonly [number, 3, number, number], tiling: TileConfig, layers: readonly string[], maxTiles: number, use: (features: FeatureMaps, tiles: number) => void): Tile[] {
  const [n, c, h, w] = shape;
  const tiles = tileLayout(h, w, tiling);
  const all = cutTiles(images, shape, tiles, tiling.size);
  const total = n * tiles.length;
  const per = c * tiling.size * tiling.size;
  for (let start = 0; start < total; start += maxTiles) {
    const count = Math.min(maxTiles, total - start);
    const features = batchFeatures(backbone, all.subarray(start * per, (start + count) * per), [count, c, tiling.size, tiling.size], layers);
    try {
      use(features, count);
    } finally {
      disposeFeatures(features);
    }
  }
  return tiles;
}

/**
 * Scores a batch of whole images by tiles: each tile's patch scores are upsampled to the tile
 * (bilinear), the tiles are stitched (weighted average over overlaps), and the stitched map is
 * blurred once with the detector's map blur. Blurring after stitching rather than per tile
 * keeps the blur's border handling at the image's borders only, so a tiled map has no seams
 * where tiles meet. Image score = the stitched map's maximum (for either method and rule).
 * The backbone, the detector, the upsampling and the blur run on the backbone's device; the
 * stitching is host arithmetic (src/detect/common/tiling.ts), one copy each way per batch.
 */
export function scoreTiled(detector: Detector, backbone: ResNet, images: Float32Array, shape: readonly [number, 3, number, number], tiling: TileConfig, maxTiles: number): Scores {
  const [n, , h, w] = shape;
  const size = tiling.size;
  const tileMaps: Float32Array[] = [];
  const tiles = forEachTileFeatures(backbone, images, shape, tiling, detectorLayers(detector), maxTiles, (features, count) => {
    const flat = T.tidy(() => upsampleScores(detector.model.scoreTensors(features, { imageSize: [size, size] }).patchScores, [size, size]).toFloat32());
    for (let i = 0; i < count; i++) tileMaps.push(flat.subarray(i * size * size, (i + 1) * size * size));
  });
  const stitched = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) stitched.set(stitchTiles(tileMaps.slice(i * tiles.length, (i + 1) * tiles.length), tiles, h, w, size), i * h * w);
  const blur = detector.model.config.map.blur;
  const device = moduleDevice(backbone);
  const maps = T.tidy(() => gaussianBlur(T.tensor(stitched, [n, h, w], { device }), blur.sigma, { truncate: blur.truncate, padding: blur.padding }).toFloat32());
  const imageScores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = i * h * w; k < (i + 1) * h * w; k++) if ((maps[k] as number) > m) m = maps[k] as number;
    imageScores[i] = m;
  }
  return { imageScores, maps, height: h, width: w };
}

/**
 * The tiling eval and predict use: the model's own, or `spec` (--tile SIZE[:OVERLAP]) to score
 * with another overlap. The tile size is the model's input size and cannot change; a model
 * fitted on whole images is scored on whole images (its test images have its training images'
 * size, so a tile would be the whole image anyway).
 */
export function tilingFor(manifest: ModelManifest, spec: string | undefined): TileConfig | null {
  const own = manifest.tiling ?? null;
  if (spec === undefined) return own;
  const t = parseTileSpec(spec);
  if (own === null) throw new SpotdiffError('ERR_USAGE', '--tile: this model was fitted on whole images; fit it with --tile to score by tiles');
  if (t.size !== own.size) throw new SpotdiffError('ERR_USAGE', `--tile: this model scores ${own.size} px tiles (its input size), got ${t.size}; only the overlap can change`);
  return t;
}

import * as T from '../../tensor/index.js';
import { forEachTileBatch, parseTileSpec, stitchTiles, type TileConfig } from '../common/tiling.js';
import { SpotdiffError } from '../../util/errors.js';
import type { AnomalyDetector } from '../method.js';
import type { ModelManifest } from './model-folder.js';

/**
 * The glue between tiling (src/detect/common/tiling.ts) and a detector: cuts a batch of
 * preprocessed images into tiles, scores at most `maxTiles` tiles at a time (tileMaps), and
 * stitches the tiles' maps back into whole-image maps that the detector finishes.
 */

/** A batch's scores on the host: [B] image scores and B maps of height × width, one after another. */
export interface HostScores {
  imageScores: Float32Array;
  maps: Float32Array;
  height: number;
  width: number;
}

/**
 * Scores a batch of whole images by tiles: each tile's map at the tile's size (tileMaps), the
 * tiles stitched (weighted average over overlaps), and the stitched maps finished at once
 * (finishStitched: for the 1-class methods the map blur and image score = the map's maximum).
 * Finishing after stitching rather than per tile keeps the blur's border handling at the
 * image's borders only, so a tiled map has no seams where tiles meet. The detector runs on its
 * device; the stitching is host arithmetic, one copy each way per batch.
 */
export function scoreTiled(detector: AnomalyDetector, images: Float32Array, shape: readonly [number, 3, number, number], tiling: TileConfig, maxTiles: number): HostScores {
  const [n, , h, w] = shape;
  const size = tiling.size;
  const device = detector.device;
  const tileMaps: Float32Array[] = [];
  const tiles = forEachTileBatch(images, shape, tiling, maxTiles, (batch, batchShape) => {
    const flat = T.tidy(() => detector.tileMaps(T.tensor(batch, batchShape, { device })).toFloat32());
    for (let i = 0; i < batchShape[0]; i++) tileMaps.push(flat.subarray(i * size * size, (i + 1) * size * size));
  });
  const stitched = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) stitched.set(stitchTiles(tileMaps.slice(i * tiles.length, (i + 1) * tiles.length), tiles, h, w, size), i * h * w);
  return T.tidy(() => {
    const s = detector.finishStitched(T.tensor(stitched, [n, h, w], { device }));
    return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32(), height: h, width: w };
  });
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

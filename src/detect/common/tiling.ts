import { SpotdiffError } from '../../util/errors.js';

/**
 * Tiling for images larger than the model's input: overlapping square tiles of the model's
 * input size are scored one by one and their anomaly maps stitched into one map of the whole
 * image. Everything here is host-side arithmetic on plain arrays (layouts, windows, copies);
 * the backbone and the detector see ordinary batches of tiles.
 */

/** Square tiles of `size` px whose neighbours share at least `overlap` px. */
export interface TileConfig {
  size: number;
  overlap: number;
}

/** One tile: its top-left corner in the image. */
export interface Tile {
  y: number;
  x: number;
}

/** Default overlap: a quarter of the tile (rounded), enough for the map blur's reach at 224-256 px. */
export function defaultOverlap(size: number): number {
  return Math.round(size / 4);
}

export function checkTileConfig(t: TileConfig, what = 'tiling'): TileConfig {
  if (!Number.isInteger(t?.size) || t.size < 1) throw new SpotdiffError('ERR_BAD_INPUT', `${what}: tile size must be a positive integer, got ${JSON.stringify(t?.size)}`);
  if (!Number.isInteger(t.overlap) || t.overlap < 0 || t.overlap >= t.size) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${what}: overlap must be an integer from 0 to ${t.size - 1} px (less than the tile), got ${JSON.stringify(t.overlap)}`);
  }
  return t;
}

/**
 * Parses `SIZE[:OVERLAP]` (OVERLAP in px, or `N%` of SIZE; default 25%), as the CLI's --tile
 * takes it.
 */
export function parseTileSpec(spec: string): TileConfig {
  const m = /^(\d+)(?::(\d+(?:\.\d+)?)(%?))?$/.exec(spec.trim());
  if (m === null) throw new SpotdiffError('ERR_USAGE', `--tile must be SIZE or SIZE:OVERLAP (px, or a percentage such as 256:25%), got "${spec}"`);
  const size = Number(m[1]);
  const overlap = m[2] === undefined ? defaultOverlap(size) : m[3] === '%' ? Math.round((size * Number(m[2])) / 100) : Number(m[2]);
  try {
    return checkTileConfig({ size, overlap }, '--tile');
  } catch (e) {
    throw new SpotdiffError('ERR_USAGE', (e as Error).message);
  }
}

/**
 * Tile starts along one axis of `length` px: as few tiles as cover it with neighbours sharing at
 * least `overlap` px, spread evenly from 0 to length − size (so the first and last tiles sit on
 * the borders and every overlap is about the same).
 */
export function tileStarts(length: number, size: number, overlap: number): number[] {
  if (length < size) throw new SpotdiffError('ERR_SHAPE', `an image side of ${length} px is smaller than the ${size} px tile`);
  if (length === size) return [0];
  const n = Math.ceil((length - size) / (size - overlap)) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - size)) / (n - 1)));
}

/** The tiles of an image, row by row. */
export function tileLayout(height: number, width: number, t: TileConfig): Tile[] {
  checkTileConfig(t);
  const ys = tileStarts(height, t.size, t.overlap);
  const xs = tileStarts(width, t.size, t.overlap);
  return ys.flatMap((y) => xs.map((x) => ({ y, x })));
}

/** The cross-fade 0.5 − 0.5·cos(πu) for u in (0, 1): rises from near 0 to near 1, and ramp(u) + ramp(1 − u) = 1. */
function ramp(u: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * u);
}

/**
 * Per-pixel weights along one axis of the tile starting at `start`, among the tiles at `starts`:
 * 1 inside, a cosine ramp across the pixels shared with the previous and the next tile. The
 * ramps of two neighbours over their shared pixels add up to 1 (a cross-fade), the weights
 * are never 0, and a tile's border pixels (where its convolutions saw zero padding) count least.
 * A side on the image border has no ramp: nothing else covers those pixels.
 */
export function tileWindow1d(starts: readonly number[], index: number, size: number): Float64Array {
  const w = new Float64Array(size).fill(1);
  const start = starts[index] as number;
  const prev = starts[index - 1];
  const next = starts[index + 1];
  if (prev !== undefined) {
    const shared = prev + size - start;
    for (let k = 0; k < shared; k++) w[k]! *= ramp((k + 0.5) / shared);
  }
  if (next !== undefined) {
    const shared = start + size - next;
    for (let k = 0; k < shared; k++) w[size - 1 - k]! *= ramp((k + 0.5) / shared);
  }
  return w;
}

/**
 * Stitches per-tile maps (size × size each, in `tiles` order) into one height × width map: at
 * every pixel the average of the tiles covering it, weighted by the tiles' windows
 * (tileWindow1d along both axes). A constant map stitches to the constant; values of a pixel
 * only one tile covers are kept as they are.
 */
export function stitchTiles(maps: readonly Float32Array[], tiles: readonly Tile[], height: number, width: number, size: number): Float32Array {
  if (maps.length !== tiles.length) throw new SpotdiffError('ERR_SHAPE', `stitchTiles: ${maps.length} maps for ${tiles.length} tiles`);
  const ys = [...new Set(tiles.map((t) => t.y))].sort((a, b) => a - b);
  const xs = [...new Set(tiles.map((t) => t.x))].sort((a, b) => a - b);
  const windowsY = new Map(ys.map((y, i) => [y, tileWindow1d(ys, i, size)]));
  const windowsX = new Map(xs.map((x, i) => [x, tileWindow1d(xs, i, size)]));
  const sum = new Float64Array(height * width);
  const weight = new Float64Array(height * width);
  tiles.forEach((t, i) => {
    const map = maps[i] as Float32Array;
    if (map.length !== size * size) throw new SpotdiffError('ERR_SHAPE', `stitchTiles: tile ${i} has ${map.length} values, a ${size}×${size} tile has ${size * size}`);
    if (t.y < 0 || t.x < 0 || t.y + size > height || t.x + size > width) throw new SpotdiffError('ERR_SHAPE', `stitchTiles: tile ${i} at (${t.y}, ${t.x}) does not fit a ${height}×${width} map`);
    const wy = windowsY.get(t.y) as Float64Array;
    const wx = windowsX.get(t.x) as Float64Array;
    for (let r = 0; r < size; r++) {
      const row = (t.y + r) * width + t.x;
      const a = wy[r] as number;
      for (let c = 0; c < size; c++) {
        const w = a * (wx[c] as number);
        sum[row + c]! += w * (map[r * size + c] as number);
        weight[row + c]! += w;
      }
    }
  });
  const out = new Float32Array(height * width);
  for (let i = 0; i < out.length; i++) {
    const w = weight[i] as number;
    if (w === 0) throw new SpotdiffError('ERR_SHAPE', `stitchTiles: pixel (${Math.floor(i / width)}, ${i % width}) is covered by no tile`);
    out[i] = (sum[i] as number) / w;
  }
  return out;
}

/**
 * Copies the tiles out of a batch of CHW images [N, C, H, W] into [N·T, C, size, size], image
 * by image and, within an image, in `tiles` order.
 */
export function cutTiles(images: Float32Array, shape: readonly [number, number, number, number], tiles: readonly Tile[], size: number): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * tiles.length * c * size * size);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (const t of tiles) {
      for (let ch = 0; ch < c; ch++) {
        const plane = (i * c + ch) * h * w;
        for (let r = 0; r < size; r++) {
          const from = plane + (t.y + r) * w + t.x;
          out.set(images.subarray(from, from + size), o);
          o += size;
        }
      }
    }
  }
  return out;
}

/**
 * Every tile of `images` [N, C, H, W] (image by image, tiles row by row), handed to `use` at
 * most `maxTiles` at a time as one [count, C, size, size] batch; returns the layout.
 */
export function forEachTileBatch(
  images: Float32Array,
  shape: readonly [number, number, number, number],
  tiling: TileConfig,
  maxTiles: number,
  use: (tiles: Float32Array, shape: [number, number, number, number]) => void,
): Tile[] {
  const [n, c, h, w] = shape;
  const tiles = tileLayout(h, w, tiling);
  const all = cutTiles(images, shape, tiles, tiling.size);
  const total = n * tiles.length;
  const per = c * tiling.size * tiling.size;
  for (let start = 0; start < total; start += maxTiles) {
    const count = Math.min(maxTiles, total - start);
    use(all.subarray(start * per, (start + count) * per), [count, c, tiling.size, tiling.size]);
  }
  return tiles;
}

/** Tiles per loader batch: whole images whose tiles fill about one network batch (at least one image). */
export function imagesPerBatch(height: number, width: number, tiling: TileConfig, tilesPerBatch: number): number {
  return Math.max(1, Math.floor(tilesPerBatch / tileLayout(height, width, tiling).length));
}

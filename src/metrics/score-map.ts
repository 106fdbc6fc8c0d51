import { SpotdiffError } from '../util/errors.js';

/** One anomaly map with its ground truth, row-major (height × width). */
export interface ScoreMap {
  /** Anomaly scores; higher means more anomalous. Must be finite. */
  scores: Float32Array;
  /** Ground truth: non-zero where a defect is. null: the image is defect-free. */
  mask: Uint8Array | null;
  width: number;
  height: number;
  /** Names the map in error messages (a file name, an index). */
  name?: string;
}

/**
 * Where the maps come from. Exact pixel metrics read the maps more than once (see
 * pixel-sweep.ts), so a source is a function that starts a fresh pass each time it is called;
 * every pass must yield the same maps in the same order.
 */
export type MapSource = () => Iterable<ScoreMap> | AsyncIterable<ScoreMap>;

/** A source over maps already in memory. */
export function mapsInMemory(maps: readonly ScoreMap[]): MapSource {
  return () => maps;
}

export function mapName(map: ScoreMap, index: number): string {
  return map.name ?? `map ${index}`;
}

/** Checks sizes; scores are checked for finiteness where they are read. */
export function checkMapShape(map: ScoreMap, index: number): void {
  const n = map.width * map.height;
  if (!Number.isInteger(map.width) || !Number.isInteger(map.height) || map.width <= 0 || map.height <= 0) {
    throw new SpotdiffError('ERR_SHAPE', `${mapName(map, index)}: bad size ${map.width}×${map.height}`);
  }
  if (map.scores.length !== n) {
    throw new SpotdiffError('ERR_SHAPE', `${mapName(map, index)}: ${map.scores.length} scores for a ${map.width}×${map.height} map`);
  }
  if (map.mask !== null && map.mask.length !== n) {
    throw new SpotdiffError('ERR_SHAPE', `${mapName(map, index)}: mask has ${map.mask.length} pixels, the map ${map.width}×${map.height} = ${n}`);
  }
}

import { SpotdiffError } from '../util/errors.js';
import { labelComponents, type Connectivity } from './components.js';
import { isNonFiniteBits, keyOfBits, valueOfKey } from './float32-key.js';
import { checkMapShape, mapName, type MapSource, type ScoreMap } from './score-map.js';
import type { ThresholdSink } from './threshold-sink.js';

/**
 * Exact distinct-score counts over every pixel of a set of maps, in bounded memory.
 *
 * Each float32 score maps to an order-preserving 32-bit key (float32-key.ts). Keys are bucketed
 * by their high 16 bits, then resolved by their low 16 bits, so every distinct float32 value is
 * counted on its own: nothing is rounded or binned, and the metrics are exactly those of
 * scikit-learn on the flattened pixels.
 *
 * - Pass 1 counts pixels per high bucket (65,536 buckets, 1 MiB).
 * - The buckets, highest first, are packed into groups whose storage fits the memory budget:
 *   a bucket with few pixels stores them as sortable 8-byte entries (low bits, label, region
 *   size); a full one gets dense counters for all 65,536 low values (512 KiB, 1 MiB with
 *   PRO weights). A bucket never costs more than 1 MiB, so any budget of at least 1 MiB works.
 * - One more pass over the maps per group fills that group's storage, and the group is swept
 *   from its highest value to its lowest into the sinks.
 *
 * Memory is the budget plus one map (and its component labels) at a time, whatever the pixel
 * count: hundreds of millions of pixels cost passes, not memory. With the default 256 MiB budget,
 * typical maps need one or two groups, i.e. two or three reads of the maps in all.
 */

export interface SweepOptions {
  /** Weight each defect pixel by 1 / (size of its ground-truth region) for PRO; null: no regions. */
  regions?: Connectivity | null;
  /** Bytes the bucket storage may use (default 256 MiB, at least 1 MiB). */
  memoryBudgetBytes?: number;
  /** Called before each read of the maps: pass 1 of `passes` and so on (`passes` is 0 while unknown). */
  onPass?: (pass: number, passes: number) => void;
}

export interface SweepTotals {
  maps: number;
  pixels: number;
  positives: number;
  negatives: number;
  /** Ground-truth regions over all maps (0 unless regions were asked for). */
  regions: number;
}

export interface SweepReport {
  totals: SweepTotals;
  /** Reads of the maps: 1 + the number of groups. */
  passes: number;
}

export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;
const LOW = 65536;
const SPARSE_MAX = 16384; // a bucket with more pixels than this gets dense counters
const TWO32 = 4294967296;

interface Group {
  his: number[];
  dense: boolean[];
  counts: number[];
  denseBuckets: number;
  sparseEntries: number;
}

function nonFinite(map: ScoreMap, index: number, i: number): SpotdiffError {
  const v = map.scores[i] as number;
  return new SpotdiffError(
    'ERR_BAD_INPUT',
    `${mapName(map, index)}: score at pixel (x ${i % map.width}, y ${Math.floor(i / map.width)}) is ${v}; anomaly maps must be finite (NaN or infinite scores have no rank)`,
  );
}

function bitsOf(scores: Float32Array): Uint32Array {
  return new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
}

/** Pass 1: pixel counts per high bucket, class totals and region count. */
async function countBuckets(source: MapSource, regions: Connectivity | null) {
  const total = new Float64Array(LOW);
  const totals: SweepTotals = { maps: 0, pixels: 0, positives: 0, negatives: 0, regions: 0 };
  for await (const map of source()) {
    checkMapShape(map, totals.maps);
    const bits = bitsOf(map.scores);
    const mask = map.mask;
    const n = bits.length;
    let positives = 0;
    for (let i = 0; i < n; i++) {
      const b = bits[i] as number;
      if (isNonFiniteBits(b)) throw nonFinite(map, totals.maps, i);
      const hi = keyOfBits(b) >>> 16;
      total[hi] = (total[hi] as number) + 1;
      if (mask !== null && mask[i] !== 0) positives++;
    }
    if (regions !== null && mask !== null && positives > 0) totals.regions += labelComponents(mask, map.width, map.height, regions).count;
    totals.maps++;
    totals.pixels += n;
    totals.positives += positives;
    totals.negatives += n - positives;
  }
  return { total, totals };
}

/** Packs the non-empty buckets, highest first, into groups that fit the budget. */
function planGroups(total: Float64Array, budget: number, denseBytes: number): Group[] {
  const groups: Group[] = [];
  let g: Group | null = null;
  let used = 0;
  for (let hi = LOW - 1; hi >= 0; hi--) {
    const count = total[hi] as number;
    if (count === 0) continue;
    if (count > 0xffffffff) throw new SpotdiffError('ERR_BAD_INPUT', `more than 2^32 pixels share one score bucket; split the maps into smaller sets`);
    const dense = count > SPARSE_MAX;
    const cost = dense ? denseBytes : 8 * count;
    if (g === null || used + cost > budget) {
      g = { his: [], dense: [], counts: [], denseBuckets: 0, sparseEntries: 0 };
      groups.push(g);
      used = 0;
    }
    g.his.push(hi);
    g.dense.push(dense);
    g.counts.push(count);
    if (dense) g.denseBuckets++;
    else g.sparseEntries += count;
    used += cost;
  }
  return groups;
}

/**
 * Streams the distinct scores of all pixels, highest first, into the sink that `begin` returns
 * once the totals are known (it may throw, e.g. when a class is missing).
 */
export async function sweepPixels(source: MapSource, options: SweepOptions, begin: (totals: SweepTotals) => ThresholdSink): Promise<SweepReport> {
  const regions = options.regions ?? null;
  const budget = Math.max(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET, 1024 * 1024);
  const weighted = regions !== null;
  options.onPass?.(1, 0);
  const { total, totals } = await countBuckets(source, regions);
  if (totals.maps === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no maps given: pixel metrics need at least one map with its mask');
  const sink = begin(totals);

  const groups = planGroups(total, budget, LOW * (8 + (weighted ? 8 : 0)));
  const maxDense = Math.max(0, ...groups.map((g) => g.denseBuckets));
  const maxSparse = Math.max(0, ...groups.map((g) => g.sparseEntries));
  // One set of buffers, reused by every group, so the peak is one group's storage.
  const densePos = new Uint32Array(maxDense * LOW);
  const denseNeg = new Uint32Array(maxDense * LOW);
  const denseWeight = weighted ? new Float64Array(maxDense * LOW) : null;
  const sparse = new Float64Array(maxSparse);
  const slotOf = new Int32Array(LOW);

  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi] as Group;
    options.onPass?.(gi + 2, groups.length + 1);
    const slots = g.his.length;
    // Per slot: dense block index (>= 0), or -1 for sparse storage with fill pointer / end.
    const denseIndex = new Int32Array(slots);
    const fill = new Int32Array(slots);
    const end = new Int32Array(slots);
    slotOf.fill(-1);
    let d = 0;
    let s = 0;
    for (let j = 0; j < slots; j++) {
      slotOf[g.his[j] as number] = j;
      if (g.dense[j]) {
        denseIndex[j] = d++;
      } else {
        denseIndex[j] = -1;
        fill[j] = s;
        s += g.counts[j] as number;
        end[j] = s;
      }
    }
    densePos.fill(0, 0, d * LOW);
    denseNeg.fill(0, 0, d * LOW);
    denseWeight?.fill(0, 0, d * LOW);

    let mapIndex = 0;
    let pixels = 0;
    for await (const map of source()) {
      checkMapShape(map, mapIndex);
      pixels += map.scores.length;
      const bits = bitsOf(map.scores);
      const mask = map.mask;
      const comps = weighted && mask !== null ? labelComponents(mask, map.width, map.height, regions) : null;
      const labels = comps?.labels;
      const sizes = comps?.sizes;
      const n = bits.length;
      for (let i = 0; i < n; i++) {
        const b = bits[i] as number;
        if (isNonFiniteBits(b)) throw nonFinite(map, mapIndex, i);
        const key = keyOfBits(b);
        const j = slotOf[key >>> 16] as number;
        if (j < 0) continue;
        const low = key & 0xffff;
        const positive = mask !== null && mask[i] !== 0;
        const dj = denseIndex[j] as number;
        if (dj >= 0) {
          const k = dj * LOW + low;
          if (positive) {
            densePos[k] = (densePos[k] as number) + 1;
            if (denseWeight !== null) denseWeight[k] = (denseWeight[k] as number) + 1 / (sizes![labels![i] as number] as number);
          } else denseNeg[k] = (denseNeg[k] as number) + 1;
        } else {
          const at = fill[j] as number;
          if (at >= (end[j] as number)) throw changedSource();
          // Entry: low bits above, then 0 for a normal pixel, else the region size (1 without regions).
          sparse[at] = low * TWO32 + (positive ? (weighted ? (sizes![labels![i] as number] as number) : 1) : 0);
          fill[j] = at + 1;
        }
      }
      mapIndex++;
    }
    for (let j = 0; j < slots; j++) if (denseIndex[j] < 0 && fill[j] !== end[j]) throw changedSource();
    if (mapIndex !== totals.maps || pixels !== totals.pixels) throw changedSource();

    for (let j = 0; j < slots; j++) {
      const base = (g.his[j] as number) * LOW;
      const dj = denseIndex[j] as number;
      if (dj >= 0) {
        const off = dj * LOW;
        for (let low = LOW - 1; low >= 0; low--) {
          const p = densePos[off + low] as number;
          const q = denseNeg[off + low] as number;
          if (p !== 0 || q !== 0) sink.add(valueOfKey(base + low), p, q, denseWeight === null ? p : (denseWeight[off + low] as number));
        }
      } else {
        const start = (end[j] as number) - (g.counts[j] as number);
        const entries = sparse.subarray(start, end[j]).sort();
        let i = entries.length - 1;
        while (i >= 0) {
          const low = Math.floor((entries[i] as number) / TWO32);
          let p = 0;
          let q = 0;
          let w = 0;
          for (; i >= 0; i--) {
            const e = entries[i] as number;
            const l = Math.floor(e / TWO32);
            if (l !== low) break;
            const size = e - l * TWO32;
            if (size === 0) q++;
            else {
              p++;
              w += 1 / size;
            }
          }
          sink.add(valueOfKey(base + low), p, q, weighted ? w : p);
        }
      }
    }
  }
  return { totals, passes: groups.length + 1 };
}

function changedSource(): SpotdiffError {
  return new SpotdiffError('ERR_BAD_INPUT', 'the map source gave different maps on a later pass; exact pixel metrics read the maps more than once and need the same maps each time');
}

import { SpotdiffError } from '../util/errors.js';
import { labelComponents, type Connectivity } from './components.js';
import { isNonFiniteBits, keyOfBits, valueOfKey } from './float32-key.js';
import { checkMapShape, mapName, type MapSource, type ScoreMap } from './score-map.js';
import type { ThresholdSink } from './threshold-sink.js';

/**
 * Exact distinct-score counts over every pixel of a set of maps, in bounded memory.
 *
 * Each float32 score maps to an order-preserving 32-bit key (float32-key.ts): its high 16 bits
 * pick a bucket, its low 16 bits the value inside the bucket. Every distinct float32 value is
 * counted on its own (nothing is rounded or binned), so the metrics are exactly those of
 * scikit-learn on the flattened pixels.
 *
 * - Pass 1 counts normal and defect pixels per bucket (65,536 buckets, 1 MiB).
 * - The non-empty buckets, highest first, are packed into groups whose storage fits the memory
 *   budget. A bucket stores each normal pixel as its 2-byte low bits and each defect pixel as an
 *   8-byte entry (low bits and region size), placed at offsets known from pass 1 (an MSD radix
 *   scatter: sequential writes, cache-friendly). A bucket whose entries would exceed 1 MiB
 *   instead gets counters for all 65,536 low values (512 KiB; 1 MiB with PRO weights). So no
 *   bucket costs more than 1 MiB; a bucket larger than the budget gets a group of its own, so
 *   the storage never exceeds max(budget, 1 MiB).
 * - One pass over the maps per group fills that group's storage; then each bucket is resolved
 *   (a 65,536-bin count or a sort of its entries) and swept from its highest value to its lowest
 *   into the sink.
 *
 * Memory is the budget plus one map (and its component labels), whatever the pixel count:
 * more pixels cost more passes, not more memory. The default 256 MiB holds about 120 million
 * pixels per pass (2 bytes per normal pixel), so a 200-map test set of 512×512 maps needs two
 * reads of the maps in all.
 */

export interface SweepOptions {
  /** Weight each defect pixel by 1 / (size of its ground-truth region) for PRO; null: no regions. */
  regions?: Connectivity | null;
  /** Bytes the bucket storage may use (default 256 MiB; 64 KiB to 4 GiB; one bucket may take up to 1 MiB). */
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

export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;
const LOW = 65536;
const TWO32 = 4294967296;
const SORT_BELOW = 4096; // buckets with fewer normal pixels sort them instead of counting 65,536 bins

interface Group {
  his: number[];
  dense: boolean[];
  neg: number[];
  pos: number[];
  denseBuckets: number;
  negEntries: number;
  posEntries: number;
}

function nonFinite(map: ScoreMap, index: number, i: number): SpotdiffError {
  const v = map.scores[i] as number;
  return new SpotdiffError(
    'ERR_BAD_INPUT',
    `${mapName(map, index)}: score at pixel (x ${i % map.width}, y ${Math.floor(i / map.width)}) is ${v}; anomaly maps must be finite (NaN or infinite scores have no rank)`,
  );
}

function changedSource(): SpotdiffError {
  return new SpotdiffError('ERR_BAD_INPUT', 'the map source gave different maps on a later pass; exact pixel metrics read the maps more than once and need the same maps each time');
}

function bitsOf(scores: Float32Array): Uint32Array {
  return new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
}

/** Pass 1: normal and defect pixel counts per bucket, class totals and region count. */
async function countBuckets(source: MapSource, regions: Connectivity | null) {
  const neg = new Float64Array(LOW);
  const pos = new Float64Array(LOW);
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
      if (mask !== null && mask[i] !== 0) {
        pos[hi] = (pos[hi] as number) + 1;
        positives++;
      } else neg[hi] = (neg[hi] as number) + 1;
    }
    if (regions !== null && mask !== null && positives > 0) totals.regions += labelComponents(mask, map.width, map.height, regions).count;
    totals.maps++;
    totals.pixels += n;
    totals.positives += positives;
    totals.negatives += n - positives;
  }
  return { neg, pos, totals };
}

/** Packs the non-empty buckets, highest first, into groups that fit the budget. */
function planGroups(neg: Float64Array, pos: Float64Array, budget: number, denseBytes: number): Group[] {
  const groups: Group[] = [];
  let g: Group | null = null;
  let used = 0;
  for (let hi = LOW - 1; hi >= 0; hi--) {
    const q = neg[hi] as number;
    const p = pos[hi] as number;
    if (q === 0 && p === 0) continue;
    if (q + p > 0xffffffff) throw new SpotdiffError('ERR_BAD_INPUT', 'more than 2^32 pixels share one score bucket; split the maps into smaller sets');
    const entryBytes = 2 * q + 8 * p;
    const dense = entryBytes > denseBytes;
    const cost = dense ? denseBytes : entryBytes;
    if (g === null || (used > 0 && used + cost > budget)) {
      g = { his: [], dense: [], neg: [], pos: [], denseBuckets: 0, negEntries: 0, posEntries: 0 };
      groups.push(g);
      used = 0;
    }
    g.his.push(hi);
    g.dense.push(dense);
    g.neg.push(q);
    g.pos.push(p);
    if (dense) g.denseBuckets++;
    else {
      g.negEntries += q;
      g.posEntries += p;
    }
    used += cost;
  }
  return groups;
}

/** Reusable storage, sized for the largest group. */
interface Storage {
  densePos: Uint32Array;
  denseNeg: Uint32Array;
  denseWeight: Float64Array | null;
  negLow: Uint16Array; // normal pixels: low 16 bits
  posEntry: Float64Array; // defect pixels: low * 2^32 + region size (1 without regions)
  bins: Uint32Array; // one bucket's normal counts, 65,536 bins
}

/** What pass 1 found: the totals, and the per-bucket counts the later passes are planned from. */
export interface PixelBucketCounts {
  totals: SweepTotals;
  readonly source: MapSource;
  readonly options: SweepOptions;
  readonly neg: Float64Array;
  readonly pos: Float64Array;
}

/** Pass 1 over the maps: validates them and counts pixels per bucket. */
export async function countPixelBuckets(source: MapSource, options: SweepOptions = {}): Promise<PixelBucketCounts> {
  options.onPass?.(1, 0);
  const { neg, pos, totals } = await countBuckets(source, options.regions ?? null);
  if (totals.maps === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no maps given: pixel metrics need at least one map with its mask');
  return { totals, source, options, neg, pos };
}

/**
 * The later passes: streams the distinct scores of all pixels, highest first, into `sink`.
 * Returns how many reads of the maps the whole computation took (pass 1 included).
 */
export async function sweepPixelBuckets(counts: PixelBucketCounts, sink: ThresholdSink): Promise<number> {
  const { source, options, neg, pos, totals } = counts;
  const regions = options.regions ?? null;
  const budget = Math.min(Math.max(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET, 64 * 1024), 4 * 1024 ** 3);
  const groups = planGroups(neg, pos, budget, LOW * (8 + (regions !== null ? 8 : 0)));
  const maxOf = (f: (g: Group) => number): number => Math.max(0, ...groups.map(f));
  const dense = maxOf((g) => g.denseBuckets) * LOW;
  const store: Storage = {
    densePos: new Uint32Array(dense),
    denseNeg: new Uint32Array(dense),
    denseWeight: regions !== null ? new Float64Array(dense) : null,
    negLow: new Uint16Array(maxOf((g) => g.negEntries)),
    posEntry: new Float64Array(maxOf((g) => g.posEntries)),
    bins: new Uint32Array(LOW),
  };
  for (let gi = 0; gi < groups.length; gi++) {
    options.onPass?.(gi + 2, groups.length + 1);
    await sweepGroup(source, groups[gi] as Group, totals, regions, store, sink);
  }
  return groups.length + 1;
}

/** One read of the maps that fills one group's storage, then the group's sweep. */
async function sweepGroup(source: MapSource, g: Group, totals: SweepTotals, regions: Connectivity | null, store: Storage, sink: ThresholdSink): Promise<void> {
  const slots = g.his.length;
  const slotOf = new Int32Array(LOW).fill(-1);
  // Per slot: dense block index (>= 0) or -1; where its entries start, and the fill pointers.
  const denseIndex = new Int32Array(slots).fill(-1);
  const negStart = new Float64Array(slots);
  const posStart = new Float64Array(slots);
  let d = 0;
  let negAt = 0;
  let posAt = 0;
  for (let j = 0; j < slots; j++) {
    slotOf[g.his[j] as number] = j;
    if (g.dense[j]) denseIndex[j] = d++;
    else {
      negStart[j] = negAt;
      posStart[j] = posAt;
      negAt += g.neg[j] as number;
      posAt += g.pos[j] as number;
    }
  }
  const negFill = negStart.slice();
  const posFill = posStart.slice();
  const { densePos, denseNeg, denseWeight, negLow, posEntry } = store;
  densePos.fill(0, 0, d * LOW);
  denseNeg.fill(0, 0, d * LOW);
  denseWeight?.fill(0, 0, d * LOW);

  let maps = 0;
  let pixels = 0;
  for await (const map of source()) {
    checkMapShape(map, maps);
    const bits = bitsOf(map.scores);
    const mask = map.mask;
    const comps = regions !== null && mask !== null ? labelComponents(mask, map.width, map.height, regions) : null;
    const labels = comps?.labels;
    const sizes = comps?.sizes;
    const n = bits.length;
    pixels += n;
    for (let i = 0; i < n; i++) {
      const key = keyOfBits(bits[i] as number);
      const j = slotOf[key >>> 16] as number;
      if (j < 0) continue;
      const low = key & 0xffff;
      const dj = denseIndex[j] as number;
      if (mask !== null && mask[i] !== 0) {
        const size = sizes === undefined ? 1 : (sizes[labels![i] as number] as number);
        if (dj >= 0) {
          const k = dj * LOW + low;
          densePos[k] = (densePos[k] as number) + 1;
          if (denseWeight !== null) denseWeight[k] = (denseWeight[k] as number) + 1 / size;
        } else {
          posEntry[posFill[j] as number] = low * TWO32 + size;
          posFill[j] = (posFill[j] as number) + 1;
        }
      } else if (dj >= 0) {
        const k = dj * LOW + low;
        denseNeg[k] = (denseNeg[k] as number) + 1;
      } else {
        negLow[negFill[j] as number] = low;
        negFill[j] = (negFill[j] as number) + 1;
      }
    }
    maps++;
  }
  if (maps !== totals.maps || pixels !== totals.pixels) throw changedSource();
  for (let j = 0; j < slots; j++) {
    if ((denseIndex[j] as number) < 0 && (negFill[j] !== (negStart[j] as number) + (g.neg[j] as number) || posFill[j] !== (posStart[j] as number) + (g.pos[j] as number))) {
      throw changedSource();
    }
  }

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
      const negs = negLow.subarray(negStart[j] as number, (negStart[j] as number) + (g.neg[j] as number));
      const poss = posEntry.subarray(posStart[j] as number, (posStart[j] as number) + (g.pos[j] as number));
      emitBucket(base, negs, poss, store.bins, regions !== null, sink);
    }
  }
}

/**
 * Resolves one bucket: normal pixels' low bits (counted in 65,536 bins, or sorted when few) and
 * defect pixels' entries (sorted), merged from the highest low value down.
 */
function emitBucket(base: number, negs: Uint16Array, poss: Float64Array, bins: Uint32Array, weighted: boolean, sink: ThresholdSink): void {
  poss.sort();
  let pi = poss.length - 1;
  const useBins = negs.length >= SORT_BELOW;
  let ni = negs.length - 1;
  if (useBins) for (let i = 0; i < negs.length; i++) bins[negs[i] as number] = (bins[negs[i] as number] as number) + 1;
  else negs.sort();
  // The next low value, descending, among the normal pixels still to emit (-1: none left).
  let nextBin = LOW - 1;
  const nextNegLow = (): number => {
    if (!useBins) return ni >= 0 ? (negs[ni] as number) : -1;
    while (nextBin >= 0 && bins[nextBin] === 0) nextBin--;
    return nextBin;
  };
  for (;;) {
    const nl = nextNegLow();
    const pl = pi >= 0 ? Math.floor((poss[pi] as number) / TWO32) : -1;
    const low = Math.max(nl, pl);
    if (low < 0) break;
    let q = 0;
    if (nl === low) {
      if (useBins) {
        q = bins[low] as number;
        bins[low] = 0; // leave the bins zeroed for the next bucket
        nextBin--;
      } else {
        while (ni >= 0 && negs[ni] === low) {
          q++;
          ni--;
        }
      }
    }
    let p = 0;
    let w = 0;
    while (pi >= 0) {
      const e = poss[pi] as number;
      const l = Math.floor(e / TWO32);
      if (l !== low) break;
      p++;
      w += 1 / (e - l * TWO32);
      pi--;
    }
    sink.add(valueOfKey(base + low), p, q, weighted ? w : p);
  }
}

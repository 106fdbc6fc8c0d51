/**
 * PatchCore's 'unfold-mean' embedding as fixed linear maps. F.unfold(p, padding p//2) gives each
 * position its C·p² neighbourhood vector (index c·p² + ki·p + kj, zero-padded at the border); the
 * MeanMapper pools it to a layer's size and the Aggregator pools the joined layers to D, both by
 * adaptive average pooling. Every step is linear and acts on channels only, so a layer's share
 * of the final D channels is Σ w[o, c, ki, kj] · x_padded[c, y + ki, x + kj]: a convolution with
 * fixed weights. PatchCore's bins are block-diagonal over channels (each output reads a few
 * neighbouring channels), so it is a grouped convolution of a few input channels a group, and
 * neither the C·p² vectors nor the poolings' gathers need to exist. The libtorch scoring path
 * (embedding.ts) and the ONNX export both use this plan.
 */

/** Beyond this many input channels per group the grouped convolution is no cheaper than unfold + pooling. */
const MAX_CHANNELS_PER_GROUP = 4;

/** A linear map over one layer's unfolded patch vectors: row o holds the (index, weight) pairs output o takes. */
export type PatchRows = [number, number][][];

/** One layer's map as a grouped convolution: weight [rows, C/groups, p, p], row-major. */
export interface PatchConv {
  weight: Float32Array;
  shape: [number, number, number, number];
  groups: number;
  padding: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** F.adaptive_avg_pool1d's bins from inSize to outSize: output i averages [start, end). */
export function adaptiveBins(inSize: number, outSize: number): [number, number][] {
  const bins: [number, number][] = [];
  for (let i = 0; i < outSize; i++) bins.push([Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)]);
  return bins;
}

/** 'unfold-mean' + the adaptive channel pooling to `size`: row o averages its bin of the C·p² values. */
export function unfoldPoolRows(raw: number, size: number): PatchRows {
  return adaptiveBins(raw, size).map(([a, b]) => Array.from({ length: b - a }, (_, k) => [a + k, 1 / (b - a)] as [number, number]));
}

/** An adaptive pool's `bins` (over a joined axis where `rows`' outputs start at `from`) applied after `rows`, as rows. */
export function composePool(rows: PatchRows, bins: readonly [number, number][], from: number): PatchRows {
  return bins.map(([a, b]) => {
    const acc = new Map<number, number>();
    for (let u = a; u < b; u++) for (const [idx, w] of rows[u - from]!) acc.set(idx, (acc.get(idx) ?? 0) + w / (b - a));
    return [...acc];
  });
}

/** The largest group count g (C/g ≤ the limit) for which output block i reads only channels of block i, or null. */
export function groupsOf(rows: PatchRows, c: number, kk: number): number | null {
  const out = rows.length;
  const top = gcd(c, out);
  for (let g = top; g >= 1 && c / g <= MAX_CHANNELS_PER_GROUP; g--) {
    if (top % g !== 0) continue;
    const ok = rows.every((r, o) => r.every(([idx]) => Math.floor(Math.floor(idx / kk) / (c / g)) === Math.floor(o / (out / g))));
    if (ok) return g;
  }
  return null;
}

/** `rows` over a layer of `c` channels and p×p patches as a grouped convolution, or null when it would be dense. */
export function patchConv(rows: PatchRows, c: number, p: number): PatchConv | null {
  const kk = p * p;
  const groups = groupsOf(rows, c, kk);
  if (groups === null) return null;
  const perGroupIn = c / groups;
  const outPerGroup = rows.length / groups;
  const weight = new Float32Array(rows.length * perGroupIn * kk);
  rows.forEach((r, o) => {
    const firstChannel = Math.floor(o / outPerGroup) * perGroupIn;
    for (const [idx, w] of r) weight[(o * perGroupIn + Math.floor(idx / kk) - firstChannel) * kk + (idx % kk)] = w;
  });
  return { weight, shape: [rows.length, perGroupIn, p, p], groups, padding: (p - 1) / 2 };
}

const foldedPlans = new Map<string, PatchConv[] | null>();

/**
 * Both poolings folded into one grouped convolution per layer, when every final bin lies within
 * one layer's outputs: layer i then yields its share of the final `dim` channels (in order)
 * before the (linear, spatial) upsampling to the first layer's grid. Null when a bin spans two
 * layers or a convolution would be dense. `sizes`: each layer's pooled size. Plans are kept
 * (a fit or a scoring run asks for the same one every batch).
 */
export function foldedPatchConvs(layerChannels: readonly number[], sizes: readonly number[], p: number, dim: number): PatchConv[] | null {
  const key = `${layerChannels.join(',')}|${sizes.join(',')}|${p}|${dim}`;
  if (!foldedPlans.has(key)) foldedPlans.set(key, planFolded(layerChannels, sizes, p, dim));
  return foldedPlans.get(key)!;
}

function planFolded(layerChannels: readonly number[], sizes: readonly number[], p: number, dim: number): PatchConv[] | null {
  const finalBins = adaptiveBins(sizes.reduce((a, s) => a + s, 0), dim);
  const convs: PatchConv[] = [];
  let from = 0;
  for (const [i, c] of layerChannels.entries()) {
    const size = sizes[i]!;
    const mine = finalBins.filter(([a]) => a >= from && a < from + size);
    if (mine.length === 0 || mine.some(([, b]) => b > from + size)) return null;
    const conv = patchConv(composePool(unfoldPoolRows(c * p * p, size), mine, from), c, p);
    if (conv === null) return null;
    convs.push(conv);
    from += size;
  }
  return convs;
}

import type { GraphBuilder } from './graph.js';

/** Beyond this many input channels per group the grouped convolution is no cheaper than unfold + Gather. */
const MAX_CHANNELS_PER_GROUP = 4;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** F.adaptive_avg_pool1d's bins from inSize to outSize: output i averages [start, end). */
export function adaptiveBins(inSize: number, outSize: number): [number, number][] {
  const bins: [number, number][] = [];
  for (let i = 0; i < outSize; i++) bins.push([Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)]);
  return bins;
}

/**
 * A linear map over one layer's unfolded patch vectors (index c·p² + ki·p + kj), as rows of
 * sparse (index, weight) pairs: row o of the result is what output channel o takes from the
 * unfolded vector.
 */
export type PatchRows = [number, number][][];

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

/**
 * A linear map of a layer's unfolded p×p patches (F.unfold(p, padding p//2): zero-padded,
 * channel-major) as ONE grouped Conv: output o at a position is Σ w[o, c, ki, kj] ·
 * x_padded[c, y+ki, x+kj], so neither the C·p² vectors nor the pooling's gathers exist. Used
 * when the map is block-diagonal over channels with at most a few input channels per block
 * (PatchCore's bins are); returns null otherwise. The value is [B, rows, h, w].
 */
export function patchRowsConv(g: GraphBuilder, x: string, c: number, p: number, rows: PatchRows, hint: string): string | null {
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
  const pad = (p - 1) / 2;
  const wName = g.floats(`${hint}_weight`, weight, [rows.length, perGroupIn, p, p]);
  return g.op('Conv', [x, wName], { kernel_shape: [p, p], pads: [pad, pad, pad, pad], group: groups }, hint);
}

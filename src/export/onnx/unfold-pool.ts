import type { GraphBuilder } from './graph.js';

/** Beyond this many input channels per group the grouped convolution is no cheaper than unfold + Gather. */
const MAX_CHANNELS_PER_GROUP = 4;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * 'unfold-mean' followed by the adaptive channel pooling (F.unfold(p, padding p//2), then
 * F.adaptive_avg_pool1d from C·p² to `size`) as ONE grouped Conv, when that is cheap: both
 * steps are linear, so output o at a position is Σ w[o, c, ki, kj] · x_padded[c, y+ki, x+kj]
 * with w = 1/len(bin o) where unfold index c·p² + ki·p + kj lies in bin o, else 0. The bins of
 * outputs [i·size/g, (i+1)·size/g) cover exactly channels [i·C/g, (i+1)·C/g) when g divides C
 * and size, so g = gcd(C, size) groups with C/g input channels each. Returns null when C/g is
 * too large for that to beat the Gather path; the value is [B, size, h, w].
 */
export function unfoldPoolConv(g: GraphBuilder, x: string, c: number, p: number, size: number, hint: string): string | null {
  const groups = gcd(c, size);
  const perGroupIn = c / groups;
  if (perGroupIn > MAX_CHANNELS_PER_GROUP) return null;
  const raw = c * p * p;
  const kk = p * p;
  const weight = new Float32Array(size * perGroupIn * kk);
  for (let o = 0; o < size; o++) {
    const a = Math.floor((o * raw) / size);
    const b = Math.ceil(((o + 1) * raw) / size);
    const firstChannel = Math.floor(o / (size / groups)) * perGroupIn;
    for (let u = a; u < b; u++) {
      const local = Math.floor(u / kk) - firstChannel;
      weight[(o * perGroupIn + local) * kk + (u % kk)] = 1 / (b - a);
    }
  }
  const w = g.floats(`${hint}_weight`, weight, [size, perGroupIn, p, p]);
  const pad = (p - 1) / 2;
  return g.op('Conv', [x, w], { kernel_shape: [p, p], pads: [pad, pad, pad, pad], group: groups }, hint);
}

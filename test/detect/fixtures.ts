import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { Random } from '../../src/util/random.js';

/** Seeded N(mean, std) float32 values. */
export function randomValues(seed: number, n: number, mean = 0, std = 1): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal(mean, std));
}

/** A feature batch: layer name -> [B, C, h, w] of seeded random values, plus the raw values to hand to Python. */
export function randomFeatures(seed: number, batch: number, layers: readonly { name: string; channels: number; size: readonly [number, number] }[]) {
  const values = new Map<string, Float32Array>();
  const tensors = new Map<string, T.Tensor>();
  layers.forEach((l, i) => {
    const v = randomValues(seed * 31 + i, batch * l.channels * l.size[0] * l.size[1], 0.5, 1);
    values.set(l.name, v);
    tensors.set(l.name, T.tensor(v, [batch, l.channels, l.size[0], l.size[1]]));
  });
  return { values, tensors };
}

/** Writes float32 values as a raw little-endian file (numpy.fromfile(dtype=float32) reads it). */
export function writeRaw(dir: string, name: string, values: Float32Array): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  return path;
}

/** Concatenates float32 arrays. */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Largest |a-b| / max(1, |b|): an absolute tolerance for values up to 1, relative above. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1, Math.abs(b[i] as number));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

import type { Random } from '../../util/random.js';
import type { Rgb } from './raster.js';

/** Point helpers and random outlines shared by the synthetic objects' defects. */

export type Point = readonly [number, number];

/** A value in [lo, hi) skewed towards lo: most defects are small, a few are large. */
export function skewSmall(rng: Random, lo: number, hi: number): number {
  const u = rng.float();
  return lo + (hi - lo) * u * u;
}

/** An irregular closed outline around (cx, cy) of mean radius r (debris, stains, chips). */
export function blob(rng: Random, cx: number, cy: number, r: number, irregularity = 0.35, points = 14): Point[] {
  const phases = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
  const amps = [rng.uniform(0.3, 1), rng.uniform(0.2, 0.7), rng.uniform(0.1, 0.4)];
  const stretch = rng.uniform(0.7, 1);
  const rot = rng.uniform(0, Math.PI);
  const out: Point[] = [];
  for (let i = 0; i < points; i++) {
    const t = (i / points) * 2 * Math.PI;
    let k = 0;
    for (let h = 0; h < 3; h++) k += (amps[h] as number) * Math.sin((h + 2) * t + (phases[h] as number));
    const rr = r * (1 + (irregularity * k) / 1.6 + rng.uniform(-0.06, 0.06));
    const x = rr * Math.cos(t);
    const y = rr * Math.sin(t) * stretch;
    out.push([cx + x * Math.cos(rot) - y * Math.sin(rot), cy + x * Math.sin(rot) + y * Math.cos(rot)]);
  }
  return out;
}

/** A smooth curve starting at (x, y) in direction angle: scratches and hairs. */
export function curve(rng: Random, x: number, y: number, angle: number, length: number, bend: number, steps = 10): Point[] {
  const out: Point[] = [[x, y]];
  let a = angle;
  let turn = rng.uniform(-bend, bend);
  const step = length / steps;
  for (let i = 0; i < steps; i++) {
    turn += rng.uniform(-bend, bend) * 0.5;
    a += turn / steps;
    x += Math.cos(a) * step;
    y += Math.sin(a) * step;
    out.push([x, y]);
  }
  return out;
}

/** A jagged line (cracks): short straight steps with random kinks. */
export function jagged(rng: Random, x: number, y: number, angle: number, length: number, kink = 0.6, steps = 7): Point[] {
  const out: Point[] = [[x, y]];
  const step = length / steps;
  for (let i = 0; i < steps; i++) {
    const a = angle + rng.uniform(-kink, kink);
    x += Math.cos(a) * step * rng.uniform(0.6, 1.4);
    y += Math.sin(a) * step * rng.uniform(0.6, 1.4);
    out.push([x, y]);
  }
  return out;
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(c: Rgb, k: number): Rgb {
  return [c[0] * k, c[1] * k, c[2] * k];
}

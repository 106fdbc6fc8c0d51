/**
 * Seeded 2-D value noise and fractal sums of it, for surface textures (board laminate, wax,
 * cloth). Hash-based (no tables), so any (x, y, seed) gives the same value on every platform.
 */

function hash3(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1) with unit lattice spacing. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash3(ix, iy, seed);
  const b = hash3(ix + 1, iy, seed);
  const c = hash3(ix, iy + 1, seed);
  const d = hash3(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** Fractal sum of value noise, centred: roughly in [-1, 1]. `scale` is the coarsest feature size in pixels. */
export function fbm(x: number, y: number, seed: number, scale: number, octaves = 4): number {
  let sum = 0;
  let amp = 1;
  let norm = 0;
  let f = 1 / scale;
  for (let o = 0; o < octaves; o++) {
    sum += amp * (valueNoise(x * f, y * f, seed + o * 1013) * 2 - 1);
    norm += amp;
    amp *= 0.5;
    f *= 2;
  }
  return sum / norm;
}

/**
 * fbm over a whole size × size image, evaluated on a grid every `step` pixels and interpolated
 * bilinearly: textures here are smooth at that scale, and this is ~16× cheaper per pixel.
 */
export function textureField(size: number, seed: number, scale: number, octaves = 4, step = 4): Float32Array {
  const n = Math.ceil(size / step) + 2;
  const grid = new Float32Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) grid[j * n + i] = fbm(i * step, j * step, seed, scale, octaves);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = (y + 0.5) / step;
    const j = Math.floor(gy);
    const fy = gy - j;
    for (let x = 0; x < size; x++) {
      const gx = (x + 0.5) / step;
      const i = Math.floor(gx);
      const fx = gx - i;
      const a = grid[j * n + i] as number;
      const b = grid[j * n + i + 1] as number;
      const c = grid[(j + 1) * n + i] as number;
      const d = grid[(j + 1) * n + i + 1] as number;
      out[y * size + x] = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }
  }
  return out;
}

const bank = new Map<string, Float32Array>();

/**
 * A size × size window of a texture twice that size, at an offset drawn from `pick`. The large
 * field is computed once per (seed, scale, ...) and cached, so each image pays only for a copy;
 * images still differ, as each sees another part of the surface.
 */
export function textureWindow(size: number, seed: number, scale: number, octaves: number, step: number, pick: () => number): Float32Array {
  const side = size * 2;
  const key = `${size}:${seed}:${scale}:${octaves}:${step}`;
  let field = bank.get(key);
  if (!field) {
    if (bank.size > 64) bank.clear();
    field = textureField(side, seed, scale, octaves, step);
    bank.set(key, field);
  }
  const ox = Math.floor(pick() * size);
  const oy = Math.floor(pick() * size);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) out.set(field.subarray((y + oy) * side + ox, (y + oy) * side + ox + size), y * size);
  return out;
}

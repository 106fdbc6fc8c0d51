import { Random, hashSeed } from '../../util/random.js';

/**
 * Shading helpers for the objects, and the per-image camera effects applied after drawing:
 * exposure, colour temperature, a light gradient, vignetting and sensor noise. These are
 * pointwise and drawn from the image's own seed, so an image and its defect-free twin get the
 * same effects pixel for pixel and differ only where a defect was drawn.
 */

const LIGHT = normalize3([-0.45, -0.55, 0.7]);
const HALF = normalize3([LIGHT[0], LIGHT[1], LIGHT[2] + 1]);

function normalize3(v: readonly [number, number, number]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/**
 * Diffuse and specular light on a surface whose normal has in-plane part (nx, ny) (|n| <= 1):
 * a rounded object seen from above, lit from the upper left.
 */
export function shade(nx: number, ny: number, shininess = 30): { diffuse: number; specular: number } {
  const q = nx * nx + ny * ny;
  const nz = q < 1 ? Math.sqrt(1 - q) : 0;
  const diffuse = Math.max(0, nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2]);
  const h = Math.max(0, nx * HALF[0] + ny * HALF[1] + nz * HALF[2]);
  return { diffuse, specular: Math.pow(h, shininess) };
}

export interface CameraEffects {
  gain: number;
  tint: readonly [number, number, number];
  gradientAngle: number;
  gradient: number;
  vignette: number;
  noiseSigma: number;
  noiseSeed: number;
}

/** Lighting varies from image to image as on a real line: exposure ±10%, tint ±1.5%, a soft gradient. */
export function sampleCamera(rng: Random): CameraEffects {
  return {
    gain: rng.uniform(0.9, 1.1),
    tint: [1 + rng.uniform(-0.015, 0.015), 1 + rng.uniform(-0.008, 0.008), 1 + rng.uniform(-0.015, 0.015)],
    gradientAngle: rng.uniform(0, 2 * Math.PI),
    gradient: rng.uniform(0, 0.12),
    vignette: rng.uniform(0.05, 0.18),
    noiseSigma: rng.uniform(0.6, 1.6) / 255,
    noiseSeed: rng.uint32(),
  };
}

const NOISE_POOL = 1 << 20;
const pools = new Map<number, Float32Array>();

/**
 * Sensor noise, roughly Gaussian with unit variance: the sum of three 10-bit uniforms cut from one
 * 32-bit draw. A pool of 2^20 values is drawn once per seed and each image reads it from its own
 * offset (`CameraEffects.noiseSeed`), so the image and its twin get the same noise for free.
 */
export function noisePool(seed: number): Float32Array {
  let pool = pools.get(seed);
  if (pool) return pool;
  if (pools.size > 8) pools.clear();
  const rng = new Random(hashSeed(seed, ['sensor-noise']));
  pool = new Float32Array(NOISE_POOL);
  const k = 2 / 1024;
  for (let i = 0; i < NOISE_POOL; i++) {
    const r = rng.uint32();
    pool[i] = ((r & 1023) + ((r >>> 10) & 1023) + ((r >>> 20) & 1023) + 1.5) * k - 3;
  }
  pools.set(seed, pool);
  return pool;
}

/** Applies the camera effects and quantises to 8-bit RGB. */
export function develop(pixels: Float32Array, width: number, height: number, cam: CameraEffects, pool: Float32Array): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const mask = pool.length - 1; // pool length is a power of two
  const start = cam.noiseSeed & mask;
  const cx = width / 2;
  const cy = height / 2;
  const gx = Math.cos(cam.gradientAngle) / width;
  const gy = Math.sin(cam.gradientAngle) / height;
  const r2 = cx * cx + cy * cy;
  const [t0, t1, t2] = cam.tint;
  const sigma = cam.noiseSigma * 255;
  const quantise = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0);
  for (let y = 0; y < height; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - cx;
      const g = 255 * cam.gain * (1 + cam.gradient * (dx * gx + dy * gy) * 2) * (1 - (cam.vignette * (dx * dx + dy * dy)) / r2);
      const i = (y * width + x) * 3;
      out[i] = quantise((pixels[i] as number) * g * t0 + (pool[(start + i) & mask] as number) * sigma);
      out[i + 1] = quantise((pixels[i + 1] as number) * g * t1 + (pool[(start + i + 1) & mask] as number) * sigma);
      out[i + 2] = quantise((pixels[i + 2] as number) * g * t2 + (pool[(start + i + 2) & mask] as number) * sigma);
    }
  }
  return out;
}

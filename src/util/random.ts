/**
 * The project's one seeded random number generator: xoshiro128** (Blackman & Vigna), a small,
 * fast generator with 128 bits of state and good statistical quality, seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Same seed, same numbers, on every
 * platform (only 32-bit integer arithmetic via Math.imul and >>> 0).
 *
 * `Random.derive(seed, 'label', 3)` gives an independent stream for a named purpose (one per
 * image, per run, per object), so that adding a consumer does not shift everyone else's numbers.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    // Fold a (possibly >32-bit or negative) integer seed into 32 bits without losing the high part.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let x = (lo ^ Math.imul(hi, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the given raw xoshiro128** state (for checking against the reference vectors). */
  static fromState(state: readonly [number, number, number, number]): Random {
    const r = new Random(0);
    [r.s0, r.s1, r.s2, r.s3] = state.map((v) => v >>> 0) as [number, number, number, number];
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return r;
  }

  /** An independent stream for `seed` and a purpose named by `labels` (strings or integers). */
  static derive(seed: number, ...labels: (string | number)[]): Random {
    return new Random(hashSeed(seed, labels));
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs an integer 1..2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.uint32();
      if (r < limit) return r % n;
    }
  }

  /** An integer in [lo, hi] (both ends included). */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A normally distributed number (Marsaglia's polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return mean + std * s;
    }
    for (;;) {
      const u = 2 * this.float() - 1;
      const v = 2 * this.float() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * m;
        return mean + std * u * m;
      }
    }
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty array');
    return items[this.int(items.length)] as T;
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** A shuffled copy. */
  shuffled<T>(items: readonly T[]): T[] {
    return this.shuffle(items.slice());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Mixes a seed and labels into one 32-bit seed (FNV-1a over the labels, then a murmur finaliser). */
export function hashSeed(seed: number, labels: readonly (string | number)[]): number {
  let h = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
  h = h >>> 0;
  const mixByte = (b: number): void => {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
  };
  for (const label of labels) {
    const text = typeof label === 'number' ? `#${label}` : `s${label}`;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      mixByte(c & 0xff);
      mixByte(c >>> 8);
    }
    mixByte(0x1f); // separator, so ('ab','c') differs from ('a','bc')
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

import { SpotdiffError } from '../../util/errors.js';

const N = 624;
const M = 397;

/**
 * CPython's `random` module reduced to what PaDiM's channel choice needs: MT19937 seeded the
 * way random.seed(int) seeds it (init_by_array over the 32-bit words of |seed|), getrandbits,
 * _randbelow and random.sample over range(n). The official PaDiM code picks its channels with
 * random.seed(1024); sample(range(t_d), d), and this reproduces that list exactly.
 */
export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new SpotdiffError('ERR_BAD_INPUT', `seed must be an integer, got ${seed}`);
    let n = Math.abs(seed);
    const key: number[] = [];
    while (n > 0) {
      key.push(n % 4294967296);
      n = Math.floor(n / 4294967296);
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) >>> 0) + i;
    }
    this.index = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = (((mt[i] as number) ^ Math.imul(prev ^ (prev >>> 30), 1664525)) >>> 0) + (key[j] as number) + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = (((mt[i] as number) ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** The next 32-bit output of MT19937. */
  uint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      const twist = (a: number, b: number, c: number): number => {
        const y = ((mt[a] as number) & 0x80000000) | ((mt[b] as number) & 0x7fffffff);
        return ((mt[c] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      };
      let kk = 0;
      for (; kk < N - M; kk++) mt[kk] = twist(kk, kk + 1, kk + M);
      for (; kk < N - 1; kk++) mt[kk] = twist(kk, kk + 1, kk + (M - N));
      mt[N - 1] = twist(N - 1, 0, M - 1);
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** random.getrandbits(k) for 1 <= k <= 32. */
  getrandbits(k: number): number {
    return this.uint32() >>> (32 - k);
  }

  /** random._randbelow(n): rejection sampling on n.bit_length() bits. */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`randbelow needs 1 <= n <= 2^32, got ${n}`);
    const k = Math.floor(Math.log2(n)) + 1;
    let r = k >= 32 ? this.uint32() : this.getrandbits(k);
    while (r >= n) r = k >= 32 ? this.uint32() : this.getrandbits(k);
    return r;
  }

  /** random.sample(range(n), k), both of CPython's strategies (pool for small n, set otherwise). */
  sampleRange(n: number, k: number): number[] {
    if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n) {
      throw new SpotdiffError('ERR_BAD_INPUT', `cannot sample ${k} of ${n} items`);
    }
    const result: number[] = new Array<number>(k);
    let setsize = 21;
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
    if (n <= setsize) {
      const pool = Array.from({ length: n }, (_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j] as number;
        pool[j] = pool[n - i - 1] as number;
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = j;
      }
    }
    return result;
  }
}

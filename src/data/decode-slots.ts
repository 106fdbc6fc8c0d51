import { SpotdiffError } from '../util/errors.js';

/**
 * At most `size` decodes at a time, started in the order they were asked for (first in,
 * first out). sharp runs each decode on libuv's thread pool, so a few more slots than pool
 * threads keep every thread busy; without a bound, a loader asking for batch × prefetch
 * images at once would hold every full-size decoded image in memory before any is resized.
 */
export class DecodeSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new SpotdiffError('ERR_BAD_INPUT', `decode slots must be a positive integer, got ${size}`);
  }

  /** Runs `task` when a slot is free; the slot is freed when it settles (fulfilled or not). */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(); // the slot passes straight to the next waiter
      else this.running--;
    }
  }
}

/** The default: twice libuv's thread pool (UV_THREADPOOL_SIZE, 4 unless set). */
export function defaultDecodeSlots(): number {
  const pool = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  return 2 * (Number.isInteger(pool) && pool > 0 ? pool : 4);
}

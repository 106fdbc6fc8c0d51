import { SpotdiffError } from '../util/errors.js';
import type { Scorer } from './scorer.js';

/** One image's result: its score, its map (height × width) and how many images shared its batch. */
export interface BatchItemResult {
  score: number;
  map: Float32Array;
  height: number;
  width: number;
  batchSize: number;
}

export interface BatcherOptions {
  /** The most images per scorer call. */
  maxBatch: number;
  /** The most requests waiting (accepted, not yet in a batch being scored); more are refused. */
  queue: number;
  /** How long the first waiting image waits for others to join its batch, in ms. */
  windowMs: number;
}

export interface BatcherStats {
  /** Accepted and not yet being scored (decoding, or decoded and waiting for a batch). */
  waiting: number;
  /** In the batch being scored now. */
  scoring: number;
  batches: number;
  images: number;
  /** Requests refused because the queue was full. */
  refused: number;
  /** How many batches had each size, keyed by the size. */
  batchSizes: Record<string, number>;
}

/** The queue is full: the caller answers 503 and the client retries later. */
export class QueueFullError extends Error {
  constructor(readonly capacity: number) {
    super(`the server is busy: ${capacity} requests are already waiting to be scored; retry shortly`);
    this.name = 'QueueFullError';
  }
}

/** A place in the queue, taken before decoding so that decoding counts against the bound. */
export interface Reservation {
  /** Hands in the preprocessed image (3 × H × W); resolves when its batch is scored. */
  submit(chw: Float32Array): Promise<BatchItemResult>;
  /** Gives the place back unused (decoding failed). */
  release(): void;
}

interface Item {
  chw: Float32Array;
  resolve: (r: BatchItemResult) => void;
  reject: (e: unknown) => void;
}

function checkOptions(o: BatcherOptions): void {
  for (const [k, v, min] of [['maxBatch', o.maxBatch, 1], ['queue', o.queue, 1], ['windowMs', o.windowMs, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new SpotdiffError('ERR_BAD_INPUT', `batcher ${k} must be an integer >= ${min}, got ${v}`);
  }
}

/**
 * Gathers single images into batches for one scorer: the first image waiting starts a window
 * of `windowMs`; the batch goes to the scorer when the window ends or `maxBatch` images are
 * waiting, whichever is first. One batch is scored at a time; images that arrive meanwhile
 * form the next batch, which starts as soon as the current one ends (they have waited a whole
 * batch already). At most `queue` requests wait; reserve() refuses more (QueueFullError).
 */
export class Batcher {
  private readonly itemSize: number;
  private readonly ready: Item[] = [];
  private reserved = 0;
  private scoring = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts = { batches: 0, images: 0, refused: 0 };
  private readonly sizes = new Map<number, number>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly scorer: Scorer,
    private readonly itemShape: readonly [3, number, number],
    private readonly o: BatcherOptions,
  ) {
    checkOptions(o);
    this.itemSize = 3 * itemShape[1] * itemShape[2];
  }

  reserve(): Reservation {
    if (this.reserved >= this.o.queue) {
      this.counts.refused++;
      throw new QueueFullError(this.o.queue);
    }
    this.reserved++;
    let used = false;
    const use = (): void => {
      if (used) throw new SpotdiffError('ERR_BAD_INPUT', 'a queue reservation was used twice');
      used = true;
    };
    return {
      submit: (chw) => {
        use();
        if (chw.length !== this.itemSize) {
          this.giveBack();
          return Promise.reject(new SpotdiffError('ERR_SHAPE', `batcher: an image of ${chw.length} values, expected 3×${this.itemShape[1]}×${this.itemShape[2]}`));
        }
        return new Promise<BatchItemResult>((resolve, reject) => {
          this.ready.push({ chw, resolve, reject });
          this.schedule();
        });
      },
      release: () => {
        use();
        this.giveBack();
      },
    };
  }

  stats(): BatcherStats {
    const batchSizes: Record<string, number> = {};
    for (const [size, n] of [...this.sizes].sort((a, b) => a[0] - b[0])) batchSizes[String(size)] = n;
    return { waiting: this.reserved, scoring: this.scoring, ...this.counts, batchSizes };
  }

  /** Resolves once nothing is waiting or being scored. */
  idle(): Promise<void> {
    if (this.reserved === 0 && this.scoring === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private giveBack(): void {
    this.reserved--;
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.reserved !== 0 || this.scoring !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.scoring > 0 || this.ready.length === 0) return;
    if (this.ready.length >= this.o.maxBatch) {
      void this.runBatch();
      return;
    }
    this.timer ??= setTimeout(() => void this.runBatch(), this.o.windowMs);
  }

  private async runBatch(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.scoring > 0 || this.ready.length === 0) return;
    const items = this.ready.splice(0, this.o.maxBatch);
    const n = items.length;
    this.reserved -= n;
    this.scoring = n;
    try {
      const images = new Float32Array(n * this.itemSize);
      items.forEach((it, i) => images.set(it.chw, i * this.itemSize));
      const s = await this.scorer.score(images, [n, 3, this.itemShape[1], this.itemShape[2]]);
      const plane = s.height * s.width;
      items.forEach((it, i) => it.resolve({ score: s.imageScores[i] as number, map: s.maps.slice(i * plane, (i + 1) * plane), height: s.height, width: s.width, batchSize: n }));
    } catch (e) {
      for (const it of items) it.reject(e);
    } finally {
      this.counts.batches++;
      this.counts.images += n;
      this.sizes.set(n, (this.sizes.get(n) ?? 0) + 1);
      this.scoring = 0;
      this.checkIdle();
      // Images that arrived during this batch have waited long enough: the next batch starts
      // right after pending I/O (decodes finishing, new uploads) has had its turn to join it.
      if (this.ready.length > 0) setImmediate(() => void this.runBatch());
    }
  }
}

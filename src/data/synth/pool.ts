import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { renderAndEncode, type EncodedSample, type RenderJob } from './encode.js';

/**
 * Draws images on worker threads (drawing is plain JS and would otherwise use one core).
 * `threads: 0` draws on the calling thread. Results do not depend on which thread drew them.
 */
export class RenderPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; job: RenderJob }[] = [];
  private readonly waiting = new Map<number, { resolve: (r: EncodedSample) => void; reject: (e: Error) => void; worker?: Worker }>();
  private nextId = 0;

  constructor(threads = defaultThreads()) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (msg: { id: number; result?: EncodedSample; error?: string }) => {
        const p = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        this.idle.push(w);
        this.pump();
        if (!p) return;
        if (msg.result) p.resolve(msg.result);
        else p.reject(new Error(msg.error ?? 'render worker failed'));
      });
      w.on('error', (e) => {
        for (const [id, p] of this.waiting) {
          if (p.worker === w) {
            this.waiting.delete(id);
            p.reject(e);
          }
        }
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Jobs waiting or running. */
  get pending(): number {
    return this.waiting.size;
  }

  render(job: RenderJob): Promise<EncodedSample> {
    if (this.workers.length === 0) return renderAndEncode(job);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queue.push({ id, job });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as Worker;
      const task = this.queue.shift() as { id: number; job: RenderJob };
      const p = this.waiting.get(task.id);
      if (p) p.worker = w;
      w.postMessage(task);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

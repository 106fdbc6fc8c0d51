import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, QueueFullError } from '../../src/serve/batcher.js';
import type { HostScores, Scorer } from '../../src/serve/scorer.js';

/** A scorer whose score is the image's sum and whose map is its first channel: results show which image they came from. */
class SumScorer implements Scorer {
  readonly engine = 'test-sum';
  readonly device = 'cpu';
  readonly normalize = 'imagenet' as const;
  readonly calls: number[] = [];
  failNext = false;
  async score(images: Float32Array, shape: readonly [number, 3, number, number]): Promise<HostScores> {
    const [n, , h, w] = shape;
    this.calls.push(n);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('engine fault');
    }
    const plane = 3 * h * w;
    const imageScores = new Float32Array(n);
    const maps = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) {
      const img = images.subarray(i * plane, (i + 1) * plane);
      imageScores[i] = img.reduce((a, b) => a + b, 0);
      maps.set(img.subarray(0, h * w), i * h * w);
    }
    return { imageScores, maps, height: h, width: w };
  }
  dispose(): void {}
}

const image = (v: number): Float32Array => Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => v + i / 100);
const sum = (a: Float32Array): number => Math.fround(a.reduce((x, y) => x + y, 0));

test('images are gathered into batches of at most maxBatch and each gets its own result', async () => {
  const scorer = new SumScorer();
  const b = new Batcher(scorer, [3, 2, 2], { maxBatch: 4, queue: 20, windowMs: 20 });
  const inputs = Array.from({ length: 10 }, (_, i) => image(i));
  const results = await Promise.all(inputs.map((x) => b.reserve().submit(x)));
  results.forEach((r, i) => {
    assert.equal(r.score, sum(inputs[i]!));
    assert.deepEqual(r.map, inputs[i]!.subarray(0, 4));
    assert.deepEqual([r.height, r.width], [2, 2]);
  });
  assert.deepEqual(scorer.calls, [4, 4, 2], 'ten images sent together: two full batches and the rest');
  assert.deepEqual(results.map((r) => r.batchSize), [4, 4, 4, 4, 4, 4, 4, 4, 2, 2]);
  assert.deepEqual(b.stats(), { waiting: 0, scoring: 0, batches: 3, images: 10, refused: 0, batchSizes: { '2': 1, '4': 2 } });
});

test('a lone image waits the window for company, then is scored alone', async () => {
  const scorer = new SumScorer();
  const b = new Batcher(scorer, [3, 2, 2], { maxBatch: 8, queue: 8, windowMs: 30 });
  const t0 = performance.now();
  const first = b.reserve().submit(image(1));
  await new Promise((r) => setTimeout(r, 5));
  const second = b.reserve().submit(image(2));
  const [r1, r2] = await Promise.all([first, second]);
  assert.ok(performance.now() - t0 >= 29, 'scored after the window');
  assert.deepEqual([r1.batchSize, r2.batchSize], [2, 2], 'one that arrived within the window joined');
  const alone = await b.reserve().submit(image(3));
  assert.equal(alone.batchSize, 1);
  assert.deepEqual(scorer.calls, [2, 1]);
});

test('a full queue refuses; a released place is free again; a failed batch fails its requests only', async () => {
  const scorer = new SumScorer();
  const b = new Batcher(scorer, [3, 2, 2], { maxBatch: 2, queue: 2, windowMs: 0 });
  const p1 = b.reserve();
  const p2 = b.reserve();
  assert.throws(() => b.reserve(), (e) => e instanceof QueueFullError && /2 requests are already waiting/.test(e.message));
  p2.release();
  assert.throws(() => p2.release(), /used twice/);
  const p3 = b.reserve();
  assert.equal(b.stats().waiting, 2);
  scorer.failNext = true;
  const failed = await Promise.allSettled([p1.submit(image(1)), p3.submit(image(3))]);
  assert.deepEqual(failed.map((f) => f.status), ['rejected', 'rejected']);
  assert.match(String((failed[0] as PromiseRejectedResult).reason), /engine fault/);
  assert.equal((await b.reserve().submit(image(4))).score, sum(image(4)), 'the next batch scores');
  await assert.rejects(b.reserve().submit(new Float32Array(5)), /an image of 5 values, expected 3×2×2/);
  assert.deepEqual({ ...b.stats(), batchSizes: null }, { waiting: 0, scoring: 0, batches: 2, images: 3, refused: 1, batchSizes: null });
  await b.idle();
});

test('idle() resolves once the batch being scored is done', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = new SumScorer();
  const slow: Scorer = { engine: 'slow', device: 'cpu', normalize: 'imagenet', score: async (x, s) => (await gate, inner.score(x, s)), dispose: () => {} };
  const b = new Batcher(slow, [3, 2, 2], { maxBatch: 2, queue: 4, windowMs: 0 });
  const pending = b.reserve().submit(image(1));
  let idle = false;
  const idling = b.idle().then(() => (idle = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(idle, false);
  release();
  await pending;
  await idling;
  assert.equal(idle, true);
  assert.throws(() => new Batcher(slow, [3, 2, 2], { maxBatch: 0, queue: 1, windowMs: 0 }), /maxBatch must be an integer >= 1/);
});

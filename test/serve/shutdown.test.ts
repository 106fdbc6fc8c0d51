import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tmp.js';
import { createServeApp } from '../../src/serve/app.js';
import { loadServedModel } from '../../src/serve/served-model.js';
import { bytesOf, fitTinyModel, GatedScorer } from './fixture.js';

interface Health {
  queue: { waiting: number; scoring: number };
}

test('closing while busy answers every accepted request, refuses new ones, then frees the model', async () => {
  const tiny = await fitTinyModel(tempDir());
  const model = await loadServedModel(tiny.model, { engine: 'libtorch', device: 'cpu' });
  const gated = new GatedScorer(model.scorer);
  const app = createServeApp({ ...model, scorer: gated }, { maxBatch: 2, queue: 16, maxBytes: 1 << 20 });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const jpeg = bytesOf(tiny.images[0]!);
  const score = (): Promise<Response> => fetch(`${address}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
  const health = async (): Promise<Health['queue']> => ((await (await fetch(`${address}/v1/health`)).json()) as Health).queue;

  // A failed check must not leave the server (and this test's process) running.
  let closing: Promise<void> | null = null;
  try {
    // Five requests accepted: one batch held at the scorer (two, or one when the others came after
    // the 5 ms batching window, as on a loaded machine), the rest waiting.
    const accepted = Array.from({ length: 5 }, () => score());
    for (let i = 0; i < 500; i++) {
      const q = await health();
      if (q.scoring + q.waiting === 5) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const held = await health();
    assert.equal(held.scoring + held.waiting, 5, JSON.stringify(held));
    assert.ok(held.scoring === 1 || held.scoring === 2, JSON.stringify(held));

    closing = app.close();
    let closed = false;
    void closing.then(() => (closed = true));
    // A request after close began is refused: the connection (ECONNREFUSED) or a 503.
    const late = await score().then(
      (r) => r.status,
      (e: Error) => (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.message,
    );
    assert.ok(late === 503 || late === 'ECONNREFUSED' || late === 'ECONNRESET', `late request: ${late}`);
    assert.equal(closed, false, 'close waits for the accepted requests');
    assert.equal(gated.disposedAfter, null, 'the model is not freed while requests wait');

    gated.release();
    const answers = await Promise.all(accepted);
    for (const res of answers) {
      assert.equal(res.status, 200);
      assert.ok(Number.isFinite(((await res.json()) as { score: number }).score));
    }
    await closing;
    // The held batch first, then the waiting five minus it in batches of at most two.
    assert.equal(gated.batches[0], held.scoring);
    assert.equal(gated.batches.reduce((a, b) => a + b, 0), 5);
    assert.ok(gated.batches.every((b) => b >= 1 && b <= 2), `batches ${gated.batches}`);
    assert.deepEqual(gated.batches.slice(1), held.waiting === 3 ? [2, 1] : [2, 2], 'the waiting requests in full batches');
    assert.equal(gated.disposedAfter, 3, 'freed once, after the last batch');
    await assert.rejects(fetch(`${address}/v1/health`), 'nothing listens any more');
  } finally {
    gated.release();
    await (closing ?? app.close());
  }
});

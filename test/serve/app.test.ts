import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { tempDir } from '../helpers/tmp.js';
import { disposeModel, loadModelFolder, type LoadedModel } from '../../src/detect/run/model-folder.js';
import { scoreSamples } from '../../src/detect/run/score.js';
import { createServeApp, type ServeLimits } from '../../src/serve/app.js';
import { loadServedModel, type ServedModel } from '../../src/serve/served-model.js';
import { bytesOf, fitTinyModel, GatedScorer, type TinyModel } from './fixture.js';
import type { ScoreResponse } from '../../src/serve/score-route.js';

// One tiny PaDiM model (ResNet-18, random init, 64 px synthetic pills); the reference scores
// and maps come from the library's scoreSamples on its own copy of the model, one image per call.
const dir = tempDir();
let tiny: TinyModel;
let reference: LoadedModel;
const ref = new Map<string, { score: number; map: Float32Array }>();
const LIMITS: ServeLimits = { maxBatch: 4, queue: 16, maxBytes: 1 << 20 };

before(async () => {
  tiny = await fitTinyModel(dir);
  reference = await loadModelFolder(tiny.model);
  for (const image of tiny.images) {
    const s = await scoreSamples(reference.detector, [{ image, label: 'normal', mask: null, object: 'pills', defect: null, split: null }], [64, 64], { batchSize: 1, quiet: true });
    ref.set(image, { score: s.imageScores[0] as number, map: s.maps[0] as Float32Array });
  }
});
after(() => disposeModel(reference));

/** A served model and its app; closed (and the model freed) when the test ends. */
async function serve(t: { after: (f: () => Promise<void>) => void }, limits: ServeLimits = LIMITS, wrap?: (m: ServedModel) => ServedModel): Promise<{ app: FastifyInstance; model: ServedModel }> {
  let model = await loadServedModel(tiny.model, { engine: 'libtorch', device: 'cpu' });
  if (wrap) model = wrap(model);
  const app = createServeApp(model, limits);
  t.after(() => app.close());
  return { app, model };
}

// The synthetic test images are JPEGs.
const post = (app: FastifyInstance, body: Buffer | string, opts: { type?: string; query?: string } = {}) =>
  app.inject({ method: 'POST', url: `/v1/score${opts.query ?? ''}`, headers: { 'content-type': opts.type ?? 'image/jpeg' }, payload: body });


test('one image: the score is the library\'s bit for bit, the verdict is at the stored threshold, the heatmap mask is the map at the pixel threshold', async (t) => {
  const { app } = await serve(t);
  const { value, pixelValue } = reference.manifest.threshold;
  let defectPixels = 0;
  for (const image of tiny.images) {
    const res = await post(app, bytesOf(image), { query: '?heatmap=1' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<ScoreResponse>();
    const expected = ref.get(image)!;
    assert.equal(body.score, expected.score);
    assert.equal(body.anomalous, expected.score >= value);
    assert.equal(body.threshold, value);
    assert.deepEqual([body.method, body.model, body.width, body.height, body.batch], ['padim', 'model', 64, 64, 1]);
    assert.ok(body.ms > 0);
    assert.ok(body.heatmap !== null);
    assert.deepEqual(body.heatmap.range, [0, 2 * pixelValue]);
    const overlay = await sharp(Buffer.from(body.heatmap.overlay, 'base64')).metadata();
    assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', 64, 64]);
    const mask = await sharp(Buffer.from(body.heatmap.mask, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height], [64, 64]);
    const want = Uint8Array.from(expected.map, (v) => (v >= pixelValue ? 255 : 0));
    assert.deepEqual(new Uint8Array(mask.data), want);
    defectPixels += want.filter((v) => v === 255).length;
  }
  assert.ok(defectPixels > 0, 'some map reaches the pixel threshold, so the masks are compared on both values');
  const plain = (await post(app, bytesOf(tiny.images[0]!))).json<ScoreResponse>();
  assert.equal(plain.heatmap, null, 'no heatmap unless asked');
  const asOctets = (await post(app, bytesOf(tiny.images[0]!), { type: 'application/octet-stream', query: '?heatmap=false' })).json<ScoreResponse>();
  assert.equal(asOctets.score, ref.get(tiny.images[0]!)!.score);
});

test('a model whose method does not localise gets no heatmap even when asked', async (t) => {
  const { app } = await serve(t, LIMITS, (m) => ({ ...m, info: { ...m.info, localises: false } }));
  const body = (await post(app, bytesOf(tiny.images[0]!), { query: '?heatmap=true' })).json<ScoreResponse>();
  assert.equal(body.heatmap, null);
  assert.equal(body.score, ref.get(tiny.images[0]!)!.score);
});

test('12 concurrent requests are all answered, in batches of at most --max-batch, with the library\'s scores', async (t) => {
  const { app } = await serve(t, { ...LIMITS, windowMs: 50 });
  const images = Array.from({ length: 12 }, (_, i) => tiny.images[i % tiny.images.length]!);
  const answers = await Promise.all(images.map((image) => post(app, bytesOf(image))));
  const sizes: number[] = [];
  answers.forEach((res, i) => {
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<ScoreResponse>();
    // Batched convolutions may sum in another order than one image at a time.
    const expected = ref.get(images[i]!)!.score;
    assert.ok(Math.abs(body.score - expected) <= 1e-4 * Math.abs(expected), `${body.score} vs ${expected}`);
    sizes.push(body.batch);
  });
  assert.ok(Math.max(...sizes) > 1, `requests sent together share batches (batch sizes ${sizes})`);
  assert.ok(Math.max(...sizes) <= 4);
  const health = (await app.inject({ method: 'GET', url: '/v1/health' })).json<{ status: string; queue: { images: number; batches: number; waiting: number; scoring: number; batchSizes: Record<string, number> } }>();
  assert.equal(health.status, 'ok');
  assert.equal(health.queue.images, 12);
  assert.deepEqual([health.queue.waiting, health.queue.scoring], [0, 0]);
  const counted = Object.entries(health.queue.batchSizes).reduce((n, [size, count]) => n + Number(size) * count, 0);
  assert.equal(counted, 12);
  assert.equal(Object.values(health.queue.batchSizes).reduce((a, b) => a + b, 0), health.queue.batches);
  assert.ok(health.queue.batches >= 3 && health.queue.batches < 12, `batches ${health.queue.batches}`);
});

test('a corrupt, truncated, empty, wrongly sized or greyscale upload is 400 with a clear message; an unknown type 415; the queue is left empty', async (t) => {
  const { app } = await serve(t);
  const png = bytesOf(tiny.images[0]!);
  const cases: [string, Buffer | string, RegExp][] = [
    ['garbage', 'not an image at all', /cannot decode image upload: .*corrupt, truncated or not an image/],
    ['truncated', png.subarray(0, Math.floor(png.length / 2)), /cannot decode image upload/],
    ['empty', Buffer.alloc(0), /no body/],
    ['70×64', await sharp({ create: { width: 70, height: 64, channels: 3, background: '#808080' } }).png().toBuffer(), /the image is 70×64 RGB, but the model was fitted on 64×64 RGB images/],
    ['greyscale', await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer(), /the image is 64×64 greyscale, but the model was fitted on 64×64 RGB/],
  ];
  for (const [what, body, message] of cases) {
    const res = await post(app, body, { type: what === '70×64' || what === 'greyscale' ? 'image/png' : 'image/jpeg' });
    assert.equal(res.statusCode, 400, what);
    assert.match(res.json<{ message: string }>().message, message, what);
  }
  const json = await post(app, '{"image": 1}', { type: 'application/json' });
  assert.equal(json.statusCode, 415);
  assert.match(json.json<{ message: string }>().message, /image\/png, image\/jpeg.*got "application\/json"/);
  const query = await post(app, png, { query: '?heatmap=maybe' });
  assert.equal(query.statusCode, 400);
  assert.match(query.json<{ message: string }>().message, /heatmap/);
  const health = (await app.inject({ method: 'GET', url: '/v1/health' })).json<{ queue: { waiting: number; images: number } }>();
  assert.deepEqual([health.queue.waiting, health.queue.images], [0, 0], 'failed uploads give their queue places back and score nothing');
  assert.equal((await post(app, png)).statusCode, 200);
});

test('an upload over the byte limit is 413', async (t) => {
  const png = bytesOf(tiny.images[0]!);
  const { app } = await serve(t, { ...LIMITS, maxBytes: png.length - 1 });
  const res = await post(app, png);
  assert.equal(res.statusCode, 413);
  assert.match(res.json<{ message: string }>().message, new RegExp(`larger than this server takes \\(${png.length - 1} bytes at most\\)`));
  const { app: roomy } = await serve(t, { ...LIMITS, maxBytes: png.length });
  assert.equal((await post(roomy, png)).statusCode, 200, 'exactly at the limit is accepted');
});

test('when --queue requests are waiting, the next gets 503 with Retry-After; the waiting ones are answered', async (t) => {
  let gated!: GatedScorer;
  const { app } = await serve(t, { maxBatch: 1, queue: 2, maxBytes: 1 << 20 }, (m) => ({ ...m, scorer: (gated = new GatedScorer(m.scorer)) }));
  const png = bytesOf(tiny.images[0]!);
  const health = async () => (await app.inject({ method: 'GET', url: '/v1/health' })).json<{ queue: { waiting: number; scoring: number; refused: number } }>().queue;
  const until = async (ok: (q: { waiting: number; scoring: number }) => boolean) => {
    for (let i = 0; i < 500 && !ok(await health()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(await health()), JSON.stringify(await health()));
  };
  const first = post(app, png);
  await until((q) => q.scoring === 1);
  const waiting = [post(app, png), post(app, png)];
  await until((q) => q.waiting === 2);
  const refused = await post(app, png);
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '1');
  assert.match(refused.json<{ message: string }>().message, /busy: 2 requests are already waiting/);
  gated.release();
  for (const res of await Promise.all([first, ...waiting])) assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(gated.batches, [1, 1, 1]);
  assert.equal((await health()).refused, 1);
});

test('GET /v1/model summarises the manifest; unknown routes are 404', async (t) => {
  const { app } = await serve(t);
  const body = (await app.inject({ method: 'GET', url: '/v1/model' })).json<Record<string, unknown>>();
  assert.equal(body['method'], 'padim');
  assert.equal(body['localises'], true);
  assert.equal(body['backbone'], 'resnet18');
  assert.deepEqual(body['inputImages'], { width: 64, height: 64, channels: 3 });
  const { threshold, training } = reference.manifest;
  assert.deepEqual(body['threshold'], { value: threshold.value, pixelValue: threshold.pixelValue, source: threshold.source, quantile: threshold.quantile });
  assert.deepEqual(body['training'], { dataset: training.dataset, object: 'pills', fitImages: training.fitImages, created: training.created });
  assert.equal(body['engine'], 'libtorch');
  assert.equal(body['tiling'], null);
  const missing = await app.inject({ method: 'GET', url: '/v2/score' });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json<{ message: string }>().message, /POST \/v1\/score/);
});

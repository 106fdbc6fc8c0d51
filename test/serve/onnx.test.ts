import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { tempDir } from '../helpers/tmp.js';
import { exportModelFolder } from '../../src/export/onnx/index.js';
import { readManifest } from '../../src/detect/run/model-folder.js';
import { createServeApp, type ServeLimits } from '../../src/serve/app.js';
import { pageRoutes } from '../../src/serve/page-routes.js';
import { loadServedModel, type ServeEngine } from '../../src/serve/served-model.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { runCli } from '../cli/run-cli.js';
import { assertClose } from '../export/onnx/fixtures.js';
import { bytesOf, fitTinyModel, type TinyModel } from './fixture.js';
import type { ScoreResponse } from '../../src/serve/score-route.js';

// The tiny PaDiM model (64 px synthetic pills) exported to model.onnx in its folder; the
// references are `spotdiff predict --engine onnx --json` (same graph, same runtime: equal) and
// the libtorch server (the converted graph: within 1e-4 of the scores' scale).
const dir = tempDir();
let tiny: TinyModel;
let onnxFile: string;
interface Predicted {
  threshold: number;
  pixelThreshold: number;
  images: { image: string; score: number; anomalous: boolean; mask: string | null }[];
}
let predicted: Predicted;
const LIMITS: ServeLimits = { maxBatch: 4, queue: 16, maxBytes: 1 << 20 };

before(async () => {
  tiny = await fitTinyModel(dir);
  onnxFile = join(tiny.model, 'model.onnx');
  await exportModelFolder(tiny.model, onnxFile);
  const pr = await runCli(['predict', '--engine', 'onnx', '--model', onnxFile, ...tiny.images, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  predicted = JSON.parse(pr.stdout) as Predicted;
});

async function serve(t: { after: (f: () => Promise<void>) => void }, model: string, engine: ServeEngine): Promise<FastifyInstance> {
  const served = await loadServedModel(model, engine);
  const app = createServeApp(served, LIMITS);
  pageRoutes(app, { onnx: served.onnx, modelName: served.name });
  t.after(() => app.close());
  return app;
}


const scoreAll = async (app: FastifyInstance, query = ''): Promise<ScoreResponse[]> =>
  Promise.all(
    tiny.images.map(async (image) => {
      const res = await app.inject({ method: 'POST', url: `/v1/score${query}`, headers: { 'content-type': 'image/jpeg' }, payload: bytesOf(image) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ScoreResponse>();
    }),
  );

test('the onnx engine scores as predict --engine onnx (to float rounding, in batches too), its heatmap masks are predict\'s, and it agrees with the libtorch server within 1e-4', async (t) => {
  const app = await serve(t, onnxFile, { engine: 'onnx' });
  const got = await scoreAll(app, '?heatmap=1');
  assert.ok(got.some((r) => r.batch > 1), 'some requests shared a batch');
  let defectPixels = 0;
  for (const [i, r] of got.entries()) {
    const want = predicted.images[i]!;
    // ONNX Runtime's kernels may round differently with another batch composition (the server's
    // batches form as requests arrive; predict scores 8 at a time): equal to float rounding.
    assert.ok(Math.abs(r.score - want.score) <= 1e-6 * Math.max(1, Math.abs(want.score)), `score of ${want.image}: ${r.score} vs ${want.score}`);
    assert.equal(r.anomalous, want.anomalous);
    assert.deepEqual([r.threshold, r.method, r.model], [predicted.threshold, 'padim', 'model']);
    assert.ok(r.heatmap !== null && want.mask !== null);
    assert.deepEqual(r.heatmap.range, [0, 2 * predicted.pixelThreshold]);
    const mask = Buffer.from(r.heatmap.mask, 'base64');
    assert.deepEqual(mask, readFileSync(want.mask), `mask of ${want.image}`);
    defectPixels += (await sharp(mask).extractChannel(0).raw().toBuffer()).filter((v) => v === 255).length;
  }
  assert.ok(defectPixels > 0, 'some map reaches the pixel threshold, so the masks are compared on both values');
  assert.ok(got.some((r) => r.anomalous) && got.some((r) => !r.anomalous), 'both verdicts occur');
  const torch = await scoreAll(await serve(t, tiny.model, { engine: 'libtorch', device: 'cpu' }));
  assertClose(Float32Array.from(got, (r) => r.score), Float32Array.from(torch, (r) => r.score), 'onnx server vs libtorch server');
});

test('GET /v1/model on the onnx engine: engine onnx, the graph\'s metadata (as model.json has it), null for what an export does not record', async (t) => {
  const app = await serve(t, onnxFile, { engine: 'onnx' });
  const body = (await app.inject({ method: 'GET', url: '/v1/model' })).json<Record<string, unknown>>();
  const m = await readManifest(tiny.model);
  assert.deepEqual(body, {
    model: 'model',
    method: 'padim',
    localises: true,
    engine: 'onnx',
    device: 'cpu',
    backbone: 'resnet18',
    inputImages: m.inputImages,
    preprocess: { width: 64, height: 64, normalize: 'imagenet' },
    tiling: null,
    threshold: { value: m.threshold.value, pixelValue: m.threshold.pixelValue, source: m.threshold.source, quantile: null },
    training: { dataset: null, object: 'pills', fitImages: null, created: null },
    spotdiffVersion: m.spotdiffVersion,
  });
  const health = (await app.inject({ method: 'GET', url: '/v1/health' })).json<Record<string, unknown>>();
  assert.deepEqual([health['engine'], health['device'], health['method']], ['onnx', 'cpu', 'padim']);
});

test('GET /v1/model.onnx on the onnx engine sends the very bytes it loaded, not a new export', async (t) => {
  // A copy whose file is then overwritten: the server must send what it read at start.
  const copy = join(dir, 'served.onnx');
  const original = readFileSync(onnxFile);
  writeFileSync(copy, original);
  const app = await serve(t, copy, { engine: 'onnx' });
  writeFileSync(copy, 'replaced after the server started');
  const res = await app.inject({ method: 'GET', url: '/v1/model.onnx' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.rawPayload, original);
  assert.match(String(res.headers['content-disposition']), /filename="served\.onnx"/);
});

test('the onnx engine refuses a file that is not an exported graph, naming it', async () => {
  const bad = join(dir, 'bad.onnx');
  writeFileSync(bad, 'not a model');
  await assert.rejects(loadServedModel(bad, { engine: 'onnx' }), (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && e.message.startsWith(`${bad}: `));
  await assert.rejects(loadServedModel(join(dir, 'none.onnx'), { engine: 'onnx' }), (e) => isSpotdiffError(e, 'ERR_NOT_FOUND'));
});

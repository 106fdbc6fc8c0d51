import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import sharp from 'sharp';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { prepareVisa } from '../../src/data/visa/prepare.js';
import { fitModel } from '../../src/detect/run/fit.js';
import { disposeModel, loadModelFolder } from '../../src/detect/run/model-folder.js';
import { scoreSamples } from '../../src/detect/run/score.js';
import { createServeApp } from '../../src/serve/app.js';
import { loadServedModel } from '../../src/serve/served-model.js';
import { bytesOf } from './fixture.js';

test('a tiled model (128 px images, 64 px tiles) is scored by its tiles: score and mask as the library\'s', async (t) => {
  const dir = tempDir();
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 1, normal: 12, anomalous: 3, size: 128, threads: 2 });
  const data = (await prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false })).outputFolder;
  const modelDir = join(dir, 'model');
  await fitModel({ method: 'padim', data, object: 'pills', backbone: 'resnet18', tile: { size: 64, overlap: 16 }, seed: 0, out: modelDir, quiet: true });
  const bad = join(data, 'pills', 'test', 'bad');
  const images = readdirSync(bad).sort().map((f) => join(bad, f));

  const model = await loadServedModel(modelDir, { engine: 'libtorch', device: 'cpu' });
  assert.deepEqual(model.info.tiling, { size: 64, overlap: 16 });
  const app = createServeApp(model, { maxBatch: 4, queue: 8, maxBytes: 1 << 20 });
  t.after(() => app.close());
  const reference = await loadModelFolder(modelDir);
  t.after(() => disposeModel(reference));
  const { pixelValue } = reference.manifest.threshold;
  for (const image of images) {
    const expected = await scoreSamples(reference.detector, [{ image, label: 'anomaly', mask: null, object: 'pills', defect: null, split: null }], [128, 128], { tiling: reference.manifest.tiling!, quiet: true });
    const res = await app.inject({ method: 'POST', url: '/v1/score?heatmap=1', headers: { 'content-type': 'image/jpeg' }, payload: bytesOf(image) });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ score: number; width: number; height: number; heatmap: { mask: string } }>();
    assert.equal(body.score, expected.imageScores[0]);
    assert.deepEqual([body.width, body.height], [128, 128]);
    const mask = await sharp(Buffer.from(body.heatmap.mask, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height], [128, 128], 'the map covers the whole image');
    assert.deepEqual(new Uint8Array(mask.data), Uint8Array.from(expected.maps[0]!, (v) => (v >= pixelValue ? 255 : 0)));
  }
});

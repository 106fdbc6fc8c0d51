import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { generateSynthDataset } from '../../../src/data/synth/generate.js';
import { prepareVisa } from '../../../src/data/visa/prepare.js';
import { fitModel } from '../../../src/detect/run/fit.js';
import { testSamples, trainSamples } from '../../../src/data/datasets/object-splits.js';
import { loadModelFolder, disposeModel, saveModelFolder } from '../../../src/detect/run/model-folder.js';
import { evaluateModel } from '../../../src/detect/run/evaluate.js';
import { scoreSamples } from '../../../src/detect/run/score.js';
import { chooseThreshold } from '../../../src/detect/run/threshold.js';
import { holdOutValidation } from '../../../src/detect/run/holdout.js';

// One small synthetic object, 2cls_highshot split: the train split holds labelled anomalies,
// so the threshold takes the validation-F1 path; the test split has 20 normal + 8 anomalous.
const dir = tempDir();
const SIZE = 96;
let data = '';
let modelDir = '';

before(async () => {
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['tealight'], seed: 0, normal: 50, anomalous: 20, size: SIZE, threads: 2 });
  data = (await prepareVisa({ splitType: '2cls_highshot', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false })).outputFolder;
  modelDir = join(dir, 'model');
  await fitModel({ method: 'patchcore', data, object: 'tealight', backbone: 'resnet18', size: SIZE, seed: 0, out: modelDir, quiet: true });
});

test('the stored threshold is reproduced from the held-out validation images of the loaded model (save/load keeps scores)', async () => {
  const model = await loadModelFolder(modelDir);
  try {
    const { samples } = await trainSamples(data, 'tealight');
    const { validation } = holdOutValidation(samples, 0.1, 0);
    const scored = await scoreSamples(model.detector, validation, [SIZE, SIZE], { quiet: true });
    const choice = chooseThreshold(scored.samples.map((s) => (s.label === 'anomaly' ? 1 : 0)), scored.imageScores, 0.99);
    assert.equal(model.manifest.threshold.method, 'validation-f1');
    assert.equal(choice.value, model.manifest.threshold.value, 'scores after loading equal the scores the fit chose its threshold on');
    // A second save of the loaded model and a second load score the test set identically.
    const again = join(dir, 'model-again');
    await saveModelFolder(again, model.manifest, model.detector);
    const model2 = await loadModelFolder(again);
    try {
      const test = (await testSamples(data, 'tealight')).slice(0, 8);
      const a = await scoreSamples(model.detector, test, [SIZE, SIZE], { quiet: true });
      const b = await scoreSamples(model2.detector, test, [SIZE, SIZE], { quiet: true });
      assert.deepEqual(b.imageScores, a.imageScores);
      assert.deepEqual(b.maps, a.maps);
    } finally {
      disposeModel(model2);
    }
  } finally {
    disposeModel(model);
  }
});

test('fitting never reads test data: with every test image replaced by garbage the fit and its threshold are the same', async () => {
  const copy = join(dir, 'prep-copy');
  cpSync(data, copy, { recursive: true });
  const testRoot = join(copy, 'tealight', 'test');
  let replaced = 0;
  for (const cls of readdirSync(testRoot)) {
    for (const f of readdirSync(join(testRoot, cls))) {
      writeFileSync(join(testRoot, cls, f), 'not an image');
      replaced++;
    }
  }
  assert.ok(replaced >= 28);
  const out = join(dir, 'model-copy');
  const { manifest } = await fitModel({ method: 'patchcore', data: copy, object: 'tealight', backbone: 'resnet18', size: SIZE, seed: 0, out, quiet: true });
  const original = await loadModelFolder(modelDir);
  try {
    assert.equal(manifest.threshold.value, original.manifest.threshold.value);
    assert.equal(manifest.threshold.pixelValue, original.manifest.threshold.pixelValue);
  } finally {
    disposeModel(original);
  }
});

test('PatchCore with a random-init ResNet-18 localises synthetic defects well above chance (seed 0)', async () => {
  const model = await loadModelFolder(modelDir);
  try {
    const r = await evaluateModel(model, data, { quiet: true });
    assert.equal(r.images, 28);
    assert.equal(r.anomalous, 8);
    // Measured: pixel AU-ROC 0.876 for this seed; 0.60-0.94 over seeds 0-3 at 96 and 128 px.
    // Image-level AU-ROC with random weights is near chance (0.20-0.78 over those runs), so
    // only the pixel level is asserted; pretrained weights are needed for image-level results.
    assert.ok(r.pixel !== null && r.pixel.auroc > 0.75, `pixel AU-ROC ${r.pixel?.auroc}`);
    assert.ok(r.pixel.aupro !== null && r.pixel.aupro > 0.3, `AUPRO ${r.pixel.aupro}`);
    assert.ok(r.image.auroc >= 0 && r.image.auroc <= 1);
  } finally {
    disposeModel(model);
  }
});

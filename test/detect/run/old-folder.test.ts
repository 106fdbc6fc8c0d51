import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import { toHost } from '../../../src/tensor/host.js';
import { encodeSafetensors, type HostTensor } from '../../../src/tensor/io/index.js';
import { createBackbone } from '../../../src/models/backbone.js';
import { batchFeatures, disposeFeatures } from '../../../src/models/feature-extractor.js';
import { fitPadim } from '../../../src/detect/padim/index.js';
import { fitPatchcore } from '../../../src/detect/patchcore/index.js';
import type { FeatureHead } from '../../../src/detect/common/feature-head.js';
import type { InputConfig } from '../../../src/detect/common/config.js';
import { disposeModel, loadModelFolder, MODEL_JSON, MODEL_WEIGHTS, saveModelFolder, type ModelManifest } from '../../../src/detect/run/model-folder.js';
import { tempDir } from '../../helpers/tmp.js';
import { randomValues } from '../fixtures.js';

// A model folder as spotdiff wrote it before the detector interface (format version 1, no
// "tiling" key): model.json written by hand, weights.safetensors with the head's tensors under
// "detector." and then the backbone's under "backbone.", encoded by the in-memory encoder.
// It must load unchanged and score as the head on the backbone's features did.

const SIZE = 64;
const dir = tempDir();

function manifestFor(method: string, head: FeatureHead): Record<string, unknown> {
  return {
    format: 'spotdiff.model',
    formatVersion: 1,
    spotdiffVersion: '0.1.0',
    method,
    backbone: { arch: 'resnet18', weightsFile: null, weightsSha256: null, pretrained: false, seed: 0 },
    preprocess: { resize: [SIZE, SIZE], crop: null, normalize: 'imagenet' },
    inputImages: { width: SIZE, height: SIZE, channels: 3 },
    detector: head.config,
    threshold: { value: 1.5, method: 'normal-quantile', source: 'by hand', pixelValue: 2.5, quantile: 0.99, validation: { normal: 1, anomalous: 0 } },
    training: { dataset: 'by hand', object: 'thing', fitImages: 4, validationImages: 1, seed: 0, seconds: 1, created: '2026-01-01T00:00:00.000Z' },
  };
}

for (const method of ['padim', 'patchcore'] as const) {
  test(`a ${method} model folder written in the pre-interface layout loads and scores as its head did`, async () => {
    const { model: backbone } = await createBackbone('resnet18', undefined, 0);
    const input: InputConfig = { backbone: 'resnet18', weights: null, resize: null, crop: null, imageSize: [SIZE, SIZE] };
    const layers = method === 'padim' ? ['layer1', 'layer2', 'layer3'] : ['layer2', 'layer3'];
    const train = randomValues(11, 4 * 3 * SIZE * SIZE);
    const probe = randomValues(12, 2 * 3 * SIZE * SIZE);
    const features = batchFeatures(backbone, train, [4, 3, SIZE, SIZE], layers);
    const head: FeatureHead = method === 'padim' ? fitPadim([features], { input, layers, seed: 1024 }) : fitPatchcore([features], { input, layers, coreset: { ratio: 0.5, seed: 0 } });
    disposeFeatures(features);
    const probeFeatures = batchFeatures(backbone, probe, [2, 3, SIZE, SIZE], layers);
    const expected = head.scores(probeFeatures);
    disposeFeatures(probeFeatures);

    const folder = join(dir, method);
    mkdirSync(folder);
    const host = new Map<string, HostTensor>();
    for (const [k, t] of head.stateDict()) host.set(`detector.${k}`, toHost(t));
    for (const [k, t] of backbone.stateDict()) host.set(`backbone.${k}`, toHost(t));
    const bytes = encodeSafetensors(host, { format: 'pt', 'spotdiff.model': 'spotdiff.model', method });
    writeFileSync(join(folder, MODEL_WEIGHTS), bytes);
    writeFileSync(join(folder, MODEL_JSON), JSON.stringify(manifestFor(method, head), null, 2) + '\n');
    head.dispose();
    backbone.dispose();

    const loaded = await loadModelFolder(folder);
    try {
      assert.equal(loaded.detector.method, method);
      assert.equal(loaded.manifest.tiling, null, 'a folder without "tiling" reads as whole-image');
      const live = T.liveTensorCount();
      const s = T.tidy(() => {
        const r = loaded.detector.score(T.tensor(probe, [2, 3, SIZE, SIZE]));
        return { imageScores: r.imageScores.toFloat32(), maps: r.maps.toFloat32(), shape: r.maps.shape };
      });
      assert.equal(T.liveTensorCount(), live, 'scoring frees everything it made');
      assert.deepEqual(s.imageScores, expected.imageScores);
      assert.deepEqual(s.maps, expected.maps);
      assert.deepEqual(s.shape, [2, SIZE, SIZE]);
      // Saved again by today's code: the same tensors under the same names, the same bytes.
      const again = join(dir, `${method}-again`);
      await saveModelFolder(again, loaded.manifest as ModelManifest, loaded.detector);
      assert.deepEqual(new Uint8Array(readFileSync(join(again, MODEL_WEIGHTS))), bytes);
    } finally {
      disposeModel(loaded);
    }
  });
}

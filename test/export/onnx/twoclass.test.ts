import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { loadModelFolder, disposeModel } from '../../../src/detect/run/model-folder.js';
import { exportOnnx } from '../../../src/export/onnx/export.js';
import { openOnnxScorer } from '../../../src/export/onnx/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { assertClose, batches, makeTwoClassFixture, type OnnxFixture } from './fixtures.js';

// The 2-class networks, trained one epoch from seeded random resnet18 weights (the numbers
// only need to be a trained network's, not a good one's).
const dir = tempDir('spotdiff-onnx-twoclass-');
let fx: OnnxFixture;

before(async () => {
  const short = ['--epochs', '1', '--lr', '0.01'];
  fx = await makeTwoClassFixture(dir, {
    classifier: ['classifier', ...short],
    'segmenter-max': ['segmenter', ...short],
    'segmenter-topk': ['segmenter', ...short, '--image-score', 'top-k-mean', '--top-k', '50'],
    // 65 px: the stem is 33, the deepest map 3, so the decoder's nearest upsampling is not ×2.
    'segmenter-65px': ['segmenter', ...short, '--size', '65'],
  });
});

for (const name of ['classifier', 'segmenter-max', 'segmenter-topk', 'segmenter-65px']) {
  test(`${name}: the exported graph scores as the libtorch detector (image scores and maps within 1e-4)`, async () => {
    const images = fx.images.slice(0, 6);
    const model = await loadModelFolder(fx.models[name]!);
    try {
      const size = model.manifest.detector.input.imageSize[0];
      const input = await batches(images, size);
      const want = T.tidy(() => {
        const s = model.detector.score(T.tensor(input.normalized, [images.length, 3, size, size]));
        return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32() };
      });
      const scorer = await openOnnxScorer(exportOnnx(model).bytes, { threads: 1 });
      try {
        const got = await scorer.score(input.raw, images.length);
        assertClose(got.imageScores, want.imageScores, `${name} image scores`);
        assertClose(got.maps, want.maps, `${name} maps`);
        assert.equal(scorer.info.localises, name !== 'classifier');
      } finally {
        await scorer.close();
      }
    } finally {
      disposeModel(model);
    }
  });
}

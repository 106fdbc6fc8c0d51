import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dropout, Sequential } from '../../../src/nn/index.js';
import { loadModelFolder, disposeModel } from '../../../src/detect/run/model-folder.js';
import type { FeatureDetector } from '../../../src/detect/common/feature-detector.js';
import { exportOnnx } from '../../../src/export/onnx/export.js';
import { openOnnxScorer } from '../../../src/export/onnx/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, type OnnxFixture } from './fixtures.js';

const dir = tempDir('spotdiff-onnx-errors-');
let fx: OnnxFixture;

before(async () => {
  fx = await makeFixture(dir, ['padim']);
});

test('a layer the exporter does not know is a clear error naming it and where it sits', async () => {
  const model = await loadModelFolder(fx.models.padim!);
  try {
    const backbone = (model.detector as FeatureDetector).backbone;
    (backbone.layer1 as Sequential).layers.push(new Dropout(0.5));
    assert.throws(
      () => exportOnnx(model),
      (e: unknown) => isSpotdiffError(e) && /module Dropout at "backbone\.layer1\.2" is not supported by the exporter/.test((e as Error).message),
    );
  } finally {
    disposeModel(model);
  }
});

test('a method the exporter does not know and a tiled model are refused with their names', async () => {
  const model = await loadModelFolder(fx.models.padim!);
  try {
    assert.throws(() => exportOnnx({ ...model, manifest: { ...model.manifest, method: 'segmenter-v9' } }), /method "segmenter-v9" is not supported by the exporter/);
    assert.throws(() => exportOnnx({ ...model, manifest: { ...model.manifest, tiling: { size: 64, overlap: 8 } } }), /scores by 64 px tiles/);
  } finally {
    disposeModel(model);
  }
});

test('openOnnxScorer: a file that is not a spotdiff export, and a batch of the wrong size, are clear errors', async () => {
  await assert.rejects(openOnnxScorer(new Uint8Array([1, 2, 3, 4])), /is not an ONNX model|not an ONNX model exported by spotdiff/);
  await assert.rejects(openOnnxScorer(`${dir}/missing.onnx`), (e: unknown) => isSpotdiffError(e) && (e as { code: string }).code === 'ERR_NOT_FOUND');
  const model = await loadModelFolder(fx.models.padim!);
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(model).bytes;
  } finally {
    disposeModel(model);
  }
  const scorer = await openOnnxScorer(bytes);
  try {
    await assert.rejects(scorer.score(new Float32Array(3 * 64 * 64), 2), /expected 2 images of 3×64×64 floats/);
  } finally {
    await scorer.close();
  }
});

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { loadModelFolder, disposeModel, type LoadedModel } from '../../../src/detect/run/model-folder.js';
import { FeatureDetector } from '../../../src/detect/common/feature-detector.js';
import { fitPatchcore } from '../../../src/detect/patchcore/model.js';
import type { PatchcoreOptions } from '../../../src/detect/patchcore/config.js';
import { extractFeatures } from '../../../src/models/feature-extractor.js';
import { exportOnnx } from '../../../src/export/onnx/export.js';
import { openOnnxScorer } from '../../../src/export/onnx/index.js';
import { decodeModel } from '../../../src/export/onnx/schema.js';
import { tempDir } from '../../helpers/tmp.js';
import { assertClose, batches, makeFixture, type OnnxFixture } from './fixtures.js';

const dir = tempDir('spotdiff-onnx-parity-');
let fx: OnnxFixture;
let input: { raw: Float32Array; normalized: Float32Array };

before(async () => {
  fx = await makeFixture(dir, ['padim', 'patchcore']);
  input = await batches(fx.images);
});

/** Exports `model`, scores the test images on ONNX Runtime (whole batch and one by one) and on libtorch, and compares. */
async function checkParity(model: LoadedModel, what: string): Promise<void> {
  const n = fx.images.length;
  const want = T.tidy(() => {
    const s = model.detector.score(T.tensor(input.normalized, [n, 3, 64, 64]));
    return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32() };
  });
  const { bytes } = exportOnnx(model);
  const scorer = await openOnnxScorer(bytes, { threads: 1 });
  try {
    const got = await scorer.score(input.raw, n);
    assert.deepEqual([got.height, got.width], [64, 64]);
    assertClose(got.imageScores, want.imageScores, `${what} image scores`);
    assertClose(got.maps, want.maps, `${what} maps`);
    // Dynamic batch: one image at a time gives the same numbers.
    const plane = 3 * 64 * 64;
    const one = await scorer.score(input.raw.slice(plane, 2 * plane), 1);
    assertClose(one.imageScores, want.imageScores.slice(1, 2), `${what} image score of a batch of one`);
    assertClose(one.maps, want.maps.slice(64 * 64, 2 * 64 * 64), `${what} map of a batch of one`);
  } finally {
    await scorer.close();
  }
}

test('PaDiM: the exported graph scores as the libtorch detector (image scores and maps within 1e-4)', async () => {
  const model = await loadModelFolder(fx.models.padim!);
  try {
    await checkParity(model, 'padim');
  } finally {
    disposeModel(model);
  }
});

test('PatchCore (folder defaults: unfold-mean, euclidean, re-weighted k = 9): parity with libtorch', async () => {
  const model = await loadModelFolder(fx.models.patchcore!);
  try {
    await checkParity(model, 'patchcore');
  } finally {
    disposeModel(model);
  }
});

/** The folder's backbone with a PatchCore head fitted on the test images' features under other options. */
async function withHead(options: Omit<PatchcoreOptions, 'input'>, f: (m: LoadedModel) => Promise<void>): Promise<void> {
  const folder = await loadModelFolder(fx.models.patchcore!);
  const old = folder.detector as FeatureDetector;
  const layers = options.layers ?? old.config.layers;
  const head = T.noGrad(() =>
    T.tidy(() => {
      const features = extractFeatures(old.backbone, T.tensor(input.normalized, [fx.images.length, 3, 64, 64]), layers);
      return fitPatchcore([features], { input: old.config.input, coreset: { ratio: 0.5 }, ...options });
    }),
  );
  old.head.dispose();
  const detector = new FeatureDetector('patchcore', old.backbone, head);
  try {
    await f({ manifest: folder.manifest, detector });
  } finally {
    detector.dispose();
  }
}

for (const [name, options] of [
  ['squared-euclidean distance, image score = max patch score', { distance: 'squared-euclidean', imageScore: { rule: 'max' } }],
  ['squared-euclidean distance, re-weighted over k = 3', { distance: 'squared-euclidean', imageScore: { rule: 'reweighted', neighbours: 3 } }],
  ['anomalib avg-pool aggregation, no layer projection, target 100, euclidean max', { aggregation: { method: 'avg-pool' }, projection: { layerDim: null, targetDim: 100 }, imageScore: { rule: 'max' } }],
  ['map blurred with σ = 2 and torch-style reflect borders', { map: { blur: { sigma: 2, truncate: 4, padding: 'reflect' } } }],
  ['layer projections to 64 (grouped pooling convs of 2 and 4 channels a group), final 128 → 64 folded into them', { projection: { layerDim: 64, targetDim: 64 } }],
  ['one layer (layer3), 5×5 unfold patches', { layers: ['layer3'], aggregation: { method: 'unfold-mean', patchSize: 5 }, projection: { layerDim: 300, targetDim: 200 } }],
] as const) {
  test(`PatchCore, ${name}: parity with libtorch`, async () => {
    await withHead(options as Omit<PatchcoreOptions, 'input'>, (m) => checkParity(m, `patchcore (${name})`));
  });
}

test('the exported model: opset 17, a dynamic batch dimension, normalisation and thresholds in its metadata', async () => {
  const model = await loadModelFolder(fx.models.padim!);
  try {
    const { bytes, info } = exportOnnx(model);
    const proto = decodeModel(bytes) as {
      opset_import: { domain?: string; version: number }[];
      graph: { input: { name: string; type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }[]; output: { name: string }[] };
      metadata_props: { key: string; value: string }[];
    };
    assert.deepEqual(proto.opset_import.map((o) => o.version), [17]);
    const dims = proto.graph.input[0]!.type.tensor_type.shape.dim;
    assert.deepEqual(dims.map((d) => d.dim_param ?? d.dim_value), ['batch', 3, 64, 64]);
    assert.deepEqual(proto.graph.output.map((o) => o.name), ['image_scores', 'maps']);
    const meta = Object.fromEntries(proto.metadata_props.map((p) => [p.key, JSON.parse(p.value) as unknown]));
    assert.equal(meta['spotdiff.method'], 'padim');
    assert.equal(meta['spotdiff.opset'], 17);
    assert.deepEqual(meta['spotdiff.normalization'], { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], inGraph: true });
    assert.deepEqual(meta['spotdiff.threshold'], { image: model.manifest.threshold.value, pixel: model.manifest.threshold.pixelValue, source: String(model.manifest.threshold.source) });
    assert.deepEqual(info.input, { name: 'images', height: 64, width: 64, range: [0, 1] });
  } finally {
    disposeModel(model);
  }
});

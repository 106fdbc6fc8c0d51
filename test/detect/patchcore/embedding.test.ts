import '../../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { layerVectorSize, patchcoreEmbedding } from '../../../src/detect/patchcore/embedding.js';
import { foldedPatchConvs } from '../../../src/detect/patchcore/patch-pooling.js';

type Case = { name: string; channels: [number, number]; layerDim: number; targetDim: number; folds: boolean };

// The official shapes scaled down (C·9 pooled to layerDim, the two layers to targetDim), and
// shapes without a plan (a final bin spanning both layers, or groups too wide), which keep the
// unfold path.
const cases: Case[] = [
  { name: 'WRN-50-2 layer2+3 in miniature: 8·9 → 16, 16·9 → 16, 32 → 16', channels: [8, 16], layerDim: 16, targetDim: 16, folds: true },
  { name: 'bins of 4.5 values across channel borders: 8·9 → 16 twice, 32 → 16', channels: [8, 8], layerDim: 16, targetDim: 16, folds: true },
  { name: 'a layer whose outputs read 6 channels each (too dense): 8·9 → 16, 12·9 → 16, 32 → 20', channels: [8, 12], layerDim: 16, targetDim: 20, folds: false },
  { name: 'a final bin spanning both layers: 8·9 → 10, 8·9 → 10, 20 → 7', channels: [8, 8], layerDim: 10, targetDim: 7, folds: false },
];

for (const c of cases) {
  test(`PatchCore embedding as grouped convolutions equals unfold + poolings (1e-6): ${c.name}`, () => {
    const cfg = {
      layers: ['layer2', 'layer3'],
      aggregation: { method: 'unfold-mean' as const, patchSize: 3 },
      projection: { layerDim: c.layerDim, targetDim: c.targetDim },
    };
    const sizes = c.channels.map((ch) => layerVectorSize(cfg, ch));
    const dim = cfg.projection.targetDim;
    assert.equal(foldedPatchConvs(c.channels, sizes, 3, dim) !== null, c.folds, 'which path runs');
    T.tidy(() => {
      T.manualSeed(4);
      const features = new Map([
        ['layer2', T.randn([2, c.channels[0], 7, 6])],
        ['layer3', T.randn([2, c.channels[1], 4, 3])],
      ]);
      const folded = patchcoreEmbedding(features, cfg).embedding;
      const reference = patchcoreEmbedding(features, cfg, { folded: false }).embedding;
      assert.deepEqual(folded.shape, [2, 7, 6, dim]);
      assert.deepEqual(reference.shape, folded.shape);
      const diff = Math.max(...T.abs(T.sub(folded, reference)).toFloat32());
      assert.ok(diff <= 1e-6, `max |folded − unfold| ${diff}`);
    });
  });
}

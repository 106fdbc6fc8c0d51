import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { resnet18, resnet50 } from '../../src/models/resnet.js';
import { FeatureExtractor, extractFeatures } from '../../src/models/feature-extractor.js';
import { isSpotdiffError } from '../../src/util/errors.js';

T.setNumThreads(1);
T.manualSeed(3);
const model = resnet18({ numClasses: 5 }).eval();
const x = T.keep(T.randn([2, 3, 64, 64]));

test('features are the stages applied in turn; shapes [N,C,H/4..H/32,W/4..W/32]; keys in the order asked', () => {
  T.noGrad(() =>
    T.tidy(() => {
      const feats = extractFeatures(model, x, ['layer3', 'layer1', 'avgpool', 'fc']);
      assert.deepEqual([...feats.keys()], ['layer3', 'layer1', 'avgpool', 'fc']);
      const l1 = model.layer1.forward(model.stem(x));
      const l3 = model.layer3.forward(model.layer2.forward(l1));
      assert.deepEqual(feats.get('layer1')!.data(), l1.data());
      assert.deepEqual(feats.get('layer3')!.data(), l3.data());
      assert.deepEqual([...feats.get('layer1')!.shape], [2, 64, 16, 16]);
      assert.deepEqual([...feats.get('layer3')!.shape], [2, 256, 4, 4]);
      assert.deepEqual([...feats.get('avgpool')!.shape], [2, 512, 1, 1]);
      assert.deepEqual(feats.get('fc')!.data(), model.forward(x).data());
    }),
  );
});

test('only runs as deep as the deepest layer asked for', () => {
  const firstBlock = model.layer3.layers[0]!;
  const original = firstBlock.forward.bind(firstBlock);
  firstBlock.forward = () => {
    throw new Error('layer3 must not run');
  };
  try {
    T.noGrad(() =>
      T.tidy(() => {
        const feats = extractFeatures(model, x, ['layer2', 'layer1']);
        assert.deepEqual([...feats.get('layer2')!.shape], [2, 128, 8, 8]);
        assert.throws(() => extractFeatures(model, x, ['layer3']), /layer3 must not run/);
      }),
    );
  } finally {
    firstBlock.forward = original;
  }
});

test('unknown, repeated or no layers are ERR_BAD_INPUT listing the valid names', () => {
  T.tidy(() => {
    assert.throws(() => extractFeatures(model, x, ['layer5']), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /"layer5".*layer1, layer2, layer3, layer4, avgpool, fc/.test(e.message));
    assert.throws(() => extractFeatures(model, x, ['layer2', 'layer2']), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /twice/.test(e.message));
    assert.throws(() => new FeatureExtractor(model, []), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  });
});

test('returns only the asked tensors: every intermediate is freed, inside or outside a tidy', () => {
  T.noGrad(() => {
    const before = T.liveTensorCount();
    T.tidy(() => {
      extractFeatures(model, x, ['layer2', 'layer4']);
    });
    assert.equal(T.liveTensorCount(), before);
    const kept = extractFeatures(model, x, ['layer2', 'layer4']); // no scope: the caller owns exactly these
    assert.equal(T.liveTensorCount(), before + 2);
    T.dispose(kept);
    assert.equal(T.liveTensorCount(), before);
  });
});

test('in train mode gradients flow from a feature back to the stages that made it, not beyond', () => {
  const m = resnet50({ numClasses: 3 }).train();
  try {
    T.tidy(() => {
      m.zeroGrad();
      const feats = new FeatureExtractor(m, ['layer2']).forward(T.randn([2, 3, 32, 32]));
      T.sum(feats.get('layer2')!).backward();
      assert.ok(m.conv1.weight.grad !== null && m.layer2.layers[0]!.namedParameters()[0]![1].grad !== null);
      assert.equal(m.layer3.parameters()[0]!.grad, null);
      assert.equal(m.fc.weight.grad, null);
      assert.equal(m.layer3.namedBuffers().find(([n]) => n.endsWith('num_batches_tracked'))![1].item(), 0, 'layer3 did not run');
    });
  } finally {
    m.dispose();
  }
});

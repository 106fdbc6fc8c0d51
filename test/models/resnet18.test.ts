import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { resnet18, ResNet } from '../../src/models/resnet.js';
import { extractFeatures } from '../../src/models/feature-extractor.js';
import { loadWeights, saveWeights } from '../../src/models/weights.js';
import { readPth } from '../../src/tensor/io/index.js';
import { toFloat32 } from '../../src/tensor/io/host-tensor.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { assertRelClose, torchvisionReference, type RefArray } from './torchvision-ref.js';

// Both sides run on 1 thread (the suite runs files in parallel; OpenMP threads on busy cores
// only wait for each other). Tolerance: max|a-b| / max|b| ≤ 1e-4 per output tensor.
const TOL = 1e-4;
const dir = tempDir();
const ref = torchvisionReference('resnet18', dir, { inputShape: [2, 3, 64, 80], train: true });
const input = (): T.Tensor => T.tensor(ref.input.values, ref.input.shape);
const got = (t: T.Tensor): { shape: readonly number[]; values: Float32Array } => ({ shape: t.shape, values: t.toFloat32() });
const expected = (name: string): RefArray => {
  const r = ref.outputs.get(name);
  assert.ok(r, `no reference output ${name}`);
  return r;
};

function checkEval(model: ResNet, label: string): void {
  model.eval();
  T.noGrad(() =>
    T.tidy(() => {
      const x = input();
      const feats = extractFeatures(model, x, ['layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
      for (const l of ['layer1', 'layer2', 'layer3', 'layer4', 'avgpool'] as const) assertRelClose(`${label} ${l}`, got(feats.get(l)!), expected(`eval.${l}`), TOL);
      assertRelClose(`${label} fc (extractor)`, got(feats.get('fc')!), expected('eval.logits'), TOL);
      assertRelClose(`${label} logits (forward)`, got(model.forward(x)), expected('eval.logits'), TOL);
    }),
  );
}

test('seeded like torch, resnet18 starts from exactly torchvision\'s initial weights', async () => {
  const saved = await readPth(ref.pthPath);
  T.manualSeed(0);
  const model = resnet18();
  try {
    const sd = model.stateDict();
    assert.deepEqual([...sd.keys()], [...saved.keys()], 'same names in the same order');
    for (const [name, t] of sd) {
      const want = toFloat32(saved.get(name)!);
      assert.deepEqual([...t.shape], [...saved.get(name)!.shape], name);
      assert.deepEqual(t.toFloat32(), want, `${name} differs from torchvision's seeded init`);
    }
  } finally {
    model.dispose();
  }
});

test('resnet18 with a torchvision .pth matches PyTorch in eval mode (layer1..4, avgpool, logits)', async () => {
  T.manualSeed(123); // different from the checkpoint's: every value must come from the file
  const model = resnet18();
  try {
    await loadWeights(model, ref.pthPath);
    checkEval(model, 'pth');
  } finally {
    model.dispose();
  }
});

test('resnet18 matches PyTorch again after a safetensors round trip', async () => {
  const a = resnet18();
  const b = resnet18();
  try {
    await loadWeights(a, ref.pthPath);
    const path = join(dir, 'r18.safetensors');
    await saveWeights(a, path);
    await loadWeights(b, path);
    for (const [name, t] of b.stateDict()) assert.deepEqual(t.data(), a.stateDict().get(name)!.data(), name);
    checkEval(b, 'safetensors');
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('resnet18 in train mode matches PyTorch: batch statistics, updated running stats, num_batches_tracked', async () => {
  const model = resnet18();
  try {
    await loadWeights(model, ref.pthPath);
    model.eval();
    T.noGrad(() => T.tidy(() => model.forward(input()))); // as the reference: eval first (must not touch buffers)
    model.train();
    T.noGrad(() =>
      T.tidy(() => {
        const feats = extractFeatures(model, input(), ['layer1', 'layer2', 'layer3', 'layer4', 'fc']);
        for (const l of ['layer1', 'layer2', 'layer3', 'layer4'] as const) assertRelClose(`train ${l}`, got(feats.get(l)!), expected(`train.${l}`), TOL);
        assertRelClose('train logits', got(feats.get('fc')!), expected('train.logits'), TOL);
      }),
    );
    let buffers = 0;
    for (const [name, t] of model.stateDict()) {
      if (!name.includes('running') && !name.includes('num_batches')) continue;
      assertRelClose(`buffer ${name}`, got(t), expected(`trainBuffers.${name}`), TOL);
      buffers++;
    }
    assert.equal(buffers, 20 * 3);
  } finally {
    model.dispose();
  }
});

test('one training step (train mode, cross-entropy, backward) gives PyTorch\'s loss and gradients for every parameter', async () => {
  const model = resnet18();
  try {
    await loadWeights(model, ref.pthPath);
    model.train();
    T.tidy(() => {
      const n = ref.input.shape[0]!;
      const y = T.tensor(BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 4 + 3)), [n]);
      const loss = T.crossEntropyRaw(model.forward(input()), y);
      loss.backward();
      assertRelClose('loss', { shape: [1], values: loss.toFloat32() }, expected('grad.loss'), TOL);
      const params = model.namedParameters();
      assert.equal(params.length, 62);
      for (const [name, p] of params) assertRelClose(`grad of ${name}`, got(p.grad!), expected(`grad.${name}`), TOL);
    });
  } finally {
    model.dispose();
  }
});

test('a one-channel or integer input is a SpotdiffError naming the expected shape, not a crash', () => {
  const model = resnet18().eval();
  try {
    T.noGrad(() =>
      T.tidy(() => {
        assert.throws(() => model.forward(T.zeros([1, 1, 64, 64])), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /\[N, 3, H, W\].*\[1, 1, 64, 64\]/.test(e.message));
        assert.throws(() => model.forward(T.zeros([3, 64, 64])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
        assert.throws(() => model.forward(T.zeros([1, 3, 64, 64], { dtype: 'int64' })), (e) => isSpotdiffError(e, 'ERR_DTYPE'));

      }),
    );
  } finally {
    model.dispose();
  }
});

test('a training step frees every intermediate: the live-tensor count returns to where it was', () => {
  const model = resnet18({ numClasses: 4 }).train();
  try {
    const x = T.randn([2, 3, 16, 16]);
    const y = T.tensor(BigInt64Array.from([1n, 3n]), [2]);
    const step = (): void =>
      T.tidy(() => {
        model.zeroGrad();
        T.crossEntropyRaw(model.forward(x), y).backward();
      });
    step();
    const before = T.liveTensorCount();
    for (let i = 0; i < 2; i++) step();
    assert.equal(T.liveTensorCount(), before);
    x.dispose();
    y.dispose();
  } finally {
    model.dispose();
  }
});

import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { ResNet, type ResNetArch } from '../../src/models/resnet.js';
import { extractFeatures } from '../../src/models/feature-extractor.js';
import { loadResNet, saveWeights } from '../../src/models/weights.js';
import { tempDir } from '../helpers/tmp.js';
import { assertRelClose, torchvisionReference, type RefArray } from './torchvision-ref.js';

/**
 * The parity tests of a bottleneck ResNet (resnet50, wide_resnet50_2): weights from a .pth
 * written by torchvision, eval-mode outputs against PyTorch's on a small input (1×3×64×64
 * keeps the run short; every layer still runs), then again after a safetensors round trip.
 * One thread on both sides; tolerance max|a-b| / max|b| ≤ 1e-4 per output tensor.
 */
export function bottleneckParityTests(arch: ResNetArch): void {
  const TOL = 1e-4;
  const dir = tempDir();
  const ref = torchvisionReference(arch, dir, { inputShape: [1, 3, 64, 64] });
  const expected = (name: string): RefArray => {
    const r = ref.outputs.get(name);
    assert.ok(r, `no reference output ${name}`);
    return r;
  };

  function checkEval(model: ResNet, label: string): void {
    assert.equal(model.arch, arch);
    model.eval();
    T.noGrad(() =>
      T.tidy(() => {
        const x = T.tensor(ref.input.values, ref.input.shape);
        const feats = extractFeatures(model, x, ['layer1', 'layer2', 'layer3', 'layer4', 'fc']);
        for (const l of ['layer1', 'layer2', 'layer3', 'layer4'] as const) {
          const t = feats.get(l)!;
          assertRelClose(`${label} ${l}`, { shape: t.shape, values: t.toFloat32() }, expected(`eval.${l}`), TOL);
        }
        const logits = feats.get('fc')!;
        assertRelClose(`${label} logits`, { shape: logits.shape, values: logits.toFloat32() }, expected('eval.logits'), TOL);
      }),
    );
  }

  test(`${arch} from a torchvision .pth matches PyTorch (layer1..4 and logits), and again after a safetensors round trip`, async () => {
    const fromPth = await loadResNet(arch, ref.pthPath);
    try {
      checkEval(fromPth, 'pth');
      const path = join(dir, `${arch}.safetensors`);
      await saveWeights(fromPth, path);
      const fromSafetensors = await loadResNet(arch, path);
      try {
        checkEval(fromSafetensors, 'safetensors');
      } finally {
        fromSafetensors.dispose();
      }
    } finally {
      fromPth.dispose();
    }
  });
}

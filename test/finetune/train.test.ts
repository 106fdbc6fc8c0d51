import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { openDataset } from '../../src/data/datasets/open.js';
import { loadShots, supportSet } from '../../src/finetune/images.js';
import { Finetuner, type StepLosses } from '../../src/finetune/train.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from '../helpers/tmp.js';

// Fine-tuning on two synthetic normal images (32 px, random-init ResNet-18): the training loss
// on a fixed set of held-back views goes down over 20 steps, the same seed gives the same
// steps, and the loop leaks no tensors.

T.setNumThreads(1);
const STEPS = 20;

async function twoShots(): Promise<T.Tensor> {
  const dir = tempDir('spotdiff-finetune-train-');
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 3, normal: 3, anomalous: 0, size: 64, threads: 0 });
  const ds = await openDataset(join(dir, 'raw'));
  return loadShots(ds.samples.filter((s) => s.label === 'normal').slice(0, 2), 32);
}

test(`fine-tuning lowers its training loss over ${STEPS} steps on synthetic normals, seeded, without leaking tensors`, async (t) => {
  const shots = await twoShots();
  const options = { steps: STEPS, batch: 4, views: 'weak' as const, negatives: 'smoothblend' as const, lr: 1e-4, seed: 5 };
  T.manualSeed(1);
  const model = resnet18();
  const tuner = new Finetuner(model, options);
  try {
    // A fixed evaluation batch (views no step draws), measured before and after training.
    const held = tuner.views(shots, 10_000);
    const before = tuner.evaluate(held);
    const live: number[] = [];
    const trace = tuner.run(shots, () => live.push(T.liveTensorCount()));
    const after = tuner.evaluate(held);
    T.dispose(held);
    const fmt = (l: StepLosses): string => `${l.total.toFixed(4)} (contrastive ${l.contrastive.toFixed(4)}, cross ${l.cross!.toFixed(4)}, negative ${l.negative!.toFixed(4)})`;
    t.diagnostic(`held-out views: ${fmt(before)} -> ${fmt(after)}; step losses ${trace[0]!.total.toFixed(4)} -> ${trace[STEPS - 1]!.total.toFixed(4)}; live tensors after step 1: ${live[0]}, after step ${STEPS}: ${live[STEPS - 1]}`);
    assert.equal(trace.length, STEPS);
    assert.ok(after.total < before.total, `held-out loss went from ${before.total} to ${after.total}`);
    // Not by collapse: all embeddings equal would put NT-Xent at log(2B − 1) and InfoNCE at log(1 + B).
    assert.ok(after.contrastive < Math.log(7) - 0.1, `contrastive term ${after.contrastive} is at the collapsed value log 7`);
    const firstFive = trace.slice(0, 5).reduce((a, l) => a + l.total, 0);
    const lastFive = trace.slice(-5).reduce((a, l) => a + l.total, 0);
    assert.ok(lastFive < firstFive, `mean step loss went from ${firstFive / 5} to ${lastFive / 5}`);
    assert.equal(live[STEPS - 1], live[0], 'the live tensor count grew during fine-tuning (a leak)');

    // Same seed, fresh copy of the same start: the same first steps.
    T.manualSeed(1);
    const again = resnet18();
    const replay = new Finetuner(again, { ...options, steps: 3 });
    try {
      const losses = replay.run(shots);
      assert.deepEqual(losses, trace.slice(0, 3));
    } finally {
      replay.dispose();
      again.dispose();
    }
  } finally {
    tuner.dispose();
    model.dispose();
  }

  // The support set: the shots plus seeded augmented copies, normalised.
  const a = supportSet(shots, new Random(2), 3);
  const b = supportSet(shots, new Random(2), 3);
  try {
    assert.deepEqual(a.shape, [8, 3, 32, 32]);
    assert.deepEqual(a.data(), b.data());
  } finally {
    T.dispose([a, b, shots]);
  }
});

import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { resnet18, resnet50 } from '../../src/models/resnet.js';
import { loadResNet, loadWeights, loadWeightsInto, readWeights, saveWeights, stateDictToHost } from '../../src/models/weights.js';
import { guessResNetArch } from '../../src/models/arch-detect.js';
import { readSafetensors, writeSafetensors } from '../../src/tensor/io/index.js';
import { isSpotdiffError, type ErrorCode } from '../../src/util/errors.js';
import { runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
// torchvision checkpoints: resnet18 and resnet50 (1000 classes), resnet18 with 10 classes,
// and resnet18 in the legacy (pre-1.6, non-zip) serialisation.
runPython(
  `
import sys, torch, torchvision
d = sys.argv[1]
torch.manual_seed(0)
r18 = torchvision.models.resnet18()
torch.save(r18.state_dict(), d + '/resnet18.pth')
torch.save(r18.state_dict(), d + '/legacy.pth', _use_new_zipfile_serialization=False)
torch.save(torchvision.models.resnet50().state_dict(), d + '/resnet50.pth')
torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), d + '/resnet18-10.pth')
`,
  [dir],
);
const r18 = join(dir, 'resnet18.pth');

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSpotdiffError(e), `expected a SpotdiffError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a missing weights file is ERR_NOT_FOUND naming the path', async () => {
  const model = resnet18();
  try {
    await rejectsWith(loadWeights(model, join(dir, 'nope.pth')), 'ERR_NOT_FOUND', /weights file not found: .*nope\.pth/);
  } finally {
    model.dispose();
  }
});

test('truncated checkpoints (.pth and safetensors, cut anywhere) are ERR_BAD_CHECKPOINT and leave the model as it was', async () => {
  const model = resnet18();
  const before = model.conv1.weight.toFloat32();
  const st = join(dir, 'r18.safetensors');
  await saveWeights(model, st);
  try {
    for (const src of [r18, st]) {
      const bytes = readFileSync(src);
      for (const keep of [0, 5, 16, 1000, Math.floor(bytes.length / 2), bytes.length - 30, bytes.length - 1]) {
        const cut = join(dir, `cut-${keep}-${src.endsWith('.pth') ? 'x.pth' : 'x.safetensors'}`);
        writeFileSync(cut, bytes.subarray(0, keep));
        await rejectsWith(loadWeights(model, cut), 'ERR_BAD_CHECKPOINT', /./);
      }
    }
    assert.deepEqual(model.conv1.weight.toFloat32(), before);
  } finally {
    model.dispose();
  }
});

test('resnet50 weights into resnet18: the error names both architectures and lists the problems; nothing is copied', async () => {
  T.manualSeed(7);
  const model = resnet18();
  const before = model.conv1.weight.toFloat32();
  try {
    await rejectsWith(
      loadWeights(model, join(dir, 'resnet50.pth')),
      'ERR_BAD_CHECKPOINT',
      /this looks like resnet50 weights, the model is resnet18.*unexpected \(198\).*layer1\.0\.conv3\.weight.*shape mismatch/,
    );
    assert.deepEqual(model.conv1.weight.toFloat32(), before, 'a failed load must not change any weight');
  } finally {
    model.dispose();
  }
  const big = resnet50();
  try {
    await rejectsWith(loadWeights(big, r18), 'ERR_BAD_CHECKPOINT', /this looks like resnet18 weights, the model is resnet50.*missing/);
  } finally {
    big.dispose();
  }
});

test('a different class count is named; loadResNet takes the class count from the weights', async () => {
  const model = resnet18();
  try {
    await rejectsWith(loadWeights(model, join(dir, 'resnet18-10.pth')), 'ERR_BAD_CHECKPOINT', /10 output classes, the model 1000.*fc\.weight/);
  } finally {
    model.dispose();
  }
  const ten = await loadResNet('resnet18', join(dir, 'resnet18-10.pth'));
  try {
    assert.deepEqual([...ten.fc.weight.shape], [10, 512]);
  } finally {
    ten.dispose();
  }
});

test('a legacy (non-zip) torch.save file and a file of another kind get errors that say what they are', async () => {
  const model = resnet18();
  try {
    await rejectsWith(loadWeights(model, join(dir, 'legacy.pth')), 'ERR_BAD_CHECKPOINT', /legacy .*non-zip/);
    const text = join(dir, 'notes.pth');
    writeFileSync(text, 'these are not weights\n');
    await rejectsWith(loadWeights(model, text), 'ERR_BAD_CHECKPOINT', /neither a PyTorch zip checkpoint .* nor a safetensors file/);
  } finally {
    model.dispose();
  }
});

test('a model folder (weights.safetensors inside) is accepted as --weights; a folder without one is not', async () => {
  const a = resnet18();
  const b = resnet18();
  try {
    const folder = join(dir, 'saved-model');
    mkdirSync(folder, { recursive: true });
    await saveWeights(a, join(folder, 'weights.safetensors'));
    await loadWeights(b, folder);
    assert.deepEqual(b.fc.weight.toFloat32(), a.fc.weight.toFloat32());
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty, { recursive: true });
    await rejectsWith(loadWeights(b, empty), 'ERR_NOT_FOUND', /without weights\.safetensors/);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('saved safetensors hold every state-dict tensor, with the architecture in the metadata; the write is atomic', async () => {
  const model = resnet18();
  try {
    const path = join(dir, 'atomic', 'w.safetensors');
    await saveWeights(model, path);
    const { tensors, metadata } = await readSafetensors(path);
    assert.equal(metadata['spotdiff.arch'], 'resnet18');
    assert.deepEqual(new Set(tensors.keys()), new Set(model.stateDict().keys()));
    assert.equal(tensors.get('bn1.num_batches_tracked')!.dtype, 'int64');
    assert.deepEqual(readdirSync(join(dir, 'atomic')), ['w.safetensors'], 'no temporary file left behind');
  } finally {
    model.dispose();
  }
});

test('checkpoints without num_batches_tracked (old torchvision releases) load, the counters set to 0', async () => {
  const src = resnet18();
  const dst = resnet18();
  try {
    T.noGrad(() => T.addInPlace(dst.bn1.numBatchesTracked, 5));
    const host = stateDictToHost(src);
    for (const k of [...host.keys()]) if (k.endsWith('num_batches_tracked')) host.delete(k);
    const path = join(dir, 'old-style.safetensors');
    await writeSafetensors(path, host);
    await loadWeights(dst, path);
    assert.equal(dst.bn1.numBatchesTracked.item(), 0);
    assert.deepEqual(dst.fc.bias!.toFloat32(), src.fc.bias!.toFloat32());
  } finally {
    src.dispose();
    dst.dispose();
  }
});

test('a checkpoint missing only some num_batches_tracked is reported, not silently filled', async () => {
  const src = resnet18();
  const dst = resnet18();
  try {
    const host = stateDictToHost(src);
    host.delete('bn1.num_batches_tracked');
    assert.throws(() => loadWeightsInto(dst, host, 'partial.safetensors'), (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && /bn1\.num_batches_tracked/.test(e.message));
  } finally {
    src.dispose();
    dst.dispose();
  }
});

test('names saved from DataParallel ("module." prefix) get a hint', async () => {
  const model = resnet18();
  try {
    const host = await readWeights(r18);
    const prefixed = new Map([...host].map(([k, v]) => [`module.${k}`, v]));
    assert.throws(() => loadWeightsInto(model, prefixed, 'dp.pth'), (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && /dp\.pth: .*"module\."/.test(e.message));
  } finally {
    model.dispose();
  }
});

test('guessResNetArch tells the torchvision ResNets apart and returns null for other networks', async () => {
  assert.equal(guessResNetArch(await readWeights(r18)), 'resnet18');
  assert.equal(guessResNetArch(await readWeights(join(dir, 'resnet50.pth'))), 'resnet50');
  const shape = (s: number[]) => ({ shape: s });
  assert.equal(guessResNetArch(new Map([['features.0.weight', shape([64, 3, 3, 3])]])), null);
  const wide = new Map([
    ['conv1.weight', shape([64, 3, 7, 7])],
    ['layer1.0.conv1.weight', shape([128, 64, 1, 1])],
    ['layer1.0.conv3.weight', shape([256, 128, 1, 1])],
    ...[0, 1, 2, 3, 4, 5].map((i) => [`layer3.${i}.conv1.weight`, shape([512, 1024, 1, 1])] as [string, { shape: number[] }]),
  ]);
  assert.equal(guessResNetArch(wide), 'wide_resnet50_2');
  assert.ok(existsSync(r18));
});

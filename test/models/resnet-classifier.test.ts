import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { SGD, crossEntropy } from '../../src/nn/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { loadResNetClassifier, resNetClassifier } from '../../src/models/resnet-classifier.js';
import { saveWeights } from '../../src/models/weights.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { runPython } from '../helpers/python.js';
import { runWithFloats, shipState } from '../helpers/float-blob.js';
import { tempDir } from '../helpers/tmp.js';
import { relativeError } from './torchvision-ref.js';

// The 2-way ResNet classifier against torchvision: built from a torchvision .pth (its 1000-way fc
// dropped) the backbone is the file's and the new fc is torchvision's resnet18(num_classes=2) fc
// after torch.manual_seed(seed); one training step (batch 2, 64 px, train mode, cross-entropy,
// SGD momentum 0.9 lr 1e-4) equals PyTorch's. One thread on both sides. Tolerance: max|a − b| /
// max|b| ≤ 1e-4 per tensor.

const TOL = 1e-4;
const LR = 1e-4;
const SEED = 5;
const dir = tempDir('spotdiff-classifier-');

// A torchvision resnet18 saved by PyTorch (every tensor also as raw float32), and the fc that
// resnet18(num_classes=2) draws after manual_seed(SEED).
const PY_SAVE = String.raw`
import json, sys, torch, torchvision
d, seed = sys.argv[1], int(sys.argv[2])
torch.manual_seed(1)
m = torchvision.models.resnet18()
torch.save(m.state_dict(), d + '/resnet18.pth')
torch.manual_seed(seed)
c = torchvision.models.resnet18(num_classes=2)
names = []
with open(d + '/resnet18.f32', 'wb') as f:
    for k, v in list(m.state_dict().items()) + [('new.fc.weight', c.fc.weight), ('new.fc.bias', c.fc.bias)]:
        names.append([k, list(v.shape)])
        f.write(v.detach().to(torch.float32).contiguous().numpy().tobytes())
print(json.dumps(names))
`;
const names = JSON.parse(runPython(PY_SAVE, [dir, String(SEED)])) as [string, number[]][];
const fileValues = new Map<string, Float32Array>();
{
  const raw = new Float32Array(readFileSync(join(dir, 'resnet18.f32')).buffer.slice(0));
  let pos = 0;
  for (const [name, shape] of names) {
    const n = shape.reduce((a, b) => a * b, 1);
    fileValues.set(name, raw.subarray(pos, (pos += n)));
  }
}

test('from a torchvision .pth: every feature tensor is the file\'s, fc is a new Linear(512, 2) drawn as torchvision\'s after manual_seed(seed)', async () => {
  const model = await loadResNetClassifier('resnet18', join(dir, 'resnet18.pth'), { seed: SEED });
  try {
    assert.ok(model instanceof ResNet);
    assert.deepEqual([...model.fc.weight.shape], [2, 512]);
    for (const [name, t] of model.stateDict()) {
      const want = fileValues.get(name.startsWith('fc.') ? `new.${name}` : name);
      assert.ok(want, `${name} has a reference`);
      assert.deepEqual(t.toFloat32(), want, name);
    }
  } finally {
    model.dispose();
  }
});

test('from a safetensors backbone whose fc is something else (as `spotdiff pretrain` writes one): the fc is dropped, the rest loads', async () => {
  T.manualSeed(9);
  const pretrained = new ResNet('resnet18', { numClasses: 7 });
  const path = join(dir, 'backbone.safetensors');
  await saveWeights(pretrained, path);
  const model = await loadResNetClassifier('resnet18', path, { seed: SEED });
  const random = resNetClassifier('resnet18', null, 'random', { seed: SEED });
  try {
    assert.deepEqual(model.layer4.stateDict().get('1.conv2.weight')!.toFloat32(), pretrained.layer4.stateDict().get('1.conv2.weight')!.toFloat32());
    assert.deepEqual(model.fc.weight.toFloat32(), fileValues.get('new.fc.weight'), 'the same seeded fc whatever the file');
    assert.deepEqual(random.fc.weight.toFloat32(), fileValues.get('new.fc.weight'), 'without a file: torchvision resnet18(num_classes=2) seeded');
  } finally {
    pretrained.dispose();
    model.dispose();
    random.dispose();
  }
  await assert.rejects(
    loadResNetClassifier('resnet50', join(dir, 'resnet18.pth')),
    (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && /holds resnet18 weights, but the backbone is resnet50/.test(e.message),
  );
  assert.throws(() => resNetClassifier('resnet18', null, 'random', { classes: 0 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});

const PY_STEP = String.raw`
m = torchvision.models.resnet18(num_classes=2)
own = m.state_dict()
m.load_state_dict({name: take(shape).to(own[name].dtype) for name, shape in meta['state']}, strict=True)
x = take(meta['x'])
y = torch.tensor(meta['labels'])
m.train()
opt = torch.optim.SGD(m.parameters(), lr=meta['lr'], momentum=0.9, foreach=False)
opt.zero_grad(set_to_none=True)
loss = F.cross_entropy(m(x), y)
loss.backward()
opt.step()
named = dict(m.named_parameters())
sd = m.state_dict()
outs = [loss.detach().reshape(1)] + [named[n].grad for n in meta['grads']] + [sd[n] for n in meta['after']]
open(OUT, 'wb').write(b''.join(t.detach().to(torch.float32).contiguous().numpy().tobytes() for t in outs))
print(json.dumps({'offset': offset, 'total': raw.numel()}))
`;

test('one training step (resnet18 classifier from the .pth, batch 2, 64 px, cross-entropy, SGD momentum) matches PyTorch', async (t) => {
  const model = await loadResNetClassifier('resnet18', join(dir, 'resnet18.pth'), { seed: SEED });
  const opt = new SGD(model.parameters(), { lr: LR, momentum: 0.9 });
  T.manualSeed(11);
  const x = T.keep(T.randn([2, 3, 64, 64]));
  const labels = [0, 1];
  const y = T.keep(T.tensor(BigInt64Array.from(labels, BigInt), [2]));
  const watched = ['conv1.weight', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias'];
  const buffers = ['bn1.running_mean', 'bn1.running_var', 'layer4.1.bn2.running_mean', 'layer4.1.bn2.running_var', 'layer4.1.bn2.num_batches_tracked'];
  try {
    const chunks: Float32Array[] = [];
    const state = shipState(model.stateDict(), chunks);
    chunks.push(x.toFloat32());
    const params = model.namedParameters();
    const meta = { state, x: [...x.shape], labels, lr: LR, grads: params.map(([n]) => n), after: [...watched, ...buffers] };
    const { stdout, out } = runWithFloats(PY_STEP, meta, chunks, 'spotdiff-classifier-step-');
    const done = JSON.parse(stdout) as { offset: number; total: number };
    assert.equal(done.offset, done.total, 'Python read every shipped value');

    model.train();
    opt.zeroGrad();
    const loss = T.tidy(() => {
      const l = crossEntropy(model.forward(x), y);
      l.backward();
      return l.item();
    });
    opt.step();

    const want = out[0]!;
    assert.ok(Math.abs(loss - want) <= TOL * Math.abs(want), `loss ${loss} vs PyTorch ${want}`);
    let pos = 1;
    const take = (n: number): Float32Array => out.subarray(pos, (pos += n));
    let worst = { err: -1, name: '' };
    for (const [name, p] of params) {
      const e = relativeError(T.tidy(() => p.grad!.toFloat32()), take(p.size));
      if (e > worst.err) worst = { err: e, name };
    }
    assert.ok(worst.err <= TOL, `gradient of ${worst.name}: max|a-b|/max|b| = ${worst.err}`);
    const sd = model.stateDict();
    for (const name of [...watched, ...buffers]) {
      const v = sd.get(name)!;
      const e = relativeError(T.tidy(() => T.toDtype(v, 'float32').toFloat32()), take(v.size));
      assert.ok(e <= TOL, `${name} after the step: max|a-b|/max|b| = ${e}`);
    }
    assert.equal(pos, out.length);
    t.diagnostic(`loss ${loss.toFixed(7)} (PyTorch ${want.toFixed(7)}); worst gradient error ${worst.err.toExponential(2)} (${worst.name})`);
  } finally {
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
});

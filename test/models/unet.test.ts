import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { SGD, sigmoidFocalLoss } from '../../src/nn/index.js';
import { UNet, loadUNet } from '../../src/models/unet.js';
import type { ResNetArch } from '../../src/models/backbone-names.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { runPython } from '../helpers/python.js';
import { runWithFloats, shipState } from '../helpers/float-blob.js';
import { repoRoot, tempDir } from '../helpers/tmp.js';
import { relativeError } from './torchvision-ref.js';

// The U-Net against a reference written here in plain PyTorch over torchvision's resnet18 (not
// segmentation_models_pytorch): same seeded initial weights, one training step (batch 2, 64 px,
// train mode, sigmoid focal loss α 0.25 γ 2, SGD momentum 0.9 lr 1e-4), then an eval forward at
// an odd size. One thread on both sides. Tolerance: max|a − b| / max|b| ≤ 1e-4 per tensor.

const TOL = 1e-4;
const LR = 1e-4;
const dir = tempDir('spotdiff-unet-');

/** Python: the reference U-Net (bench/reference/unet_reference.py, the bench's too), built after torch.manual_seed(seed) as spotdiff's UNet documents. */
const PY_UNET = String.raw`
import sys
sys.path.insert(0, ${JSON.stringify(join(repoRoot, 'bench/reference'))})
from unet_reference import UNet
`;

const PY_STEP = String.raw`
import torchvision.ops
${PY_UNET}
m = UNet('resnet18', meta['seed'])
own = m.state_dict()
shipped = {name: take(shape).to(own[name].dtype) for name, shape in meta['state']}
assert list(own.keys()) == list(shipped.keys()), 'state dict names or order differ'
init_differs = [k for k in own if not torch.equal(own[k], shipped[k])]
m.load_state_dict(shipped, strict=True)
x, target, odd = take(meta['x']), take(meta['x'][:1] + [1] + meta['x'][2:]), take(meta['odd'])
m.train()
opt = torch.optim.SGD(m.parameters(), lr=meta['lr'], momentum=0.9, foreach=False)
opt.zero_grad(set_to_none=True)
loss = torchvision.ops.sigmoid_focal_loss(m(x), target, alpha=0.25, gamma=2, reduction='mean')
loss.backward()
opt.step()
named = dict(m.named_parameters())
outs = [loss.detach().reshape(1)] + [named[n].grad for n in meta['grads']]
sd = m.state_dict()
outs += [sd[n] for n in meta['after']]
m.eval()
with torch.no_grad():
    outs.append(m(odd))
open(OUT, 'wb').write(b''.join(t.detach().to(torch.float32).contiguous().numpy().tobytes() for t in outs))
print(json.dumps({'offset': offset, 'total': raw.numel(), 'initDiffers': init_differs}))
`;

function forwardShape(model: UNet, h: number, w: number): readonly number[] {
  return T.noGrad(() => T.tidy(() => model.forward(T.randn([1, 3, h, w])).shape));
}

test('the output has the input size: 224, 256, odd and non-square sizes (resnet18), and a small odd size for resnet50', () => {
  const model = new UNet('resnet18').eval();
  try {
    const before = T.liveTensorCount();
    for (const [h, w] of [[224, 224], [256, 256], [225, 225], [250, 250], [225, 250], [33, 47]] as const) {
      assert.deepEqual(forwardShape(model, h, w), [1, 1, h, w], `${h}×${w}`);
    }
    assert.equal(T.liveTensorCount(), before, 'the forward pass keeps no tensor alive');
  } finally {
    model.dispose();
  }
  const big = new UNet('resnet50').eval();
  try {
    assert.deepEqual(forwardShape(big, 65, 65), [1, 1, 65, 65]);
    assert.equal(big.decoder.blocks.layers.length, 5);
    // resnet50's skips are wider: layer3 1024 channels joins the first block's 2048 → 256.
    assert.deepEqual([...big.stateDict().get('decoder.blocks.0.conv1.0.weight')!.shape], [256, 2048 + 1024, 3, 3]);
  } finally {
    big.dispose();
  }
});

test('state dict names: encoder.<torchvision names without fc>, decoder.blocks.<i>.conv{1,2}.{0,1}, segmentation_head.0', () => {
  const model = new UNet('resnet18');
  try {
    const names = [...model.stateDict().keys()];
    assert.equal(names[0], 'encoder.conv1.weight');
    assert.ok(!names.some((n) => n.startsWith('encoder.fc')), 'no classifier in the encoder');
    assert.ok(names.includes('encoder.layer4.1.bn2.running_var'));
    assert.ok(names.includes('decoder.blocks.3.conv1.1.num_batches_tracked'));
    assert.deepEqual(names.slice(-2), ['segmentation_head.0.weight', 'segmentation_head.0.bias']);
    assert.deepEqual([...model.head.weight.shape], [1, 16, 3, 3]);
  } finally {
    model.dispose();
  }
});

// A torchvision resnet18 (and a resnet50) saved by PyTorch; every tensor of the resnet18 also as raw float32.
const PY_SAVE = String.raw`
import json, sys, torch, torchvision
d = sys.argv[1]
torch.manual_seed(1)
m = torchvision.models.resnet18()
torch.save(m.state_dict(), d + '/resnet18.pth')
torch.save(torchvision.models.resnet50().state_dict(), d + '/resnet50.pth')
names = []
with open(d + '/resnet18.f32', 'wb') as f:
    for k, v in m.state_dict().items():
        names.append([k, list(v.shape)])
        f.write(v.to(torch.float32).contiguous().numpy().tobytes())
print(json.dumps(names))
`;

test('encoder weights load from a torchvision .pth unchanged, tensor by tensor; the file\'s fc is ignored and the decoder keeps its seeded init', async () => {
  const names = JSON.parse(runPython(PY_SAVE, [dir])) as [string, number[]][];
  const raw = new Float32Array(readFileSync(join(dir, 'resnet18.f32')).buffer.slice(0));
  const model = await loadUNet('resnet18', join(dir, 'resnet18.pth'), { seed: 3 });
  const fresh = new UNet('resnet18', { seed: 3 });
  try {
    const sd = model.stateDict();
    let pos = 0;
    let checked = 0;
    for (const [name, shape] of names) {
      const n = shape.reduce((a, b) => a * b, 1);
      const want = raw.subarray(pos, pos + n);
      pos += n;
      if (name.startsWith('fc.')) {
        assert.ok(!sd.has(`encoder.${name}`), `${name} is not part of the U-Net`);
        continue;
      }
      const t = sd.get(`encoder.${name}`);
      assert.ok(t, `encoder.${name} exists`);
      assert.deepEqual([...t.shape], shape, name);
      assert.deepEqual(t.toFloat32(), want, `encoder.${name} equals the file's ${name}`);
      checked++;
    }
    assert.equal(checked, [...sd.keys()].filter((k) => k.startsWith('encoder.')).length, 'every encoder tensor came from the file');
    for (const [name, t] of fresh.stateDict()) {
      if (!name.startsWith('encoder.')) assert.deepEqual(sd.get(name)!.toFloat32(), t.toFloat32(), `${name} keeps the seeded init`);
    }
  } finally {
    model.dispose();
    fresh.dispose();
  }
  await assert.rejects(
    loadUNet('resnet18' as ResNetArch, join(dir, 'resnet50.pth')),
    (e: unknown) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && /holds resnet50 weights, but the backbone is resnet18/.test(e.message),
  );
});

test('one training step (resnet18 U-Net, batch 2, 64 px, focal loss, SGD momentum) matches PyTorch; so does an eval forward at 45×50 after it', (t) => {
  const seed = 3;
  const model = new UNet('resnet18', { seed });
  T.manualSeed(11);
  const x = T.keep(T.randn([2, 3, 64, 64]));
  const target = T.keep(T.tidy(() => T.toDtype(T.gt(T.rand([2, 1, 64, 64]), 0.8), 'float32')));
  const odd = T.keep(T.randn([2, 3, 45, 50]));
  const opt = new SGD(model.parameters(), { lr: LR, momentum: 0.9 });
  const watched = ['encoder.conv1.weight', 'decoder.blocks.0.conv1.0.weight', 'decoder.blocks.4.conv2.0.weight', 'segmentation_head.0.weight', 'segmentation_head.0.bias'];
  const buffers = ['encoder.bn1.running_mean', 'encoder.bn1.running_var', 'encoder.layer4.1.bn2.running_var', 'decoder.blocks.0.conv1.1.running_mean', 'decoder.blocks.4.conv2.1.running_var', 'decoder.blocks.4.conv2.1.num_batches_tracked'];
  try {
    const chunks: Float32Array[] = [];
    const state = shipState(model.stateDict(), chunks);
    for (const v of [x, target, odd]) chunks.push(v.toFloat32());
    const params = model.namedParameters();
    const meta = { seed, state, x: [...x.shape], odd: [...odd.shape], lr: LR, grads: params.map(([n]) => n), after: [...watched, ...buffers] };
    const { stdout, out } = runWithFloats(PY_STEP, meta, chunks, 'spotdiff-unet-step-');
    const done = JSON.parse(stdout) as { offset: number; total: number; initDiffers: string[] };
    assert.equal(done.offset, done.total, 'Python read every shipped value');
    assert.deepEqual(done.initDiffers, [], 'the seeded init equals the reference built after torch.manual_seed(seed)');

    model.train();
    opt.zeroGrad();
    const loss = T.tidy(() => {
      const l = sigmoidFocalLoss(model.forward(x), target, { alpha: 0.25, gamma: 2 });
      l.backward();
      return l.item();
    });
    opt.step();

    const want = out.subarray(0, 1)[0]!;
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
    model.eval();
    const y = T.noGrad(() => T.tidy(() => model.forward(odd).toFloat32()));
    const ey = relativeError(y, take(2 * 45 * 50));
    assert.equal(pos, out.length);
    assert.ok(ey <= TOL, `eval logits at 45×50: max|a-b|/max|b| = ${ey}`);
    t.diagnostic(`loss ${loss.toFixed(7)} (PyTorch ${want.toFixed(7)}); worst gradient error ${worst.err.toExponential(2)} (${worst.name}); eval logits at 45×50 ${ey.toExponential(2)}`);
  } finally {
    opt.dispose();
    model.dispose();
    x.dispose();
    target.dispose();
    odd.dispose();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, SGD, Sequential, crossEntropy } from '../../src/nn/index.js';
import { runPython } from '../helpers/python.js';
import { PY_REFERENCE_THREADS } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

// The end-to-end check: a small CNN trained for 200 SGD steps (momentum 0.9, weight
// decay 1e-4, cross-entropy) in spotdiff and in PyTorch from the same initial weights and data.
// The loss must agree at every step to 1e-3 ABSOLUTE, and the live native tensor count must be
// the same after step 1 and after step 200. Both sides run with this process's thread counts
// (test/helpers/threads.ts).

const STEPS = 200;
const LOSS_TOLERANCE = 1e-3;
const [N, C, H, W, CLASSES] = [16, 3, 16, 16, 4];
const LR = 0.05;

function smallCnn(): Sequential {
  return new Sequential(
    new Conv2d(C, 24, 3, { padding: 1, bias: false }),
    new BatchNorm2d(24),
    new ReLU(),
    new Conv2d(24, 40, 3, { padding: 1, stride: 2, bias: false }),
    new BatchNorm2d(40),
    new ReLU(),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(40, CLASSES),
  );
}

const PYTHON = `
import json, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
${PY_REFERENCE_THREADS}
meta = json.load(open(sys.argv[1]))
raw = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
model = nn.Sequential(
    nn.Conv2d(3, 24, 3, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU(),
    nn.Conv2d(24, 40, 3, padding=1, stride=2, bias=False), nn.BatchNorm2d(40), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(40, 4))
own = model.state_dict()
offset, state = 0, {}
for name, shape in meta['tensors']:
    n = 1
    for s in shape:
        n *= s
    state[name] = raw[offset:offset + n].reshape(shape).to(own[name].dtype)
    offset += n
model.load_state_dict(state, strict=True)
x = raw[offset:offset + 16 * 3 * 16 * 16].reshape(16, 3, 16, 16).clone()
y = torch.tensor(meta['labels'], dtype=torch.long)
opt = torch.optim.SGD(model.parameters(), lr=meta['lr'], momentum=0.9, weight_decay=1e-4, foreach=False)
model.train()
losses = []
for step in range(meta['steps']):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
final = torch.cat([t.detach().double().reshape(-1) for t in model.state_dict().values()]).tolist()
print(json.dumps({'losses': losses, 'final': final}))
`;

test(`a small CNN trained ${STEPS} SGD steps matches PyTorch's loss curve and leaks no tensors`, (t) => {
  T.manualSeed(2024);
  const model = smallCnn();
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  const x = T.keep(T.randn([N, C, H, W]));
  const y = T.keep(T.randint(0, CLASSES, [N]));

  // Hand Python the initial state dict and the data as raw float32, in state-dict order.
  const dir = tempDir('spotdiff-train-');
  const chunks: Float32Array[] = [];
  const tensors: [string, number[]][] = [];
  for (const [name, v] of model.stateDict()) {
    tensors.push([name, [...v.shape]]);
    chunks.push(v.toFloat32());
  }
  chunks.push(x.toFloat32());
  const raw = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((o, c) => (raw.set(c, o), o + c.length), 0);
  writeFileSync(join(dir, 'data.f32'), raw);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ tensors, labels: Array.from(y.data() as BigInt64Array, Number), lr: LR, steps: STEPS }));
  const reference = JSON.parse(runPython(PYTHON, [join(dir, 'meta.json'), join(dir, 'data.f32')])) as { losses: number[]; final: number[] };

  const opt = new SGD(model.parameters(), { lr: LR, momentum: 0.9, weightDecay: 1e-4 });
  model.train();
  const losses: number[] = [];
  let liveAfterFirst = -1;
  const started = performance.now();
  for (let step = 0; step < STEPS; step++) {
    T.tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
    if (step === 0) liveAfterFirst = T.liveTensorCount();
  }
  const seconds = (performance.now() - started) / 1000;
  const liveAfterLast = T.liveTensorCount();

  let worstAbs = 0;
  let worstRel = 0;
  losses.forEach((l, i) => {
    const e = reference.losses[i]!;
    worstAbs = Math.max(worstAbs, Math.abs(l - e));
    worstRel = Math.max(worstRel, Math.abs(l - e) / Math.abs(e));
  });
  const final = [...model.stateDict().values()].flatMap((v) => Array.from(v.toFloat32()));
  const worstParam = final.reduce((m, v, i) => Math.max(m, Math.abs(v - reference.final[i]!)), 0);
  t.diagnostic(
    `${params} parameters; loss ${losses[0]!.toFixed(4)} -> ${losses[STEPS - 1]!.toFixed(4)} (PyTorch ${reference.losses[0]!.toFixed(4)} -> ${reference.losses[STEPS - 1]!.toFixed(4)}); ` +
      `worst loss difference ${worstAbs.toExponential(2)} abs / ${worstRel.toExponential(2)} rel; worst final state difference ${worstParam.toExponential(2)}; ` +
      `live tensors after step 1: ${liveAfterFirst}, after step ${STEPS}: ${liveAfterLast}; spotdiff loop ${seconds.toFixed(2)} s`,
  );
  assert.equal(reference.losses.length, STEPS);
  assert.ok(losses[STEPS - 1]! < 0.5 * losses[0]!, 'the loop actually trains');
  assert.ok(worstAbs <= LOSS_TOLERANCE, `loss differs from PyTorch by ${worstAbs} (> ${LOSS_TOLERANCE} absolute)`);
  assert.equal(liveAfterLast, liveAfterFirst, 'the live native tensor count grew during training (a leak)');

  opt.dispose();
  model.dispose();
  T.dispose([x, y]);
});

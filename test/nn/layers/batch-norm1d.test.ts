import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { BatchNorm1d } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { maxError, pack, torchJson, values, type Packed } from '../torch-ref.js';

// BatchNorm1d against torch.nn.BatchNorm1d on the same [N, C] inputs: two training steps
// (outputs, input and affine gradients of the first, running stats and num_batches_tracked
// after both), then eval mode on a third batch. Affine with torch's defaults, and affine=False
// with non-default momentum and eps. One Python run for all cases.

const TOL = 1e-6;
const C = 5;

interface CaseConfig {
  name: string;
  affine: boolean;
  momentum: number;
  eps: number;
}
const CASES: CaseConfig[] = [
  { name: 'affine, defaults', affine: true, momentum: 0.1, eps: 1e-5 },
  { name: 'affine=False, momentum 0.3, eps 1e-3', affine: false, momentum: 0.3, eps: 1e-3 },
];

interface TorchResult {
  y1: number[];
  y2: number[];
  y3: number[];
  gx: number[];
  gw: number[] | null;
  gb: number[] | null;
  runningMean: number[];
  runningVar: number[];
  tracked: number;
}

const REF = `
import torch.nn as nn
out = []
for c in payload['cases']:
    bn = nn.BatchNorm1d(${C}, affine=c['affine'], momentum=c['momentum'], eps=c['eps'])
    if c['affine']:
        with torch.no_grad():
            bn.weight.copy_(tensor(c['weight']))
            bn.bias.copy_(tensor(c['bias']))
    bn.train()
    x1 = tensor(c['x1']).requires_grad_(True)
    y1 = bn(x1)
    (y1 * tensor(c['upstream'])).sum().backward()
    y2 = bn(tensor(c['x2']))
    bn.eval()
    y3 = bn(tensor(c['x3']))
    out.append({
        'y1': flat(y1), 'y2': flat(y2), 'y3': flat(y3), 'gx': flat(x1.grad),
        'gw': flat(bn.weight.grad) if c['affine'] else None,
        'gb': flat(bn.bias.grad) if c['affine'] else None,
        'runningMean': flat(bn.running_mean), 'runningVar': flat(bn.running_var),
        'tracked': int(bn.num_batches_tracked),
    })
print(json.dumps(out))
`;

test('BatchNorm1d matches torch.nn.BatchNorm1d: two training steps (outputs, gradients, running stats), then eval', (t) => {
  T.manualSeed(31);
  T.tidy(() => {
    const inputs = CASES.map((c) => ({
      c,
      // Means and scales away from 0 and 1, so normalisation and the running stats do work.
      x1: T.add(T.mul(T.randn([6, C]), 3), 2),
      x2: T.add(T.mul(T.randn([4, C]), 0.5), -1),
      x3: T.randn([3, C]),
      upstream: T.randn([6, C]),
      weight: T.add(T.randn([C]), 1),
      bias: T.randn([C]),
    }));
    const payload: { cases: (CaseConfig & Record<string, Packed | boolean | number | string>)[] } = {
      cases: inputs.map((i) => ({ ...i.c, x1: pack(i.x1), x2: pack(i.x2), x3: pack(i.x3), upstream: pack(i.upstream), weight: pack(i.weight), bias: pack(i.bias) })),
    };
    const ref = torchJson<TorchResult[]>(REF, payload);
    const report: string[] = [];
    inputs.forEach((i, k) => {
      const e = ref[k]!;
      const bn = new BatchNorm1d(C, { affine: i.c.affine, momentum: i.c.momentum, eps: i.c.eps });
      try {
        assert.equal(bn.weight === null, !i.c.affine);
        assert.deepEqual([...bn.stateDict().keys()], i.c.affine ? ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'] : ['running_mean', 'running_var', 'num_batches_tracked']);
        if (bn.weight !== null && bn.bias !== null) {
          T.noGrad(() => {
            T.copyInPlace(bn.weight!, i.weight);
            T.copyInPlace(bn.bias!, i.bias);
          });
        }
        bn.train();
        const x1 = T.detach(i.x1).setRequiresGrad(true);
        const y1 = bn.forward(x1);
        T.sum(T.mul(y1, i.upstream)).backward();
        const y2 = bn.forward(i.x2);
        bn.eval();
        const y3 = bn.forward(i.x3);
        const errors: [string, number][] = [
          ['y1', maxError(values(y1), e.y1)],
          ['y2', maxError(values(y2), e.y2)],
          ['y3 (eval)', maxError(values(y3), e.y3)],
          ['dx', maxError(values(x1.grad!), e.gx)],
          ['running_mean', maxError(values(bn.runningMean), e.runningMean)],
          ['running_var', maxError(values(bn.runningVar), e.runningVar)],
        ];
        if (bn.weight !== null && bn.bias !== null) errors.push(['dweight', maxError(values(bn.weight.grad!), e.gw!)], ['dbias', maxError(values(bn.bias.grad!), e.gb!)]);
        for (const [name, err] of errors) assert.ok(err <= TOL, `${i.c.name}: ${name} error ${err}`);
        assert.equal(Number(bn.numBatchesTracked.item()), e.tracked);
        assert.equal(e.tracked, 2);
        report.push(`${i.c.name}: worst ${Math.max(...errors.map(([, v]) => v)).toExponential(1)}`);
      } finally {
        bn.dispose();
      }
    });
    t.diagnostic(report.join('; '));
  });
});

test('BatchNorm1d: eval leaves the running stats alone, training steps leak no tensors, bad shapes are refused', () => {
  const bn = new BatchNorm1d(3);
  try {
    T.manualSeed(5);
    const step = (): void => T.tidy(() => void bn.forward(T.randn([4, 3])));
    step();
    const live = T.liveTensorCount();
    step();
    step();
    assert.equal(T.liveTensorCount(), live);
    bn.eval();
    const before = values(bn.runningMean);
    T.tidy(() => void bn.forward(T.randn([4, 3])));
    assert.deepEqual(values(bn.runningMean), before);
    assert.equal(Number(bn.numBatchesTracked.item()), 3);
    T.tidy(() => {
      assert.throws(() => bn.forward(T.randn([4, 2])), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /BatchNorm1d\(3\)/.test(e.message));
      assert.throws(() => bn.forward(T.randn([4, 3, 2])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
    });
  } finally {
    bn.dispose();
  }
});

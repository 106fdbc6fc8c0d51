import { test } from 'node:test';
import * as T from '../../../src/tensor/index.js';
import { compareOptimizers, STEPS } from './harness.js';

test(`SGD matches torch.optim.SGD over ${STEPS} steps`, (t) => {
  T.manualSeed(21);
  const results = compareOptimizers([
    { name: 'plain', optimizer: 'SGD', groups: [{ params: [0, 1, 2], options: { lr: 0.1 } }] },
    { name: 'momentum 0.9', optimizer: 'SGD', groups: [{ params: [0, 1, 2], options: { lr: 0.1, momentum: 0.9 } }] },
    {
      name: 'momentum, dampening 0.1, weight decay 1e-2',
      optimizer: 'SGD',
      groups: [{ params: [0, 1, 2], options: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2 } }],
    },
    { name: 'nesterov, weight decay 1e-3', optimizer: 'SGD', groups: [{ params: [0, 1, 2], options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 } }] },
    { name: 'weight decay without momentum', optimizer: 'SGD', groups: [{ params: [0, 1, 2], options: { lr: 0.1, weightDecay: 0.1 } }] },
    {
      name: 'two groups, lr halved after step 2',
      optimizer: 'SGD',
      groups: [
        { params: [0, 1], options: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 } },
        { params: [2], options: { lr: 0.2, momentum: 0.5, nesterov: true } },
      ],
      lrChange: { afterStep: 2, factor: 0.5 },
    },
  ]);
  t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
});

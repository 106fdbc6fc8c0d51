import { test } from 'node:test';
import * as T from '../../../src/tensor/index.js';
import { compareOptimizers, STEPS } from './harness.js';

test(`Adam and AdamW match torch.optim over ${STEPS} steps`, (t) => {
  T.manualSeed(22);
  const results = compareOptimizers([
    { name: 'Adam lr 1e-2', optimizer: 'Adam', groups: [{ params: [0, 1, 2], options: { lr: 1e-2 } }] },
    { name: 'Adam weight decay 0.1', optimizer: 'Adam', groups: [{ params: [0, 1, 2], options: { lr: 1e-2, weightDecay: 0.1 } }] },
    { name: 'Adam betas (0.8, 0.99), eps 1e-6', optimizer: 'Adam', groups: [{ params: [0, 1, 2], options: { lr: 3e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6 } }] },
    {
      name: 'Adam two groups, lr ×0.1 after step 1',
      optimizer: 'Adam',
      groups: [
        { params: [0], options: { lr: 1e-2 } },
        { params: [1, 2], options: { lr: 5e-2, weightDecay: 1e-3 } },
      ],
      lrChange: { afterStep: 1, factor: 0.1 },
    },
    { name: 'AdamW defaults (wd 1e-2), lr 1e-2', optimizer: 'AdamW', groups: [{ params: [0, 1, 2], options: { lr: 1e-2 } }] },
    { name: 'AdamW weight decay 0.5', optimizer: 'AdamW', groups: [{ params: [0, 1, 2], options: { lr: 2e-2, weightDecay: 0.5 } }] },
    {
      name: 'AdamW two groups',
      optimizer: 'AdamW',
      groups: [
        { params: [0, 2], options: { lr: 1e-2, weightDecay: 0 } },
        { params: [1], options: { lr: 1e-1, beta1: 0.5 } },
      ],
      lrChange: { afterStep: 3, factor: 2 },
    },
  ]);
  t.diagnostic(results.map((r) => `${r.name}: ${r.error.toExponential(1)}`).join('; '));
});

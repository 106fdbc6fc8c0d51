import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { SGD, LrScheduler, constantLr, cosineLr, cosineSchedule, stepLr, stepSchedule, constantSchedule } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { torchJson } from '../torch-ref.js';

/** Schedules are closed forms; torch's schedulers update recursively, so equality is to 1e-12 relative. */
const TOLERANCE = 1e-12;
const EPOCHS = 30;
const BASE = [0.1, 0.025];

function close(actual: readonly number[], expected: readonly number[], what: string): number {
  assert.equal(actual.length, expected.length, what);
  let worst = 0;
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), 1e-300);
    worst = Math.max(worst, e === 0 ? Math.abs(a) : err);
    assert.ok(e === 0 ? Math.abs(a) < 1e-15 : err <= TOLERANCE, `${what}: epoch ${i}: ${a} vs ${e}`);
  });
  return worst;
}

interface Reference {
  step: number[][];
  cosine: number[][];
  cosineMin: number[][];
  simsiam: number[];
  mocoV3: number[];
}

// torch's schedulers over two param groups, read after each epoch's scheduler.step(), and the
// formulas from SimSiam's and MoCo v3's main files (adjust_learning_rate), per iteration.
const REF = `
def run(make):
    ps = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([{'params': [ps[0]], 'lr': 0.1}, {'params': [ps[1]], 'lr': 0.025}], lr=0.1)
    sched = make(opt)
    out = []
    for epoch in range(payload['epochs'] + 1):
        out.append([g['lr'] for g in opt.param_groups])
        opt.step()
        sched.step()
    return out
S = torch.optim.lr_scheduler
def simsiam(init_lr, epoch, epochs):
    return init_lr * 0.5 * (1. + math.cos(math.pi * epoch / epochs))
def mocov3(lr, epoch, epochs, warmup_epochs):
    if epoch < warmup_epochs:
        return lr * epoch / warmup_epochs
    return lr * 0.5 * (1. + math.cos(math.pi * (epoch - warmup_epochs) / (epochs - warmup_epochs)))
iters = payload['iters']
ticks = [e + i / iters for e in range(payload['epochs']) for i in range(iters)]
print(json.dumps({
    'step': run(lambda o: S.StepLR(o, step_size=7, gamma=0.3)),
    'cosine': run(lambda o: S.CosineAnnealingLR(o, T_max=payload['epochs'])),
    'cosineMin': run(lambda o: S.CosineAnnealingLR(o, T_max=payload['epochs'], eta_min=1e-3)),
    'simsiam': [simsiam(0.05, t, payload['epochs']) for t in ticks],
    'mocoV3': [mocov3(0.05, t, payload['epochs'], 5) for t in ticks],
}))
`;

test('schedules equal torch StepLR / CosineAnnealingLR and the SimSiam / MoCo v3 formulas', (t) => {
  const iters = 4;
  const ref = torchJson<Reference>(REF, { epochs: EPOCHS, iters });
  const epochs = Array.from({ length: EPOCHS + 1 }, (_, e) => e);
  const ticks = Array.from({ length: EPOCHS * iters }, (_, k) => Math.floor(k / iters) + (k % iters) / iters);
  const worst: string[] = [];
  BASE.forEach((base, g) => {
    worst.push(`StepLR ${close(epochs.map((e) => stepLr(base, e, { stepSize: 7, gamma: 0.3 })), ref.step.map((r) => r[g]!), 'StepLR').toExponential(1)}`);
    worst.push(`Cosine ${close(epochs.map((e) => cosineLr(base, e, { epochs: EPOCHS })), ref.cosine.map((r) => r[g]!), 'CosineAnnealingLR').toExponential(1)}`);
    close(epochs.map((e) => cosineLr(base, e, { epochs: EPOCHS, minLr: 1e-3 })), ref.cosineMin.map((r) => r[g]!), 'CosineAnnealingLR eta_min');
  });
  worst.push(`SimSiam ${close(ticks.map((e) => cosineLr(0.05, e, { epochs: EPOCHS })), ref.simsiam, 'SimSiam cosine').toExponential(1)}`);
  worst.push(`MoCo v3 warm-up ${close(ticks.map((e) => cosineLr(0.05, e, { epochs: EPOCHS, warmupEpochs: 5 })), ref.mocoV3, 'MoCo v3 warm-up + cosine').toExponential(1)}`);
  assert.deepEqual(epochs.map((e) => constantLr(0.1, e)), epochs.map(() => 0.1));
  t.diagnostic(worst.join('; '));

  // The scheduler drives an optimiser's groups the way torch's do.
  const p = [T.keep(T.zeros([1])), T.keep(T.zeros([1]))];
  const opt = new SGD([{ params: [p[0]!], lr: 0.1 }, { params: [p[1]!], lr: 0.025 }], { lr: 0.1 });
  const sched = new LrScheduler(opt, stepSchedule({ stepSize: 7, gamma: 0.3 }));
  const seen: number[][] = [];
  for (let e = 0; e <= EPOCHS; e++) {
    seen.push(sched.lastLrs);
    sched.step();
  }
  BASE.forEach((_, g) => close(seen.map((r) => r[g]!), ref.step.map((r) => r[g]!), `LrScheduler(StepLR) group ${g}`));
  opt.dispose();
  T.dispose(p);
});

test('LrScheduler: per-iteration epochs, state round trip, warm-up starts from 0', () => {
  const p = T.keep(T.zeros([1]));
  const opt = new SGD([p], { lr: 0.2 });
  const sched = new LrScheduler(opt, cosineSchedule({ epochs: 10, warmupEpochs: 2 }));
  assert.equal(opt.paramGroups[0]!.lr, 0);
  sched.setEpoch(1.5);
  assert.equal(opt.paramGroups[0]!.lr, 0.2 * 1.5 / 2);
  sched.setEpoch(6);
  const saved = sched.stateDict();
  assert.deepEqual(saved, { epoch: 6, 'baseLr.0': 0.2 });
  const lrAt6 = opt.paramGroups[0]!.lr;
  sched.setEpoch(9);
  const fresh = new LrScheduler(opt, cosineSchedule({ epochs: 10, warmupEpochs: 2 }));
  fresh.loadStateDict(saved);
  assert.equal(opt.paramGroups[0]!.lr, lrAt6);
  assert.equal(cosineLr(0.2, 12, { epochs: 10 }), 0, 'after the last epoch the rate stays at minLr');
  // A new scheduler takes the groups' current rates as its base rates.
  const constant = new LrScheduler(opt, constantSchedule());
  constant.step();
  assert.deepEqual(constant.baseLrs, [lrAt6]);
  assert.equal(opt.paramGroups[0]!.lr, lrAt6);
  opt.dispose();
  p.dispose();
});

test('schedules reject bad settings', () => {
  const err = (re: RegExp) => (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message);
  assert.throws(() => stepLr(0.1, 3, { stepSize: 0 }), err(/stepSize must be a positive integer, got 0/));
  assert.throws(() => stepSchedule({ stepSize: 2, gamma: -1 }), err(/gamma must be a positive number/));
  assert.throws(() => cosineSchedule({ epochs: 10, warmupEpochs: 10 }), err(/warmupEpochs must be in \[0, epochs\)/));
  assert.throws(() => cosineLr(0.1, -1, { epochs: 10 }), err(/epoch must be a finite number ≥ 0, got -1/));
  assert.throws(() => cosineLr(0.1, 1, { epochs: 0 }), err(/epochs must be a positive number/));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { GradScaler, SGD } from '../../../src/nn/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

/**
 * torch.cuda.amp.GradScaler's update rule (torch/csrc: _amp_update_scale_), written out: on
 * inf/NaN the scale is multiplied by the backoff factor and the count of clean steps reset;
 * otherwise the count grows and, on reaching the interval, the scale is multiplied by the
 * growth factor (kept only when finite in float32) and the count reset.
 */
function referenceUpdate(s: { scale: number; tracker: number }, foundInf: boolean, growth: number, backoff: number, interval: number): void {
  if (foundInf) {
    s.scale = Math.fround(s.scale * backoff);
    s.tracker = 0;
    return;
  }
  const successful = s.tracker + 1;
  if (successful === interval) {
    const grown = Math.fround(s.scale * growth);
    if (Number.isFinite(grown)) s.scale = grown;
    s.tracker = 0;
  } else s.tracker = successful;
}

/** One iteration on p with loss = Σ p·c: c holding an Infinity makes the gradient non-finite. */
function iteration(scaler: GradScaler, opt: SGD, p: T.Tensor, c: readonly number[]): boolean {
  return T.tidy(() => {
    opt.zeroGrad();
    scaler.scale(T.sum(T.mul(p, T.tensor(c)))).backward();
    const stepped = scaler.step(opt);
    scaler.update();
    return stepped;
  });
}

test("GradScaler's defaults are torch's: 2^16, growth 2, backoff 0.5, interval 2000", () => {
  assert.deepEqual(new GradScaler().stateDict(), { scale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 });
});

test('GradScaler: inf gradient skips the step and halves the scale; clean steps unscale exactly and grow after the interval', () => {
  const p = T.keep(T.tensor([1, 2]));
  p.setRequiresGrad(true);
  const opt = new SGD([p], { lr: 0.5 });
  const scaler = new GradScaler({ initScale: 8, growthInterval: 3 });
  const ref = { scale: 8, tracker: 0 };
  const pattern = [false, true, false, false, false, false, true, true, false, false, false];
  const expected = [1, 2];
  for (const [i, inf] of pattern.entries()) {
    const c = inf ? [Infinity, 1] : [3, 4];
    const stepped = iteration(scaler, opt, p, c);
    assert.equal(stepped, !inf, `iteration ${i}`);
    if (!inf) {
      expected[0]! -= 0.5 * 3; // the unscaled gradient is c, whatever the scale
      expected[1]! -= 0.5 * 4;
    }
    assert.deepEqual(Array.from(p.data() as Float32Array), expected, `parameters after iteration ${i}`);
    referenceUpdate(ref, inf, 2, 0.5, 3);
    assert.deepEqual([scaler.getScale(), scaler.stateDict().growthTracker], [ref.scale, ref.tracker], `scale after iteration ${i}`);
  }
  // hand-checked: 8 → 4 (inf) → 8 (3 clean) → 4 → 2 (two infs) → 4 (3 clean)
  assert.deepEqual(scaler.getScale(), 4);
  assert.equal(scaler.stateDict().growthTracker, 0);
  opt.dispose();
  p.dispose();
});

test('GradScaler: NaN gradients count as non-finite; a growth past float32 is not taken', () => {
  const p = T.keep(T.tensor([1]));
  p.setRequiresGrad(true);
  const opt = new SGD([p], { lr: 1 });
  const scaler = new GradScaler({ initScale: 2 ** 127, growthInterval: 1 });
  assert.equal(iteration(scaler, opt, p, [NaN]), false);
  assert.equal(scaler.getScale(), 2 ** 126);
  assert.equal(iteration(scaler, opt, p, [1]), true);
  assert.equal(scaler.getScale(), 2 ** 127);
  assert.equal(iteration(scaler, opt, p, [1]), true);
  assert.equal(scaler.getScale(), 2 ** 127, 'growth to 2^128 overflows float32 and is not taken');
  opt.dispose();
  p.dispose();
});

test('GradScaler: disabled is a pass-through; misuse and bad options are refused', () => {
  const p = T.keep(T.tensor([1]));
  p.setRequiresGrad(true);
  const opt = new SGD([p], { lr: 1 });
  const off = new GradScaler({ enabled: false });
  assert.equal(iteration(off, opt, p, [2]), true);
  assert.deepEqual(Array.from(p.data() as Float32Array), [-1]);
  assert.equal(off.getScale(), 1);
  const on = new GradScaler();
  assert.throws(() => on.update(), (e) => isSpotdiffError(e) && /step\(\) first/.test(e.message));
  assert.throws(() => new GradScaler({ backoffFactor: 1 }), isSpotdiffError);
  assert.throws(() => new GradScaler({ initScale: 2 ** 200 }), isSpotdiffError);
  assert.throws(() => new GradScaler({ growthInterval: 1.5 }), isSpotdiffError);
  const resumed = new GradScaler();
  resumed.loadStateDict({ scale: 1024, growthTracker: 7 });
  assert.deepEqual([resumed.getScale(), resumed.stateDict().growthTracker], [1024, 7]);
  opt.dispose();
  p.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { contrastiveLoss, crossInstanceLoss, crossInstancePartners, finetuneLossParts, isCollapsedContrastive, negativeLoss } from '../../src/finetune/losses.js';
import { drawSources, makeViews } from '../../src/finetune/views.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';

// The loss terms on hand-made vectors, whose values follow from the definitions by hand.

const rows = (...r: number[][]): T.Tensor => T.tensor(Float32Array.from(r.flat()), [r.length, r[0]!.length]);
const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('cross-instance term: 0 for identical embeddings, 1 for orthogonal, 2 for opposite; scale-free', () => {
  T.tidy(() => {
    const a = rows([1, 2, 3], [0, -1, 4]);
    close(crossInstanceLoss(a, a, [1, 0]).item(), 1 - (1 * 0 - 2 + 12) / (Math.sqrt(14) * Math.sqrt(17)));
    const same = rows([1, 2, 3], [2, 4, 6]); // two images with the same direction
    close(crossInstanceLoss(same, same, [1, 0]).item(), 0);
    close(crossInstanceLoss(rows([1, 0], [0, 1]), rows([1, 0], [0, 1]), [1, 0]).item(), 1);
    close(crossInstanceLoss(rows([1, 0], [-3, 0]), rows([5, 0], [-1, 0]), [1, 0]).item(), 2);
    // a_b is compared with b_{partner[b]}: a_0 with b_2 (same direction), a_1 with b_0 (orthogonal), a_2 with b_1 (45°).
    close(crossInstanceLoss(rows([1, 0], [1, 0], [0, 1]), rows([0, 1], [5, 5], [1, 0]), [2, 0, 1]).item(), (0 + 1 + (1 - Math.SQRT1_2)) / 3);
  });
});

test('cross-instance partners always hold another image; none when the batch shows one image', () => {
  assert.equal(crossInstancePartners([0, 0, 0]), null);
  assert.deepEqual(crossInstancePartners([0, 1, 0, 1]), [1, 2, 3, 0]);
  assert.deepEqual(crossInstancePartners([0, 0, 1]), [2, 2, 0]);
  const rng = new Random(5);
  for (const k of [2, 3, 5, 10]) {
    const sources = drawSources(rng, k, 8);
    const partners = crossInstancePartners(sources)!;
    partners.forEach((p, b) => assert.notEqual(sources[p], sources[b]));
    // every shot appears ⌊8/k⌋ or ⌈8/k⌉ times
    for (let s = 0; s < k; s++) {
      const n = sources.filter((v) => v === s).length;
      assert.ok(n >= Math.floor(8 / k) && n <= Math.ceil(8 / k), `shot ${s} appears ${n} times for k = ${k}`);
    }
  }
  T.tidy(() => assert.throws(() => crossInstanceLoss(rows([1, 0], [0, 1]), rows([1, 0], [0, 1]), [0, 0]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT')));
});

test('contrastive term is NT-Xent: log(1 + 2e^{-1/τ}) for two orthogonal images with identical views', () => {
  T.tidy(() => {
    const tau = 0.2;
    const z = rows([3, 0], [0, 0.5]);
    close(contrastiveLoss(z, z, tau).item(), Math.log(1 + 2 * Math.exp(-1 / tau)), 1e-5);
    // views pointing away from each other and towards the other image: the loss is large
    // all embeddings equal (collapse): log(2B − 1), whatever τ
    const collapsed = contrastiveLoss(rows([1, 1], [2, 2], [1, 1]), rows([3, 3], [1, 1], [1, 1]), tau).item();
    close(collapsed, Math.log(5), 1e-5);
    assert.ok(isCollapsedContrastive(collapsed, 3) && !isCollapsedContrastive(contrastiveLoss(z, z, tau).item(), 2));
    const bad = contrastiveLoss(rows([1, 0], [0, 1]), rows([0, 1], [1, 0]), tau).item();
    close(bad, Math.log(2 + Math.exp(1 / tau)), 1e-4); // each anchor: positive at cos 0, one negative at cos 1, one at 0
  });
});

test('negative term: log 2 when the anomaly lies on the positive, log(1 + e^{-2/τ}) when opposite', () => {
  T.tidy(() => {
    const tau = 0.2;
    const z = rows([1, 0]);
    close(negativeLoss(z, z, rows([2, 0]), tau).item(), Math.log(2), 1e-6);
    close(negativeLoss(z, z, rows([-1, 0]), tau).item(), Math.log(1 + Math.exp(-2 / tau)), 1e-6);
    // two anomalies, one orthogonal and one on the positive: −log(e^{1/τ} / (e^{1/τ} + e^0 + e^{1/τ}))
    close(negativeLoss(z, z, rows([0, 1], [1, 0]), tau).item(), -Math.log(Math.exp(1 / tau) / (2 * Math.exp(1 / tau) + 1)), 1e-5);
  });
});

test('the total is contrastive + weights × terms; absent terms are null and add nothing', () => {
  T.tidy(() => {
    const z1 = rows([1, 0.5], [0.2, 1], [-1, 0.3]);
    const z2 = rows([0.9, 0.4], [0.1, 1.2], [-1, 0]);
    const an = rows([1, 1], [0, -1], [0.5, 0.5]);
    const w = { crossInstance: 0.7, negative: 0.3, temperature: 0.5 };
    const all = finetuneLossParts(z1, z2, an, [1, 2, 0], w);
    close(all.total.item(), all.contrastive + 0.7 * all.cross! + 0.3 * all.negative!, 1e-5);
    close(all.contrastive, contrastiveLoss(z1, z2, 0.5).item());
    close(all.cross!, crossInstanceLoss(z1, z2, [1, 2, 0]).item());
    close(all.negative!, negativeLoss(z1, z2, an, 0.5).item());
    const only = finetuneLossParts(z1, z2, null, null, w);
    assert.equal(only.cross, null);
    assert.equal(only.negative, null);
    close(only.total.item(), only.contrastive);
  });
});

test('views: seeded, shaped [B, 3, H, W], anomalies differ from the first view in a patch only, nothing leaks', () => {
  T.manualSeed(3);
  const shots = T.keep(T.rand([2, 3, 32, 32]));
  try {
    const before = T.liveTensorCount();
    const a = T.tidy(() => {
      const v = makeViews(shots, new Random(9), { batch: 4, views: 'strong', negatives: 'cutpaste' });
      const b = makeViews(shots, new Random(9), { batch: 4, views: 'strong', negatives: 'cutpaste' });
      assert.deepEqual(v.first.shape, [4, 3, 32, 32]);
      assert.deepEqual(v.anomalies!.shape, [4, 3, 32, 32]);
      assert.deepEqual(v.first.data(), b.first.data(), 'same seed, same views');
      assert.deepEqual(v.anomalies!.data(), b.anomalies!.data());
      assert.notDeepEqual(v.first.data(), v.second.data());
      assert.equal(new Set(v.sources).size, 2);
      const changed = T.sum(T.toDtype(T.ne(v.first, v.anomalies!), 'float32')).item() / v.first.size;
      assert.ok(changed > 0 && changed < 0.3, `share of pixels changed by CutPaste: ${changed}`);
      const none = makeViews(shots, new Random(9), { batch: 2, views: 'weak', negatives: 'none' });
      assert.equal(none.anomalies, null);
      return v.sources;
    });
    assert.equal(a.length, 4);
    assert.equal(T.liveTensorCount(), before);
    assert.throws(() => makeViews(shots, new Random(1), { batch: 1, views: 'weak', negatives: 'none' }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /≥ 2/.test(e.message));
  } finally {
    shots.dispose();
  }
});

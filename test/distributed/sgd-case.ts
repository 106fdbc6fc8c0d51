import * as T from '../../src/tensor/index.js';
import { Linear, ReLU, SGD, Sequential, crossEntropy } from '../../src/nn/index.js';
import { Random } from '../../src/util/random.js';

// One small classifier trained a few SGD steps, shared by the data-parallel workers and the
// single-process reference in the test. No BatchNorm: its batch statistics would differ per
// rank (torch DDP has the same difference unless SyncBatchNorm is used).
export const GLOBAL_BATCH = 8;
export const STEPS = 2;
const FEATURES = 8;
const CLASSES = 4;

export function buildCase(): { model: Sequential; optimizer: SGD } {
  T.manualSeed(7);
  const model = new Sequential(new Linear(FEATURES, 16), new ReLU(), new Linear(16, CLASSES));
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  return { model, optimizer };
}

/** Rows [from, to) of step `step`'s global batch: inputs and class labels. */
export function batchRows(step: number, from: number, to: number): { x: T.Tensor; y: T.Tensor } {
  const rng = Random.derive(11, 'dist-sgd-case', step);
  const x = Float32Array.from({ length: GLOBAL_BATCH * FEATURES }, () => rng.float() * 2 - 1);
  const y = Int32Array.from({ length: GLOBAL_BATCH }, () => Math.floor(rng.float() * CLASSES));
  return {
    x: T.tensor(x.subarray(from * FEATURES, to * FEATURES), [to - from, FEATURES]),
    y: T.tensor(y.subarray(from, to), [to - from], { dtype: 'int64' }),
  };
}

/** One step: forward, mean loss, backward, `reduce` (gradient averaging or nothing), update. */
export function trainStep(model: Sequential, optimizer: SGD, x: T.Tensor, y: T.Tensor, reduce: () => void): void {
  T.tidy(() => {
    model.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    reduce();
    optimizer.step();
  });
}

export function parameterValues(model: Sequential): number[][] {
  return model.parameters().map((p) => Array.from(p.toFloat32()));
}

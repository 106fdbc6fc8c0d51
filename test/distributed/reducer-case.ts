import * as T from '../../src/tensor/index.js';
import { Linear, ReLU, SGD, Sequential, crossEntropy } from '../../src/nn/index.js';
import { GradientReducer, averageGradients, type ProcessGroup } from '../../src/distributed/index.js';
import { Random } from '../../src/util/random.js';

// A small classifier and a side head trained a few SGD steps with the overlapped gradient
// reducer, each step's result checked against the blocking averageGradients on the same local
// gradients. Shared by test/distributed/worker.ts (the ranks) and the one-process reference.
export const GLOBAL_BATCH = 12; // splits evenly across 2 and 3 ranks
const FEATURES = 8;
const CLASSES = 4;

export interface ReducerCaseOptions {
  steps: number;
  bucketBytes: number;
  /** The first bucket's cap (default: the reducer's, DDP's 1 MiB). */
  firstBucketBytes?: number;
  withoutGradient: 'zeros' | 'skip';
  /** With a side head (its parameters last), used at a step by the ranks this says. */
  sideUsed?: (step: number, rank: number) => boolean;
  /** Steps that run backward twice before finish(). */
  backwardTwice?: readonly number[];
}

export interface ReducerCaseRun {
  params: number[][];
  /** Per step: max |reducer − blocking averageGradients| over the gradients (null: finish threw). */
  vsBlocking: (number | null)[];
  /** Per step: whether the side head's weight had a gradient after finish. */
  sideHasGrad: boolean[];
  /** Per step: buckets whose all_reduce had started when backward returned. */
  launchedBeforeFinish: number[];
  buckets: number;
  errors: { step: number; code: string; message: string }[];
  /** The error code of finish() after dispose(). */
  finishAfterDispose: string | null;
}

function rowsOf(step: number, from: number, to: number): { x: T.Tensor; y: T.Tensor } {
  const rng = Random.derive(13, 'dist-reducer-case', step);
  const x = Float32Array.from({ length: GLOBAL_BATCH * FEATURES }, () => rng.float() * 2 - 1);
  const y = Int32Array.from({ length: GLOBAL_BATCH }, () => Math.floor(rng.float() * CLASSES));
  return { x: T.tensor(x.subarray(from * FEATURES, to * FEATURES), [to - from, FEATURES]), y: T.tensor(y.subarray(from, to), [to - from], { dtype: 'int64' }) };
}

const values = (t: T.Tensor | null): number[] | null => (t === null ? null : Array.from(t.toFloat32()));

function maxDiff(a: (number[] | null)[], b: (number[] | null)[]): number {
  let m = 0;
  a.forEach((row, i) => {
    const other = b[i];
    if ((row === null) !== (other === null)) m = Infinity;
    row?.forEach((v, j) => (m = Math.max(m, Math.abs(v - other![j]!))));
  });
  return m;
}

/** The run on `group` (null: one process on the whole global batch, no reduction). */
export function runReducerCase(group: ProcessGroup | null, o: ReducerCaseOptions): ReducerCaseRun {
  const rank = group?.rank ?? 0;
  const world = group?.worldSize ?? 1;
  T.manualSeed(7);
  const model = new Sequential(new Linear(FEATURES, 16), new ReLU(), new Linear(16, CLASSES));
  const side = o.sideUsed !== undefined ? new Linear(FEATURES, CLASSES) : null;
  const params = [...model.parameters(), ...(side?.parameters() ?? [])];
  const optimizer = new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  const reducer = group === null ? null : new GradientReducer(group, params, { bucketBytes: o.bucketBytes, withoutGradient: o.withoutGradient, ...(o.firstBucketBytes !== undefined ? { firstBucketBytes: o.firstBucketBytes } : {}) });
  const run: ReducerCaseRun = { params: [], vsBlocking: [], sideHasGrad: [], launchedBeforeFinish: [], buckets: reducer?.stats().buckets ?? 0, errors: [], finishAfterDispose: null };
  const share = GLOBAL_BATCH / world;
  for (let step = 0; step < o.steps; step++) {
    T.tidy(() => {
      optimizer.zeroGrad();
      const { x, y } = rowsOf(step, rank * share, (rank + 1) * share);
      const backwards = o.backwardTwice?.includes(step) ? 2 : 1;
      for (let b = 0; b < backwards; b++) {
        let loss = crossEntropy(model.forward(x), y);
        if (side !== null && o.sideUsed!(step, rank)) loss = T.add(loss, crossEntropy(side.forward(x), y));
        loss.backward();
      }
      if (reducer !== null) reduceAndCompare(reducer, group!, params, o, step, run);
      run.sideHasGrad.push(side !== null && side.weight.grad !== null);
      optimizer.step();
    });
  }
  reducer?.dispose();
  try {
    reducer?.finish();
  } catch (e) {
    run.finishAfterDispose = (e as { code?: string }).code ?? '';
  }
  run.params = model.parameters().map((p) => Array.from(p.toFloat32()));
  return run;
}

/** finish(), then the blocking averageGradients on the same local gradients for comparison. */
function reduceAndCompare(reducer: GradientReducer, group: ProcessGroup, params: readonly T.Tensor[], o: ReducerCaseOptions, step: number, run: ReducerCaseRun): void {
  const local = params.map((p) => (p.grad === null ? null : T.clone(p.grad)));
  run.launchedBeforeFinish.push(reducer.stats().launchedNow);
  try {
    reducer.finish();
  } catch (e) {
    const err = e as { code?: string; message: string };
    run.errors.push({ step, code: err.code ?? '', message: err.message });
    run.vsBlocking.push(null);
    for (const p of params) p.setGrad(null); // no step on unaveraged gradients: the ranks stay equal
    return;
  }
  const reduced = params.map((p) => (p.grad === null ? null : T.clone(p.grad)));
  params.forEach((p, i) => p.setGrad(local[i]!));
  averageGradients(group, params, { bucketBytes: o.bucketBytes, withoutGradient: o.withoutGradient });
  run.vsBlocking.push(maxDiff(reduced.map(values), params.map((p) => values(p.grad))));
  // The optimiser steps with the reducer's gradients.
  params.forEach((p, i) => p.setGrad(reduced[i]!));
}

import * as T from '../../src/tensor/index.js';
import { BatchNorm1d, BatchNorm2d, Module, Sequential } from '../../src/nn/index.js';
import { SyncBatchNorm, averageGradients, convertSyncBatchNorm, type ProcessGroup } from '../../src/distributed/index.js';

// Batch norm over a global batch split into rank slices of (possibly) different sizes: every
// rank converts a BatchNorm to SyncBatchNorm and runs its rows; the one-process reference runs
// plain BatchNorm on all rows. Two training steps (so the running statistics accumulate), then
// the second step's output and gradients. Each rank's loss is Σ y·g over its rows and DDP
// averages the gradients, so the objective is (1/W)·Σ y·g over the global batch: the reference's.

/** BatchNorm2d, BatchNorm1d, or BatchNorm1d without weight and bias (SimSiam's last projector layer). */
export type BnKind = '2d' | '1d' | '1d-no-affine';
export const CHANNELS = 3;
const STEPS = 2;

export interface BnRun {
  /** The last step's output rows, in the order of the rows given. */
  y: number[];
  /** The last step's gradient of the global loss with respect to these rows. */
  gradX: number[];
  /** The global loss's weight and bias gradients (ranks: averaged over ranks, as DDP). */
  gradWeight: number[];
  gradBias: number[];
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
  /** Then in eval mode (running statistics) on other rows. */
  evalY: number[];
}

function shapeOf(kind: BnKind, rows: number): number[] {
  return kind === '2d' ? [rows, CHANNELS, 2, 3] : [rows, CHANNELS];
}

/** Rows [from, from + n) of step `step`'s global input or upstream gradient: channels off-centre and of different scales. */
function rowsOf(kind: BnKind, what: 'x' | 'g', step: number, from: number, n: number): T.Tensor {
  const shape = shapeOf(kind, n);
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  const perChannel = perRow / CHANNELS;
  const values = new Float32Array(n * perRow);
  values.forEach((_, k) => {
    const i = from + Math.floor(k / perRow);
    const c = Math.floor((k % perRow) / perChannel);
    const j = k % perChannel;
    values[k] = what === 'x' ? Math.sin(1.3 * i + 0.7 * c + 0.37 * j + step) * (1 + c) + 2 * c - 1 : Math.cos(0.9 * i - 0.4 * c + 0.23 * j + 2 * step);
  });
  return T.tensor(values, shape);
}

function makeBatchNorm(kind: BnKind): BatchNorm1d | BatchNorm2d {
  if (kind === '1d-no-affine') return new BatchNorm1d(CHANNELS, { momentum: 0.3, affine: false });
  const bn = kind === '2d' ? new BatchNorm2d(CHANNELS, 1e-5, 0.3) : new BatchNorm1d(CHANNELS, { momentum: 0.3 });
  T.noGrad(() => {
    T.copyInPlace(bn.weight!, T.tensor([1.5, 0.5, -0.75], [CHANNELS]));
    T.copyInPlace(bn.bias!, T.tensor([0.1, -0.2, 0.3], [CHANNELS]));
  });
  return bn;
}

const values = (t: T.Tensor): number[] => Array.from(t.toFloat32());

/** Steps of the model's one BatchNorm on rows [from, from + n) with the loss scaled by `lossScale`; `afterBackward` may average. */
function steps(model: Module, kind: BnKind, from: number, n: number, lossScale: number, afterBackward: () => void): BnRun {
  let last: Pick<BnRun, 'y' | 'gradX' | 'gradWeight' | 'gradBias'> | null = null;
  const bn = [...model.children()][0]![1] as BatchNorm2d | SyncBatchNorm;
  for (let step = 0; step < STEPS; step++) {
    model.zeroGrad();
    last = T.tidy(() => {
      const x = rowsOf(kind, 'x', step, from, n);
      x.setRequiresGrad(true);
      const y = model.forward(x);
      T.mul(T.sum(T.mul(y, rowsOf(kind, 'g', step, from, n))), lossScale).backward();
      afterBackward();
      const grad = (p: T.Tensor | null): number[] => (p === null ? [] : values(p.grad!));
      return { y: values(y), gradX: values(x.grad!), gradWeight: grad(bn.weight), gradBias: grad(bn.bias) };
    });
  }
  model.eval();
  const evalY = T.tidy(() => values(model.forward(rowsOf(kind, 'x', STEPS, from, n))));
  return { ...last!, runningMean: values(bn.runningMean), runningVar: values(bn.runningVar), numBatchesTracked: Number((bn.numBatchesTracked.data() as BigInt64Array)[0]), evalY };
}

/** One process's BatchNorm on the whole global batch of `total` rows, the loss of `world` ranks. */
export function referenceRun(kind: BnKind, total: number, world: number): BnRun {
  return steps(new Sequential(makeBatchNorm(kind)), kind, 0, total, 1 / world, () => {});
}

/** This rank's slice (sizes[rank] rows after those of the ranks before it) through SyncBatchNorm. */
export function syncRun(kind: BnKind, group: ProcessGroup, sizes: readonly number[]): BnRun & { converted: boolean } {
  const model = convertSyncBatchNorm(new Sequential(makeBatchNorm(kind)), group);
  const from = sizes.slice(0, group.rank).reduce((a, b) => a + b, 0);
  const run = steps(model, kind, from, sizes[group.rank]!, 1, () => averageGradients(group, model));
  // Each rank's input gradient holds every rank's loss (the all_reduce in backward); DDP's
  // averaging divides what it flows into by the world size, as done here.
  return { ...run, gradX: run.gradX.map((v) => v / group.worldSize), converted: [...model.children()][0]![1] instanceof SyncBatchNorm };
}

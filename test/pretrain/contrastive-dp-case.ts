import * as T from '../../src/tensor/index.js';
import { SGD } from '../../src/nn/index.js';
import { Random } from '../../src/util/random.js';
import { averageGradients, broadcastState, type ProcessGroup } from '../../src/distributed/index.js';
import { createPretrainMethod, readLoss, type Moco } from '../../src/pretrain/index.js';
import type { PretrainMethod } from '../../src/pretrain/method.js';

// MoCo v2 and SimCLR trained a few steps on fixed views of one global batch, shared by the
// data-parallel workers (each on its rows) and the one-process reference (all rows). The
// network is ResNet-18 in eval mode: its BatchNorm layers then apply their running statistics,
// a fixed per-channel affine map, so every image's embedding depends on that image alone (as
// in a network without BN) while the gradients still flow through every layer.
export const CONTRASTIVE_BATCH = 8;
export const CONTRASTIVE_STEPS = 10;
const SIZE = 16;
export const COMPARED = ['encoder.backbone.conv1.weight', 'encoder.head.0.weight', 'encoder.head.2.weight'];

export interface ContrastiveRun {
  /** Each step's loss of the global batch (MoCo: the ranks' mean; SimCLR: every rank's own). */
  losses: number[];
  /** MoCo's queue [dim, K] and queue_ptr after the steps (empty for SimCLR). */
  queue: number[];
  queuePtr: number;
  params: Record<string, number[]>;
}

function build(method: 'moco' | 'simclr'): PretrainMethod {
  T.manualSeed(21);
  // A queue of 32 keys and batches of 8: it wraps around after 4 steps.
  return createPretrainMethod({ method, arch: 'resnet18', viewSize: SIZE, dim: 16, queueSize: 32, keyMomentum: 0.9, spd: { eta: 0 } });
}

/** Rows [from, from + n) of step `step`'s two views of the global batch. */
function views(step: number, from: number, n: number): { first: T.Tensor; second: T.Tensor } {
  return T.tidy(() => {
    T.manualSeed(1000 + step);
    const first = T.randn([CONTRASTIVE_BATCH, 3, SIZE, SIZE]);
    const second = T.add(first, T.mul(T.randn([CONTRASTIVE_BATCH, 3, SIZE, SIZE]), 0.5));
    return { first: T.contiguous(T.narrow(first, 0, from, n)), second: T.contiguous(T.narrow(second, 0, from, n)) };
  });
}

/** The steps on this rank's rows (`group` null: one process on the global batch). */
export function runContrastive(method: 'moco' | 'simclr', group: ProcessGroup | null): ContrastiveRun {
  const m = build(method);
  const world = group?.worldSize ?? 1;
  const rank = group?.rank ?? 0;
  const n = CONTRASTIVE_BATCH / world;
  const params = m.parameterGroups().flatMap((g) => g.params);
  const optimizer = new SGD(params, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const losses: number[] = [];
  try {
    if (group !== null) {
      broadcastState(group, m.module, 0);
      m.useGroup?.(group);
    }
    m.module.eval();
    for (let step = 0; step < CONTRASTIVE_STEPS; step++) {
      const v = views(step, rank * n, n);
      const loss = T.tidy(() => {
        optimizer.zeroGrad();
        const l = m.loss({ first: v.first, second: v.second, labels: null, spd: null, shuffle: new Random(step) });
        l.total.backward();
        if (group !== null) averageGradients(group, params, { withoutGradient: 'skip' });
        optimizer.step();
        m.afterStep();
        return readLoss(l).base;
      });
      T.dispose(v);
      losses.push(method === 'moco' && group !== null ? meanOverRanks(group, loss) : loss);
    }
    const state = m.module.stateDict();
    const moco = method === 'moco' ? (m as Moco).module : null;
    return {
      losses,
      queue: moco !== null ? Array.from(moco.queue.toFloat32()) : [],
      queuePtr: moco !== null ? Number(moco.queuePtr.item()) : 0,
      params: Object.fromEntries(COMPARED.map((name) => [name, Array.from(state.get(name)!.toFloat32())])),
    };
  } finally {
    optimizer.dispose();
    m.module.dispose();
  }
}

function meanOverRanks(group: ProcessGroup, v: number): number {
  return T.tidy(() => {
    const t = T.tensor([v], [1], { dtype: 'float64' });
    group.allReduce([t]);
    return (t.data() as Float64Array)[0]! / group.worldSize;
  });
}

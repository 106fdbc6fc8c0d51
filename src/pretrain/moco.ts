import * as T from '../tensor/index.js';
import { Module, infoNce, type Linear } from '../nn/index.js';
import { ResNet, type ResNetArch } from '../models/resnet.js';
import { Random } from '../util/random.js';
import type { ProcessGroup } from '../distributed/process-group.js';
import { gatherRows, shuffleRows, unshuffleRows } from '../distributed/batch-shuffle.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainLoss, PretrainMethod, PretrainViews, SpdConfig } from './method.js';
import { Encoder, featureDim, zeroInitResidual } from './encoder.js';
import { FrozenCopy } from './frozen-copy.js';
import { mlpHead, spdClassifier } from './heads.js';
import { composeLoss, encoderSpdNetworks, secondView, spdTerm } from './spd-term.js';
import { makePretrainViews } from './views.js';

export interface MocoConfig {
  arch: ResNetArch;
  spd: SpdConfig;
  viewSize: number;
  /** Key/query size (128). */
  dim: number;
  /** Keys in the queue, K (65,536). */
  queueSize: number;
  /** Key-encoder momentum m (0.999). */
  momentum: number;
  /** InfoNCE temperature τ (0.2). */
  temperature: number;
  zeroInitResidual: boolean;
}

function buildEncoder(c: MocoConfig): Encoder {
  const backbone = new ResNet(c.arch);
  if (c.zeroInitResidual) zeroInitResidual(backbone);
  return new Encoder(backbone, mlpHead(featureDim(backbone), c.dim));
}

/**
 * MoCo's state: "encoder" (query: backbone + MLP head), "key_encoder" (its momentum copy, as
 * buffers), the queue of keys [dim, K] (L2-normalised columns) and queue_ptr (where the next
 * batch of keys goes), and "spd_head" for SPD's cross-entropy form.
 */
export class MocoNetwork extends Module {
  readonly encoder: Encoder;
  readonly keyEncoder: FrozenCopy<Encoder>;
  readonly queue: T.Tensor;
  readonly queuePtr: T.Tensor;
  readonly spdHead: Linear | null;
  constructor(c: MocoConfig) {
    super();
    this.encoder = this.registerModule('encoder', buildEncoder(c));
    this.keyEncoder = this.registerModule('key_encoder', new FrozenCopy(buildEncoder(c)));
    this.copyQueryToKey();
    // Random unit keys to start with, as the official code fills its queue.
    this.queue = this.registerBuffer('queue', T.tidy(() => T.normalize(T.randn([c.dim, c.queueSize]), 2, 0)));
    this.queuePtr = this.registerBuffer('queue_ptr', T.zeros([1], { dtype: 'int64' }));
    this.spdHead = c.spd.eta > 0 && c.spd.objective === 'cross-entropy' ? this.registerModule('spd_head', spdClassifier(featureDim(this.encoder.backbone))) : null;
  }
  /** The query embedding (the head's output, not yet normalised). */
  forward(x: T.Tensor): T.Tensor {
    return this.encoder.forward(x);
  }

  /**
   * Makes the key encoder a copy of the query encoder (official: param_k.copy_(param_q)),
   * parameters and BN running stats alike. In place: the FrozenCopy's buffers stay the same
   * tensors.
   */
  copyQueryToKey(): void {
    this.keyEncoder.inner.loadStateDict(this.encoder.stateDict());
  }
}

/**
 * MoCo v2 (Chen, Fan, Girshick & He, 2020) as its official code trains it: queries q from the
 * first view through the query encoder, keys k from the second view through the momentum key
 * encoder (no gradient), both L2-normalised; InfoNCE over [q·k | q·queue] / τ with the
 * positive in column 0. With SPD, the regulariser's embeddings are the query encoder's head
 * outputs.
 *
 * Order of work within a step. The official forward first updates the key encoder with the
 * current query weights, then computes the keys, the loss, and enqueues the keys. Here
 * loss() computes the keys with the key encoder as it is, and afterStep() (after the
 * optimiser) does the momentum update and then enqueues this step's keys. The key encoder that
 * makes step t's keys is the same in both orders (updated with the query weights after step
 * t − 1; at the first step both are the query encoder), and the queue a step sees is the same.
 *
 * Shuffling BN: the official code shuffles the key batch across GPUs so that BatchNorm's
 * batch statistics cannot leak which key belongs to which query. In one process shuffling
 * within the batch changes nothing (BN statistics are permutation invariant), so the key
 * encoder sees the batch as it is; with small batches the leak the shuffle prevents can make
 * the pretext task easier than it should be. Data-parallel (useGroup), as the official DDP code:
 * the key batch is gathered, permuted by rank 0's draw (broadcast), each rank encodes its slice
 * of the permuted batch and the keys go back to their ranks; after the step every rank enqueues
 * the global batch's keys in rank order, so the queues stay identical. Each rank's loss is the
 * mean over its queries; the trainer's gradient averaging makes it the global batch's mean.
 */
export class Moco implements PretrainMethod {
  readonly name = 'moco' as const;
  readonly arch: ResNetArch;
  readonly module: MocoNetwork;
  /** The current step's normalised keys, enqueued by afterStep. */
  #pendingKeys: T.Tensor | null = null;
  #group: ProcessGroup | null = null;

  constructor(readonly config: MocoConfig) {
    this.arch = config.arch;
    this.module = new MocoNetwork(config);
  }

  get backbone(): ResNet {
    return this.module.encoder.backbone;
  }

  /**
   * --init replaced the query backbone's weights after the key encoder was copied from it at
   * construction; MoCo starts with key = query, so copy again (the heads are unchanged and
   * copy as they are).
   */
  backboneLoaded(): void {
    this.module.copyQueryToKey();
  }

  parameterGroups(): { params: T.Tensor[]; fixedLr: boolean }[] {
    const m = this.module;
    return [{ params: [...m.encoder.trainableParameters(), ...(m.spdHead?.parameters() ?? [])], fixedLr: false }];
  }

  makeViews(images: T.Tensor, _labels: T.Tensor | null, rng: Random): PretrainViews {
    const views = makePretrainViews(this.name, { kind: 'two-strong', size: this.config.viewSize, spd: this.config.spd }, images, null, rng);
    // Drawn after the views, so that they are the same with and without ranks.
    return this.#group === null ? views : { ...views, shuffle: new Random(rng.uint32()) };
  }

  useGroup(group: ProcessGroup): void {
    this.#group = group.worldSize > 1 ? group : null;
  }

  loss(views: PretrainViews): PretrainLoss {
    const second = secondView(this.name, views);
    const n = (views.first.shape[0] as number) * (this.#group?.worldSize ?? 1);
    if (n > this.config.queueSize) {
      throw new SpotdiffError('ERR_BAD_INPUT', `moco.loss: a batch of ${n} does not fit a queue of ${this.config.queueSize} keys (queueSize must be at least the batch size)`);
    }
    const m = this.module;
    return T.tidy(() => {
      const q = T.normalize(m.encoder.forward(views.first), 2, 1);
      const k = this.#keys(second, views.shuffle);
      // q and k are unit vectors and the queue holds unit keys: no second normalisation.
      const base = infoNce(q, k, { negatives: T.transpose(m.queue, 0, 1), temperature: this.config.temperature, normalize: false });
      const spd = spdTerm(this.name, views, this.config.spd, encoderSpdNetworks(m.encoder, m.spdHead));
      const result = composeLoss(base, spd, this.config.spd.eta);
      // A loss computed twice before a step enqueues only the last keys.
      this.#pendingKeys?.dispose();
      this.#pendingKeys = T.keep(k);
      return result;
    });
  }

  // The normalised keys of this rank's second views; across ranks through shuffling BN.
  #keys(second: T.Tensor, shuffle: Random | undefined): T.Tensor {
    const m = this.module;
    const g = this.#group;
    if (g === null) return T.normalize(m.keyEncoder.forward(second), 2, 1);
    if (shuffle === undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'moco.loss: data-parallel views need their shuffle stream (made by makeViews)');
    const { rows, restore } = shuffleRows(g, second, shuffle);
    return unshuffleRows(g, T.normalize(m.keyEncoder.forward(rows), 2, 1), restore);
  }

  /** The momentum update of the key encoder, then this step's keys (all ranks') into the queue. */
  afterStep(): void {
    const m = this.module;
    const mom = this.config.momentum;
    T.noGrad(() =>
      T.tidy(() => {
        const query = m.encoder.parameters();
        const key = m.keyEncoder.weights();
        // θ_k ← m·θ_k + (1 − m)·θ_q
        key.forEach((pk, i) => {
          T.mulInPlace(pk, mom);
          T.addInPlace(pk, query[i]!, 1 - mom);
        });
        const keys = this.#pendingKeys;
        if (keys === null) return;
        this.#pendingKeys = null;
        try {
          this.#enqueue(this.#group === null ? keys : gatherRows(this.#group, keys));
        } finally {
          keys.dispose();
        }
      }),
    );
  }

  // Writes keys [N, dim] as columns from queue_ptr on, wrapping around at K.
  #enqueue(keys: T.Tensor): void {
    const m = this.module;
    const size = this.config.queueSize;
    const n = keys.shape[0] as number;
    let ptr = Number((m.queuePtr.data() as BigInt64Array)[0]);
    let done = 0;
    while (done < n) {
      const len = Math.min(n - done, size - ptr);
      T.copyInPlace(T.narrow(m.queue, 1, ptr, len), T.transpose(T.narrow(keys, 0, done, len), 0, 1));
      done += len;
      ptr = (ptr + len) % size;
    }
    T.fillInPlace(m.queuePtr, ptr);
  }

  /** Frees the pending keys, if a loss was computed without a step after it. */
  dispose(): void {
    this.#pendingKeys?.dispose();
    this.#pendingKeys = null;
    this.module.dispose();
  }
}

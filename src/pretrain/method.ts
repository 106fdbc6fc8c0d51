import type * as T from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { ResNet, ResNetArch } from '../models/resnet.js';
import type { Random } from '../util/random.js';
import type { ProcessGroup } from '../distributed/process-group.js';

/**
 * The contract between a pre-training method (SimSiam, MoCo v2, SimCLR, supervised, each with
 * the optional SPD regulariser) and the trainer that runs it.
 *
 * A method is split in two so that one optimisation step can be compared with PyTorch on
 * identical inputs: `makeViews` draws every augmentation on the host (seeded), and `loss` is a
 * pure function of those views and the weights.
 */

export const PRETRAIN_METHODS = ['simsiam', 'moco', 'simclr', 'supervised'] as const;
export type PretrainMethodName = (typeof PRETRAIN_METHODS)[number];

/** How SPD's negative view is made (paper ablation: CutPaste instead of SmoothBlend). */
export type SpdNegative = 'smoothblend' | 'cutpaste';
/** SPD's objective: the cosine form, or (ablation, and always for supervised) a perturbed-or-not classifier with cross-entropy. */
export type SpdObjective = 'cosine' | 'cross-entropy';

export interface SpdConfig {
  /** η, the regulariser's weight (the paper's 0.1); 0 turns SPD off. */
  eta: number;
  negative: SpdNegative;
  objective: SpdObjective;
}

/** Inputs of one step, already augmented, [N, 3, H, W] float, ImageNet-normalised. */
export interface PretrainViews {
  /** The method's two strong views (supervised: `first` only, `second` null). */
  first: T.Tensor;
  second: T.Tensor | null;
  /** Class labels, int64 [N] (supervised only). */
  labels: T.Tensor | null;
  /** SPD: the anchor x, its weak view (positive) and its weak view perturbed by SmoothBlend/CutPaste (negative); null when η = 0. */
  spd: { anchor: T.Tensor; positive: T.Tensor; negative: T.Tensor } | null;
  /**
   * MoCo, data-parallel: the stream its shuffling BN draws this step's permutation from, taken
   * from the step's stream (resume draws what the uninterrupted run drew). Other methods: absent.
   */
  shuffle?: Random;
}

export interface PretrainLoss {
  /** L = L_base + η·L_spd, a scalar with a graph to every trainable parameter. */
  total: T.Tensor;
  /**
   * The parts for the log, detached: float32 [2] of L_base and L_spd (0 when SPD is off) on the
   * device. Kept as a tensor so a step reads its numbers once, after backward and the optimiser
   * step are queued (readLoss), instead of waiting for the device in the middle of the step.
   */
  parts: T.Tensor;
}

export interface PretrainMethod {
  readonly name: PretrainMethodName;
  readonly arch: ResNetArch;
  /** The encoder whose weights are exported (torchvision names, fc included as it is). */
  readonly backbone: ResNet;
  /**
   * Everything with state to checkpoint: backbone, heads, and for MoCo the key encoder and
   * queue as buffers. Its trainable parameters are what the optimiser updates.
   */
  readonly module: Module;
  /** Parameter groups for the optimiser, e.g. SimSiam's predictor at a fixed learning rate. */
  parameterGroups(): { params: T.Tensor[]; fixedLr: boolean }[];
  /** Draws the step's augmentations from `rng` for a batch of images in [0, 1] [N, 3, H, W]. */
  makeViews(images: T.Tensor, labels: T.Tensor | null, rng: Random): PretrainViews;
  loss(views: PretrainViews): PretrainLoss;
  /** After the optimiser's step: MoCo's momentum update and enqueue; a no-op for the others. */
  afterStep(): void;
  /**
   * Called once after the trainer copied weights into `backbone` (--init), before the first
   * step: a method that keeps a copy of the backbone (MoCo's key encoder) refreshes it. A
   * method without a copy need not have it.
   */
  backboneLoaded?(): void;
  /**
   * Called once before the first step when the trainer runs as one rank of a data-parallel
   * group: a method whose loss spans the batch (MoCo's queue and shuffled keys, SimCLR's
   * negatives) computes it over the global batch from then on. A method whose loss is a mean
   * of per-image terms need not have it (averaging the gradients is enough).
   */
  useGroup?(group: ProcessGroup): void;
}

import type { PretrainMethodName, SpdConfig } from './method.js';
import { SpotdiffError } from '../util/errors.js';

// Kept free of the tensor engine, so the CLI can read defaults and check flags before
// libtorch loads.

/**
 * A method's published optimisation recipe, as the trainer reads it. The learning rate
 * scales linearly with the batch size: lr = baseLr · batchSize / batchSizeRef (Goyal et al.;
 * the rule SimSiam and MoCo state in their code).
 */
export interface MethodDefaults {
  /** The learning rate at batchSizeRef images per step. */
  baseLr: number;
  batchSizeRef: number;
  /** SGD momentum. */
  momentum: number;
  weightDecay: number;
  /** The schedule of the published runs (cosine decay to 0 over all epochs, or ×0.1 steps for supervised). */
  schedule: 'cosine' | 'step';
  /** Contrastive temperature τ (MoCo, SimCLR). */
  temperature?: number;
  /** Zero the last BatchNorm weight of each residual block at init (Goyal et al.). */
  zeroInitResidual: boolean;
  /**
   * Data-parallel runs: BatchNorm over the global batch (SyncBatchNorm, every BN layer of the
   * method's networks) rather than each process's rows. One process: no effect.
   */
  syncBatchNorm: boolean;
}

/**
 * The recipes, with their sources (SyncBatchNorm: what each one does when it runs on several
 * processes):
 * - SimSiam (Chen & He, CVPR 2021, official main_simsiam.py): SGD, lr 0.05·bs/256, momentum
 *   0.9, weight decay 1e-4, cosine schedule, the predictor at a fixed lr (fix_pred_lr),
 *   ResNet built with zero_init_residual=True. SyncBatchNorm: main_simsiam.py converts
 *   the whole model (torch.nn.SyncBatchNorm.convert_sync_batchnorm) in distributed runs; the
 *   paper's §4: "SyncBN", BN synchronised across devices as SimCLR and BYOL.
 * - MoCo v2 (Chen et al., 2020, official main_moco.py with --mlp --aug-plus --cos): SGD, lr
 *   0.03 at batch 256, momentum 0.9, weight decay 1e-4, τ = 0.2, cosine schedule.
 *   No SyncBatchNorm: MoCo's §3.3 "Shuffling BN" (the keys' batch shuffled across processes,
 *   batch-shuffle.ts) is its answer to BN's leak between processes; main_moco.py has no SyncBN.
 * - SimCLR (Chen et al., ICML 2020): LARS with lr 0.3·bs/256 and weight decay 1e-6. spotdiff
 *   has no LARS, so this is SGD with momentum 0.9 at the same lr and weight decay. LARS exists
 *   to keep very large batches (4096+) stable by a per-layer trust ratio; at the few hundred
 *   images a step that fit one machine, plain momentum SGD at the linear-scaled lr trains.
 *   τ = 0.1, the paper's ImageNet setting (its Table 5: best with ℓ2-normalised projections;
 *   0.5 is its CIFAR-10 setting). Its TF ResNet zero-initialises each block's last BN γ.
 *   SyncBatchNorm: the paper's §2 "Global BN" aggregates BN mean and variance over all
 *   devices (the TF code's global_bn, on by default), encoder and projection head.
 * - Supervised (torchvision's reference recipe, Goyal et al.): SGD, lr 0.1·bs/256, momentum
 *   0.9, weight decay 1e-4, lr ×0.1 every 30 epochs; torchvision's init (no zero-init).
 *   No SyncBatchNorm: references/classification/train.py has it behind --sync-bn, off by
 *   default.
 */
export const METHOD_DEFAULTS: Readonly<Record<PretrainMethodName, Readonly<MethodDefaults>>> = Object.freeze({
  simsiam: Object.freeze({ baseLr: 0.05, batchSizeRef: 256, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine' as const, zeroInitResidual: true, syncBatchNorm: true }),
  moco: Object.freeze({ baseLr: 0.03, batchSizeRef: 256, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine' as const, temperature: 0.2, zeroInitResidual: false, syncBatchNorm: false }),
  simclr: Object.freeze({ baseLr: 0.3, batchSizeRef: 256, momentum: 0.9, weightDecay: 1e-6, schedule: 'cosine' as const, temperature: 0.1, zeroInitResidual: true, syncBatchNorm: true }),
  supervised: Object.freeze({ baseLr: 0.1, batchSizeRef: 256, momentum: 0.9, weightDecay: 1e-4, schedule: 'step' as const, zeroInitResidual: false, syncBatchNorm: false }),
});

/** The linear scaling rule: the method's learning rate for `batchSize` images per step. */
export function scaledLr(method: PretrainMethodName, batchSize: number): number {
  const d = METHOD_DEFAULTS[method];
  return (d.baseLr * batchSize) / d.batchSizeRef;
}

/** SPD's published setting: η = 0.1, SmoothBlend negatives, the cosine form. */
export const SPD_DEFAULTS: Readonly<SpdConfig> = Object.freeze({ eta: 0.1, negative: 'smoothblend' as const, objective: 'cosine' as const });

/** MoCo v2's published sizes: 128-d keys, a queue of 65,536 keys, key-encoder momentum 0.999. */
export const MOCO_DEFAULTS = Object.freeze({ dim: 128, queueSize: 65536, momentum: 0.999 });

/** SimSiam's published sizes: projector output 2048, predictor bottleneck 512. */
export const SIMSIAM_DEFAULTS = Object.freeze({ dim: 2048, predDim: 512 });

/** SimCLR's projection output size (128). */
export const SIMCLR_DEFAULTS = Object.freeze({ dim: 128 });

/** The side of the square views the encoders see (224, ImageNet's). */
export const DEFAULT_VIEW_SIZE = 224;

const NEGATIVES: readonly string[] = ['smoothblend', 'cutpaste'];
const OBJECTIVES: readonly string[] = ['cosine', 'cross-entropy'];

/**
 * A method's SPD settings from partial ones: SPD_DEFAULTS, except that supervised training
 * uses the cross-entropy form (a cosine between class-logit features is not the paper's
 * supervised SPD), and asking supervised for the cosine form is an error.
 */
export function resolveSpdConfig(method: PretrainMethodName, given: Partial<SpdConfig> = {}): SpdConfig {
  const objective = given.objective ?? (method === 'supervised' ? 'cross-entropy' : SPD_DEFAULTS.objective);
  const c: SpdConfig = { eta: given.eta ?? SPD_DEFAULTS.eta, negative: given.negative ?? SPD_DEFAULTS.negative, objective };
  if (!Number.isFinite(c.eta) || c.eta < 0) throw new SpotdiffError('ERR_BAD_INPUT', `SPD weight eta must be a number ≥ 0 (0 turns SPD off), got ${c.eta}`);
  if (!NEGATIVES.includes(c.negative)) throw new SpotdiffError('ERR_BAD_INPUT', `SPD negative must be one of ${NEGATIVES.join(', ')}, got "${String(c.negative)}"`);
  if (!OBJECTIVES.includes(c.objective)) throw new SpotdiffError('ERR_BAD_INPUT', `SPD objective must be one of ${OBJECTIVES.join(', ')}, got "${String(c.objective)}"`);
  if (method === 'supervised' && c.objective === 'cosine') {
    throw new SpotdiffError('ERR_BAD_INPUT', 'supervised pre-training uses SPD in its cross-entropy form (a perturbed-or-not head); objective "cosine" is for the self-supervised methods');
  }
  return c;
}

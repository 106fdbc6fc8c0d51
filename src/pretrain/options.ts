import { isResNetArch, RESNET_ARCHS, type ResNetArch } from '../models/backbone-names.js';
import { SpotdiffError } from '../util/errors.js';
import { PRETRAIN_METHODS, type PretrainMethodName, type SpdConfig } from './method.js';
import { resolveSpdConfig } from './defaults.js';
import type { Precision } from '../tensor/autocast.js';
import { CACHE_PLACES, type CachePlace } from '../data/cache-plan.js';

/** What a pre-training run is asked to do (engine-free: the command checks it before loading libtorch). */
export interface PretrainOptions {
  method: PretrainMethodName;
  /** SPD settings; unset fields take the paper's (η 0.1, SmoothBlend, cosine; cross-entropy for supervised). η 0 turns SPD off. */
  spd?: Partial<SpdConfig>;
  /** Dataset folders (any layout openDataset reads); their normal training images are used. */
  data: readonly string[];
  backbone: string;
  /** Weights the backbone starts from (torchvision .pth or safetensors); unset: seeded random init. On resume, unset means the checkpoint's. */
  init?: string;
  epochs: number;
  batchSize: number;
  /** Peak learning rate; default the method's base rate scaled by batchSize/256. */
  lr?: number;
  warmupEpochs?: number;
  /** Images are resized to size×size and the views are size×size (default 224). */
  size?: number;
  seed?: number;
  out: string;
  /** Continue the run whose checkpoint is in `out` (same config). */
  resume?: boolean;
  /** 'cpu' (default), 'cuda', 'cuda:N' or 'auto'. */
  device?: string;
  /** fp32 (default), bf16 (autocast) or fp16 (autocast with loss scaling; CUDA only). */
  precision?: Precision;
  /** Model weights and views in channels_last memory format (same values, faster convolutions). */
  channelsLast?: boolean;
  /**
   * Data-parallel runs: SyncBatchNorm (BatchNorm over the global batch) on or off; default the
   * method's recipe (METHOD_DEFAULTS: on for SimSiam and SimCLR). One process: no effect.
   */
  syncBn?: boolean;
  /** No progress bar. */
  quiet?: boolean;
  /** MiB of decoded images kept for later epochs (default: a quarter of the free memory); results do not depend on it. */
  cacheMb?: number;
  /** Where the decoded images are kept (data/cache-plan.ts): auto (default), host or device; results do not depend on it. */
  cacheOn?: CachePlace;
}

function usage(message: string): SpotdiffError {
  return new SpotdiffError('ERR_USAGE', message);
}

/** Checks the options that need no files; the command runs this before loading libtorch. */
export function checkPretrainOptions(o: PretrainOptions): { arch: ResNetArch; spd: SpdConfig } {
  if (!(PRETRAIN_METHODS as readonly string[]).includes(o.method)) throw usage(`unknown method "${o.method}"; choose one of ${PRETRAIN_METHODS.join(', ')}`);
  if (!isResNetArch(o.backbone)) throw usage(`unknown backbone "${o.backbone}"; choose one of ${RESNET_ARCHS.join(', ')}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw usage(`epochs must be an integer ≥ 1, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 2) throw usage(`batch size must be an integer ≥ 2 (BatchNorm needs two images a step), got ${o.batchSize}`);
  if (o.lr !== undefined && !(o.lr > 0 && Number.isFinite(o.lr))) throw usage(`lr must be a positive number, got ${o.lr}`);
  const warmup = o.warmupEpochs ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0 || warmup >= o.epochs) throw usage(`warm-up epochs must be an integer in [0, epochs), got ${warmup} with ${o.epochs} epochs`);
  const size = o.size ?? 224;
  if (!Number.isInteger(size) || size < 32) throw usage(`size must be an integer ≥ 32, got ${size}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw usage(`seed must be an integer ≥ 0, got ${seed}`);
  if (o.cacheMb !== undefined && !(Number.isSafeInteger(o.cacheMb) && o.cacheMb >= 0 && o.cacheMb <= 2 ** 32)) throw usage(`cache size must be a whole number of MiB in [0, 2^32], got ${o.cacheMb}`);
  if (o.cacheOn !== undefined && !(CACHE_PLACES as readonly string[]).includes(o.cacheOn)) throw usage(`cache place must be one of ${CACHE_PLACES.join(', ')}, got "${o.cacheOn}"`);
  let spd: SpdConfig;
  try {
    spd = resolveSpdConfig(o.method, o.spd);
  } catch (e) {
    throw usage((e as Error).message);
  }
  return { arch: o.backbone, spd };
}


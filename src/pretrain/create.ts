import type { ResNetArch } from '../models/resnet.js';
import { isResNetArch, RESNET_ARCHS } from '../models/backbone-names.js';
import { SpotdiffError } from '../util/errors.js';
import { PRETRAIN_METHODS, type PretrainMethod, type PretrainMethodName, type SpdConfig } from './method.js';
import { DEFAULT_VIEW_SIZE, METHOD_DEFAULTS, MOCO_DEFAULTS, SIMCLR_DEFAULTS, SIMSIAM_DEFAULTS, resolveSpdConfig } from './defaults.js';
import { SimSiam } from './simsiam.js';
import { Moco } from './moco.js';
import { SimClr } from './simclr.js';
import { Supervised } from './supervised.js';

export { METHOD_DEFAULTS, SPD_DEFAULTS, MOCO_DEFAULTS, SIMSIAM_DEFAULTS, SIMCLR_DEFAULTS, DEFAULT_VIEW_SIZE, scaledLr, resolveSpdConfig, type MethodDefaults } from './defaults.js';

export interface CreatePretrainOptions {
  method: PretrainMethodName;
  arch: ResNetArch;
  /** SPD settings; unset fields take SPD_DEFAULTS (η 0.1, SmoothBlend, cosine; supervised: cross-entropy). */
  spd?: Partial<SpdConfig>;
  /** Side of the square views the encoder sees (default 224). */
  viewSize?: number;
  /** Zero-init each residual block's last BN γ (default: the method's, see METHOD_DEFAULTS). */
  zeroInitResidual?: boolean;
  /** Supervised: the number of classes (required). */
  numClasses?: number;
  /** Embedding size: SimSiam's projector output (2048), MoCo's keys and SimCLR's projection (128). */
  dim?: number;
  /** SimSiam: the predictor's bottleneck (512). */
  predDim?: number;
  /** MoCo: keys in the queue (65,536); at least the batch size. */
  queueSize?: number;
  /** MoCo: key-encoder momentum (0.999). */
  keyMomentum?: number;
  /** MoCo / SimCLR: contrastive temperature (METHOD_DEFAULTS: 0.2 / 0.1). */
  temperature?: number;
}

function positiveInt(what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new SpotdiffError('ERR_BAD_INPUT', `createPretrainMethod: ${what} must be a positive integer, got ${v}`);
  return v;
}

function inRange(what: string, v: number, ok: (v: number) => boolean, range: string): number {
  if (!Number.isFinite(v) || !ok(v)) throw new SpotdiffError('ERR_BAD_INPUT', `createPretrainMethod: ${what} must be ${range}, got ${v}`);
  return v;
}

/**
 * A pre-training method with its network freshly initialised (seed libtorch with
 * T.manualSeed first for reproducible weights). The optimisation recipe to run it with is
 * METHOD_DEFAULTS[method].
 */
export function createPretrainMethod(o: CreatePretrainOptions): PretrainMethod {
  if (!(PRETRAIN_METHODS as readonly string[]).includes(o.method)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `unknown pre-training method "${String(o.method)}"; choose one of ${PRETRAIN_METHODS.join(', ')}`);
  }
  if (!isResNetArch(o.arch)) throw new SpotdiffError('ERR_BAD_INPUT', `unknown backbone "${String(o.arch)}"; choose one of ${RESNET_ARCHS.join(', ')}`);
  const spd = resolveSpdConfig(o.method, o.spd);
  const viewSize = positiveInt('viewSize', o.viewSize ?? DEFAULT_VIEW_SIZE);
  const defaults = METHOD_DEFAULTS[o.method];
  const zeroInitResidual = o.zeroInitResidual ?? defaults.zeroInitResidual;
  const temperature = (): number => inRange('temperature', o.temperature ?? defaults.temperature!, (v) => v > 0, 'a positive number');
  const common = { arch: o.arch, spd, viewSize, zeroInitResidual };
  switch (o.method) {
    case 'simsiam':
      return new SimSiam({ ...common, dim: positiveInt('dim', o.dim ?? SIMSIAM_DEFAULTS.dim), predDim: positiveInt('predDim', o.predDim ?? SIMSIAM_DEFAULTS.predDim) });
    case 'moco':
      return new Moco({
        ...common,
        dim: positiveInt('dim', o.dim ?? MOCO_DEFAULTS.dim),
        queueSize: positiveInt('queueSize', o.queueSize ?? MOCO_DEFAULTS.queueSize),
        momentum: inRange('keyMomentum', o.keyMomentum ?? MOCO_DEFAULTS.momentum, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
        temperature: temperature(),
      });
    case 'simclr':
      return new SimClr({ ...common, dim: positiveInt('dim', o.dim ?? SIMCLR_DEFAULTS.dim), temperature: temperature() });
    case 'supervised':
      if (o.numClasses === undefined) {
        throw new SpotdiffError('ERR_BAD_INPUT', 'supervised pre-training needs numClasses (the number of class folders of the dataset)');
      }
      return new Supervised({ ...common, numClasses: positiveInt('numClasses', o.numClasses) });
  }
}

import type { ResNetArch } from '../models/resnet.js';
import { isResNetArch, RESNET_ARCHS } from '../models/backbone-names.js';
import { SpotdiffError } from '../util/errors.js';
import { PRETRAIN_METHODS, type PretrainMethod, type PretrainMethodName, type SpdConfig } from './method.js';
import { DEFAULT_VIEW_SIZE, METHOD_DEFAULTS, SIMSIAM_DEFAULTS, resolveSpdConfig } from './defaults.js';
import { SimSiam } from './simsiam.js';

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
  /** SimSiam: projector output (2048) and predictor bottleneck (512). */
  dim?: number;
  predDim?: number;
}

function checkPositiveInt(what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new SpotdiffError('ERR_BAD_INPUT', `createPretrainMethod: ${what} must be a positive integer, got ${v}`);
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
  const viewSize = checkPositiveInt('viewSize', o.viewSize ?? DEFAULT_VIEW_SIZE);
  const zeroInit = o.zeroInitResidual ?? METHOD_DEFAULTS[o.method].zeroInitResidual;
  switch (o.method) {
    case 'simsiam':
      return new SimSiam({
        arch: o.arch,
        spd,
        viewSize,
        dim: checkPositiveInt('dim', o.dim ?? SIMSIAM_DEFAULTS.dim),
        predDim: checkPositiveInt('predDim', o.predDim ?? SIMSIAM_DEFAULTS.predDim),
        zeroInitResidual: zeroInit,
      });
    default:
      throw new SpotdiffError('ERR_BAD_INPUT', `pre-training method "${o.method}" is not available yet`);
  }
}

/**
 * Pre-training methods (SimSiam, MoCo v2, SimCLR, supervised), each with the optional SPD
 * regulariser, behind the PretrainMethod contract the trainer runs:
 * import * as P from '../pretrain/index.js'.
 */
export * from './method.js';
export * from './create.js';
export { spdLoss, spdCrossEntropy } from './spd-loss.js';
export { spdTerm, composeLoss, readLoss, type SpdNetworks } from './spd-term.js';
export { makePretrainViews, spdViews, resizeImages, checkPretrainImages, SUPERVISED_AUGMENT, type ViewRecipe } from './views.js';
export { Encoder, pooledFeatures, featureDim, zeroInitResidual } from './encoder.js';
export { simsiamProjector, simsiamPredictor, mlpHead, spdClassifier } from './heads.js';
export { SimSiam, SimSiamNetwork, type SimSiamConfig } from './simsiam.js';
export { Moco, MocoNetwork, type MocoConfig } from './moco.js';
export { SimClr, SimClrNetwork, type SimClrConfig } from './simclr.js';
export { Supervised, SupervisedNetwork, type SupervisedConfig } from './supervised.js';
export { FrozenCopy } from './frozen-copy.js';

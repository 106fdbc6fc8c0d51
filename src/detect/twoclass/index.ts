/** The 2-class training engine shared by the classifier and the segmenter (see train.ts). */
export * from './config.js';
export * from './loss.js';
export type { TwoClassNetwork, TwoClassNetworkFactory } from './network.js';
export { checkTrainingSamples, fewShotSamples, type FewShotDraw } from './samples.js';
export { planSteps, type StepPlan } from './plan.js';
export { applyPairedAugment, pairedAugment, samplePairedAugment, type PairedAugmentParams } from './augment.js';
export { TWOCLASS_LOG_FILE, type TwoClassStepRecord } from './log.js';
export { TWOCLASS_CHECKPOINT_FILE, readTwoClassCheckpointMeta, type TwoClassCheckpointMeta, type TwoClassRunIdentity } from './checkpoint.js';
export * from './train.js';
export * from './runs.js';

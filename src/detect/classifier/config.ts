import { checkTwoClassDetectorConfig, type TwoClassConfigRule, type TwoClassDetectorConfig } from '../twoclass/detector-config.js';

export const CLASSIFIER_FORMAT = 'spotdiff.classifier';
export const CLASSIFIER_VERSION = 1;

/** model.json "detector" of a classifier: the input, the network, the training config and its summary. */
export interface ClassifierConfig extends TwoClassDetectorConfig {
  format: typeof CLASSIFIER_FORMAT;
  version: typeof CLASSIFIER_VERSION;
  network: 'resnet-classifier';
}

const RULE: TwoClassConfigRule = { name: 'classifier', format: CLASSIFIER_FORMAT, version: CLASSIFIER_VERSION, task: 'classifier', network: 'resnet-classifier' };

export function checkClassifierConfig(cfg: ClassifierConfig): void {
  checkTwoClassDetectorConfig(cfg, RULE);
}

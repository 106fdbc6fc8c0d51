import type { DetectorMethodInfo } from '../method.js';

/** The 2-class classifier as the registry lists it (engine-free: ./method.ts holds the implementation). */
export const classifierInfo: DetectorMethodInfo = {
  name: 'classifier',
  kind: 'two-class',
  summary: 'Classifier: a ResNet with a 2-way head on normal and anomalous images, score P(anomalous) (Zou et al. 2022)',
  // One score per image: no pixel metrics, no heatmaps.
  localises: false,
  defaultLayers: [],
  /**
   * protocol, shots, run, epochs, iterations, lr: see twoclass/method-options.ts; loss:
   * 'cross-entropy' (default) or 'focal' (softmax focal loss) with gamma (default 2) and alpha
   * (default null: no class weighting).
   */
  optionKeys: ['protocol', 'shots', 'run', 'epochs', 'iterations', 'lr', 'syncBn', 'loss', 'gamma', 'alpha'],
};

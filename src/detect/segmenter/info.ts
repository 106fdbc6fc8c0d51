import type { DetectorMethodInfo } from '../method.js';

/** The 2-class segmenter as the registry lists it (engine-free: ./method.ts holds the implementation). */
export const segmenterInfo: DetectorMethodInfo = {
  name: 'segmenter',
  kind: 'two-class',
  summary: 'Segmenter: a U-Net on a ResNet encoder trained on defect masks, pixel score sigmoid(logit) (Zou et al. 2022)',
  localises: true,
  defaultLayers: [],
  /**
   * protocol, shots, run, epochs, iterations, lr: see twoclass/method-options.ts; loss: 'focal'
   * (sigmoid focal loss, the only one) with gamma (default 2; 0 with alpha null is plain BCE)
   * and alpha (default 0.25, null for none); imageScore: 'max' (default) or 'top-k-mean' with
   * topK pixels (default 100).
   */
  optionKeys: ['protocol', 'shots', 'run', 'epochs', 'iterations', 'lr', 'syncBn', 'loss', 'gamma', 'alpha', 'imageScore', 'topK'],
};

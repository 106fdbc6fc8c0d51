import type { DetectorMethodInfo } from '../method.js';

/** PaDiM as the registry lists it (engine-free: ./method.ts holds the implementation). */
export const padimInfo: DetectorMethodInfo = {
  name: 'padim',
  kind: 'one-class',
  summary: 'PaDiM: a Gaussian per feature position of normal images, Mahalanobis distance (Defard et al. 2020)',
  localises: true,
  // The official code's layers.
  defaultLayers: ['layer1', 'layer2', 'layer3'],
  optionKeys: [],
};

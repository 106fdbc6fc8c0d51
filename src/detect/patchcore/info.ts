import type { DetectorMethodInfo } from '../method.js';

/** PatchCore as the registry lists it (engine-free: ./method.ts holds the implementation). */
export const patchcoreInfo: DetectorMethodInfo = {
  name: 'patchcore',
  kind: 'one-class',
  summary: 'PatchCore: a coreset memory bank of normal patch features, nearest-neighbour distance (Roth et al. 2022)',
  localises: true,
  // The paper's mid-level features.
  defaultLayers: ['layer2', 'layer3'],
  /** coresetRatio: the share of training patches kept in the memory bank, in (0, 1] (default 0.1). */
  optionKeys: ['coresetRatio'],
};

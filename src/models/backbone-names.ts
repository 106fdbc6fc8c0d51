import { SpotdiffError } from '../util/errors.js';

/**
 * The names a user may give for backbones and their layers, kept free of the engine so that
 * a command can check its arguments without loading libtorch.
 */

/** The backbones spotdiff builds, by torchvision's function names. */
export const RESNET_ARCHS = ['resnet18', 'resnet50', 'wide_resnet50_2'] as const;
export type ResNetArch = (typeof RESNET_ARCHS)[number];

export function isResNetArch(name: string): name is ResNetArch {
  return (RESNET_ARCHS as readonly string[]).includes(name);
}

/**
 * The intermediate outputs a backbone can hand out, in network order: the residual stages
 * ([N,C,H/4..H/32,W/4..W/32]), the global average pool ([N,C,1,1], as torchvision's avgpool
 * module returns it) and the logits ([N, classes]).
 */
export const FEATURE_LAYERS = ['layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc'] as const;
export type FeatureLayer = (typeof FEATURE_LAYERS)[number];

export function isFeatureLayer(name: string): name is FeatureLayer {
  return (FEATURE_LAYERS as readonly string[]).includes(name);
}

/** Checks layer names, with an error that lists the valid ones. Duplicates are an error too. */
export function parseFeatureLayers(names: readonly string[]): FeatureLayer[] {
  if (names.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `no layers asked for; choose from ${FEATURE_LAYERS.join(', ')}`);
  const bad = names.filter((n) => !isFeatureLayer(n));
  if (bad.length > 0) throw new SpotdiffError('ERR_BAD_INPUT', `unknown layer${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}; choose from ${FEATURE_LAYERS.join(', ')}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `layer "${dup}" is asked for twice`);
  return names as FeatureLayer[];
}

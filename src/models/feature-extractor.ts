import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import { consume } from './resnet-blocks.js';
import type { ResNet } from './resnet.js';

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

/**
 * Runs `model` on x only as deep as the deepest requested layer and returns those layers'
 * outputs by name, in the order asked. The model's mode (train/eval) and the grad mode are
 * the caller's: feature extraction for anomaly detection wants model.eval() and T.noGrad.
 */
export function extractFeatures(model: ResNet, x: T.Tensor, layers: readonly string[]): Map<FeatureLayer, T.Tensor> {
  const wanted = new Set(parseFeatureLayers(layers));
  const depth = Math.max(...[...wanted].map((l) => FEATURE_LAYERS.indexOf(l)));
  const got = new Map<FeatureLayer, T.Tensor>();
  // Each step's input is freed unless it is a wanted output (autograd keeps what it saved).
  const step = (cur: T.Tensor, prevName: FeatureLayer | null, f: (t: T.Tensor) => T.Tensor): T.Tensor =>
    prevName !== null && wanted.has(prevName) ? f(cur) : consume(cur, f);
  let cur = model.stem(x);
  let prev: FeatureLayer | null = null;
  const stages = model.stages;
  for (let i = 0; i <= depth; i++) {
    const name = FEATURE_LAYERS[i] as FeatureLayer;
    if (i < 4) cur = step(cur, prev, (t) => (stages[i] as (typeof stages)[number]).forward(t));
    else if (name === 'avgpool') cur = step(cur, prev, (t) => model.avgpool.forward(t));
    else cur = step(cur, prev, (t) => model.fc.forward(t.rank === 4 ? T.flatten(t, 1) : t));
    if (wanted.has(name)) got.set(name, cur);
    prev = name;
  }
  return new Map(layers.map((l) => [l as FeatureLayer, got.get(l as FeatureLayer) as T.Tensor]));
}

/** A backbone bound to a fixed list of layers: forward(x) returns them by name. */
export class FeatureExtractor {
  readonly layers: readonly FeatureLayer[];
  constructor(readonly model: ResNet, layers: readonly string[]) {
    this.layers = parseFeatureLayers(layers);
  }
  forward(x: T.Tensor): Map<FeatureLayer, T.Tensor> {
    return extractFeatures(this.model, x, this.layers);
  }
}

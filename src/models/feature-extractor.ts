import * as T from '../tensor/index.js';
import { consume } from './resnet-blocks.js';
import type { ResNet } from './resnet.js';
import { FEATURE_LAYERS, parseFeatureLayers, type FeatureLayer } from './backbone-names.js';
import { moduleDevice } from '../nn/device.js';

export { FEATURE_LAYERS, isFeatureLayer, parseFeatureLayers, type FeatureLayer } from './backbone-names.js';

/**
 * Runs `model` on x only as deep as the deepest requested layer and returns those layers'
 * outputs by name, in the order asked. The model's mode (train/eval) and the grad mode are
 * the caller's: feature extraction for anomaly detection wants model.eval() and T.noGrad.
 * Only the returned tensors survive, even outside a tidy scope.
 */
export function extractFeatures(model: ResNet, x: T.Tensor, layers: readonly string[]): Map<FeatureLayer, T.Tensor> {
  return T.tidy(() => runToDepth(model, x, layers));
}

function runToDepth(model: ResNet, x: T.Tensor, layers: readonly string[]): Map<FeatureLayer, T.Tensor> {
  const wanted = new Set(parseFeatureLayers(layers));
  const depth = Math.max(...[...wanted].map((l) => FEATURE_LAYERS.indexOf(l)));
  const got = new Map<FeatureLayer, T.Tensor>();
  // Each step's input is freed unless it is a wanted output (autograd keeps what it saved).
  const step = (cur: T.Tensor, prevName: FeatureLayer | null, f: (t: T.Tensor) => T.Tensor): T.Tensor =>
    prevName !== null && wanted.has(prevName) ? f(cur) : consume(cur, f);
  let cur = model.stem(x);
  let prev: FeatureLayer | null = null;
  for (let i = 0; i <= depth; i++) {
    const name = FEATURE_LAYERS[i] as FeatureLayer;
    if (i < 4) cur = step(cur, prev, (t) => model.runStage(i as 0 | 1 | 2 | 3, t));
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

/**
 * Runs the backbone (no grad) on a batch of preprocessed images [N, 3, H, W], copied to the
 * backbone's device; the features stay there. The caller disposes the maps (disposeFeatures).
 */
export function batchFeatures(model: ResNet, images: Float32Array, shape: readonly number[], layers: readonly string[]): Map<FeatureLayer, T.Tensor> {
  return T.noGrad(() => T.tidy(() => extractFeatures(model, T.tensor(images, [...shape], { device: moduleDevice(model) }), layers)));
}

export function disposeFeatures(f: ReadonlyMap<string, T.Tensor>): void {
  for (const t of f.values()) t.dispose();
}

import * as T from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainLoss, PretrainViews, SpdConfig } from './method.js';
import { spdCrossEntropy, spdLoss } from './spd-loss.js';
import { pooledFeatures, type Encoder } from './encoder.js';

/** What a method hands the SPD term: its embedding (encoder + head), its pooled features, and the perturbed-or-not head when SPD is a classification. */
export interface SpdNetworks {
  /** The same encoder + projector/head output the base loss uses (cosine form). */
  embed(x: T.Tensor): T.Tensor;
  /** The backbone's pooled features (cross-entropy form). */
  features(x: T.Tensor): T.Tensor;
  classifier: Module | null;
}

/** SPD's networks for the self-supervised methods: the encoder's output, its backbone's pooled features, the optional perturbed-or-not head. */
export function encoderSpdNetworks(encoder: Encoder, classifier: Module | null): SpdNetworks {
  return { embed: (x) => encoder.forward(x), features: (x) => pooledFeatures(encoder.backbone, x), classifier };
}

/** The second strong view, which the two-view methods need. */
export function secondView(method: string, views: PretrainViews): T.Tensor {
  if (views.second === null) throw new SpotdiffError('ERR_BAD_INPUT', `${method}.loss: ${method} needs two views (views.second is null)`);
  return views.second;
}

/**
 * L_spd for a step, or null when SPD is off (η = 0). The anchor, positive and negative each
 * go through the network as a batch of their own, after the base views, so BatchNorm sees
 * the same batches a per-view forward would (as SimSiam and MoCo forward their two views).
 */
export function spdTerm(method: string, views: PretrainViews, config: SpdConfig, nets: SpdNetworks): T.Tensor | null {
  if (config.eta === 0) return null;
  const spd = views.spd;
  if (spd === null) throw new SpotdiffError('ERR_BAD_INPUT', `${method}.loss: SPD is on (eta ${config.eta}) but the views carry no SPD anchor/positive/negative (made with eta 0?)`);
  return T.tidy(() => {
    if (config.objective === 'cosine') return spdLoss(nets.embed(spd.anchor), nets.embed(spd.positive), nets.embed(spd.negative));
    if (nets.classifier === null) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: the cross-entropy form of SPD needs its classifier head`);
    return spdCrossEntropy(nets.classifier, nets.features(spd.positive), nets.features(spd.negative));
  });
}

/** L = L_base + η·L_spd, and both parts (detached) for the log. */
export function composeLoss(base: T.Tensor, spd: T.Tensor | null, eta: number): PretrainLoss {
  return T.tidy(() => {
    const total = spd === null ? base : T.add(base, T.mul(spd, eta));
    const parts = T.toDtype(T.detach(T.stack([T.reshape(base, []), spd === null ? T.zerosLike(T.reshape(base, [])) : T.reshape(spd, [])])), 'float32');
    return { total, parts };
  });
}

/** The loss as numbers: one read from the device (which waits for the work queued before it). */
export function readLoss(loss: PretrainLoss): { total: number; base: number; spd: number } {
  return T.tidy(() => {
    const [total, base, spd] = T.cat([T.reshape(T.toDtype(T.detach(loss.total), 'float32'), [1]), loss.parts]).toFloat32();
    return { total: total as number, base: base as number, spd: spd as number };
  });
}

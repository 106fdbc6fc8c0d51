import * as T from '../tensor/index.js';
import { extractFeatures } from '../models/feature-extractor.js';
import type { ResNet } from '../models/resnet.js';
import type { ProjectionHead } from './head.js';
import { finetuneLossParts, type FinetuneLossParts, type LossWeights } from './losses.js';
import type { FinetuneViews } from './views.js';

/** The backbone's global-average-pooled layer4 features [N, C] (grad mode and train/eval mode are the caller's). */
export function pooledEmbedding(model: ResNet, x: T.Tensor): T.Tensor {
  return T.tidy(() => T.flatten(extractFeatures(model, x, ['avgpool']).get('avgpool') as T.Tensor, 1));
}

/**
 * The loss of one step: every view and anomaly goes through the backbone in one batch (BatchNorm
 * runs on frozen statistics, so batch composition does not change anyone's features), then
 * through the head; the terms are split back out.
 */
export function finetuneLoss(backbone: ResNet, head: ProjectionHead, views: FinetuneViews, weights: LossWeights): FinetuneLossParts {
  return T.tidy(() => {
    const b = views.first.shape[0] as number;
    const inputs = views.anomalies === null ? [views.first, views.second] : [views.first, views.second, views.anomalies];
    const z = head.forward(pooledEmbedding(backbone, T.cat(inputs, 0)));
    const part = (i: number): T.Tensor => T.narrow(z, 0, i * b, b);
    return finetuneLossParts(part(0), part(1), views.anomalies === null ? null : part(2), views.partners, weights);
  });
}

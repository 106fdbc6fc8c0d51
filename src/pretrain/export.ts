import type { ResNet } from '../models/resnet.js';
import { saveWeights } from '../models/weights.js';
import type { PretrainConfig } from './run-config.js';

/**
 * The result of pre-training: the backbone alone, as a torchvision ResNet state dict in
 * safetensors (torchvision's parameter names, fc included with the shape it has, e.g. the
 * projector's first layer or the supervised classifier), so that `spotdiff fit --weights`,
 * `spotdiff features --weights` and torchvision's `resnet*(num_classes=K).load_state_dict`
 * all take it unchanged. The metadata says how it was made.
 */

export const BACKBONE_FILE = 'backbone.safetensors';

export async function exportBackbone(backbone: ResNet, path: string, config: PretrainConfig, done: { epochs: number; steps: number; spotdiffVersion: string }): Promise<void> {
  const made = { method: config.method, spd: config.spd, init: config.init, data: config.data, epochs: done.epochs, steps: done.steps, seed: config.seed, spotdiffVersion: done.spotdiffVersion };
  await saveWeights(backbone, path, { 'spotdiff.pretrained': JSON.stringify(made) });
}

import { createPretrainMethod } from '../../src/pretrain/create.js';
import type { MethodFactory, PretrainOptions } from '../../src/pretrain/trainer.js';

/**
 * Tiny pre-training runs for the trainer's tests: ResNet-18 on the 8 PNGs of 32 px that
 * writeTinyImages makes (2 objects × 4), batch 4 (2 steps an epoch), SimSiam with SPD, and small
 * heads (projector 64, predictor 16; MoCo/SimCLR 16, queue 16) so a step takes a fraction of a second.
 */
export const smallHeads: MethodFactory = (r) =>
  createPretrainMethod({
    method: r.method,
    arch: r.arch,
    spd: r.spd,
    viewSize: r.viewSize,
    dim: r.method === 'simsiam' ? 64 : 16,
    predDim: 16,
    queueSize: 16,
    ...(r.numClasses !== null ? { numClasses: r.numClasses } : {}),
  });

/** A 2-epoch SimSiam run of the tiny images in `data` into `out`; `extra` overrides any field. */
export function tinyRunOptions(data: string, out: string, extra: Partial<PretrainOptions> = {}): PretrainOptions {
  return { method: 'simsiam', data: [data], backbone: 'resnet18', epochs: 2, batchSize: 4, size: 32, seed: 3, out, quiet: true, ...extra };
}

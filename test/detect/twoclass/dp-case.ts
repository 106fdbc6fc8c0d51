import { readFileSync } from 'node:fs';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../../../src/nn/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import type { ProcessGroup } from '../../../src/distributed/process-group.js';
import { resolveTwoClassTrainConfig, trainTwoClass, type TwoClassNetwork } from '../../../src/detect/twoclass/index.js';

/** The classifier of ./toy.ts without BatchNorm: per-process statistics would differ from one process's. */
function plainClassifier(): TwoClassNetwork {
  return new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 2));
}

/** The same with a BatchNorm after the convolution: data-parallel equals one process only with SyncBatchNorm. */
function bnClassifier(): TwoClassNetwork {
  return new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 2));
}

export const DP_STEPS = 5;

/**
 * A 2-class run on the toy samples (a JSON file of Sample[]): few-shot with the default
 * augmentations, global batch 4, DP_STEPS steps at a rate large enough that the weights move;
 * as one process (group null) or as one rank. `stopAfter`: this process asks to stop after
 * that step (the run stops, checkpointed, one step later); `resume` continues the work folder's run;
 * `bn`: the network with BatchNorm, `syncBatchNorm`: SyncBatchNorm across the ranks.
 * Returns the trained weights and steps.
 */
export async function runTwoClassCase(
  samplesFile: string,
  work: string,
  group: ProcessGroup | null,
  o: { resume?: boolean; stopAfter?: number; bn?: boolean; syncBatchNorm?: boolean } = {},
): Promise<{ steps: number; lastLoss: number | null; weights: Record<string, number[]> }> {
  const samples = JSON.parse(readFileSync(samplesFile, 'utf8')) as Sample[];
  const controller = new AbortController();
  const result = await trainTwoClass({
    config: resolveTwoClassTrainConfig({ task: 'classifier', protocol: 'few-shot', imageSize: [16, 16], iterations: DP_STEPS, batchSize: 4, lr: 0.5 }),
    samples,
    createNetwork: o.bn === true ? bnClassifier : plainClassifier,
    networkIdentity: { arch: o.bn === true ? 'bn-classifier' : 'plain-classifier' },
    device: 'cpu',
    work: { dir: work, resume: o.resume === true },
    quiet: true,
    group,
    syncBatchNorm: o.syncBatchNorm === true,
  }, { signal: controller.signal, onStep: (e) => (e.record.step === o.stopAfter ? controller.abort() : undefined) });
  const weights = Object.fromEntries([...result.network.stateDict()].map(([k, t]) => [k, Array.from(t.toFloat32())]));
  result.network.dispose();
  return { steps: result.steps, lastLoss: result.lastLoss, weights };
}

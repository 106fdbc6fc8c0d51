import { toHost } from '../../tensor/host.js';
import type { HostTensor } from '../../tensor/io/index.js';
import type { Module } from '../../nn/module.js';
import { drawnOnCpu } from '../../nn/device.js';
import type { Sample } from '../../data/datasets/sample.js';
import { SpotdiffError, isSpotdiffError } from '../../util/errors.js';
import type { FitContext } from '../method.js';
import { resolveTwoClassTrainConfig } from './config.js';
import type { TwoClassLoss, TwoClassTask } from './loss.js';
import type { TwoClassNetwork } from './network.js';
import { fewShotSamples } from './samples.js';
import { trainTwoClass } from './train.js';
import type { TwoClassFitRecord, TwoClassNetworkKind } from './detector-config.js';
import type { TwoClassRunOptions } from './method-options.js';

/** What a 2-class method hands the shared fit. */
export interface TwoClassFitSpec {
  method: string;
  task: TwoClassTask;
  network: TwoClassNetworkKind;
  /**
   * Builds the untrained network on the current default device, its ResNet part from the
   * initial backbone's tensors (`weights`, torchvision names), its new layers seeded by `seed`.
   */
  build: (weights: ReadonlyMap<string, HostTensor>, source: string, seed: number) => TwoClassNetwork;
  loss: TwoClassLoss;
  run: TwoClassRunOptions;
}

/**
 * The fit both 2-class methods share: the training images (ctx.samples, or their k-shot draw
 * for few-shot), the training config, the network initialised from ctx.backbone's weights (the
 * glue's pretrained or seeded random backbone), trainTwoClass in ctx.work (checkpoints, log,
 * resume). Returns the trained network in eval mode and what model.json records of the run.
 */
export async function fitTwoClassNetwork(ctx: FitContext, spec: TwoClassFitSpec): Promise<{ network: TwoClassNetwork; record: TwoClassFitRecord }> {
  if (ctx.tile !== null) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${spec.method} trains on whole images resized to its input size; fitting on tiles is for the one-class methods`);
  }
  const samples = trainingImages(ctx, spec);
  const config = resolveTwoClassTrainConfig({
    task: spec.task,
    protocol: spec.run.protocol,
    imageSize: ctx.input.imageSize,
    epochs: spec.run.epochs,
    iterations: spec.run.iterations,
    lr: spec.run.lr,
    batchSize: ctx.batchSize,
    loss: spec.loss,
    seed: ctx.seed,
  });
  const weights = hostState(ctx.backbone);
  const init = ctx.input.weights ?? `random seed ${ctx.seed}`;
  // The network takes over the backbone's weights; the glue's dispose after a failed fit is harmless.
  ctx.backbone.dispose();
  const result = await trainTwoClass({
    config,
    samples,
    createNetwork: () => drawnOnCpu(() => spec.build(weights, init, ctx.seed), ctx.device),
    networkIdentity: { network: spec.network, arch: ctx.arch, init },
    device: ctx.device,
    work: ctx.work,
    quiet: ctx.quiet,
    group: ctx.group ?? null,
    syncBatchNorm: spec.run.syncBn,
  });
  result.network.eval();
  const fewShot = spec.run.fewShot === null ? null : { ...spec.run.fewShot, seed: ctx.seed };
  const anomalies = samples.filter((s) => s.label === 'anomaly').length;
  const processes = ctx.group?.worldSize ?? 1;
  const summary = { images: samples.length, anomalies, steps: result.steps, lastLoss: result.lastLoss, processes, syncBatchNorm: processes > 1 && spec.run.syncBn };
  return { network: result.network, record: { network: spec.network, train: config, fewShot, summary } };
}

/** High-shot: every fit image; few-shot: the k-shot draw `run` of them (sampleKShot seeded by ctx.seed). */
function trainingImages(ctx: FitContext, spec: TwoClassFitSpec): Sample[] {
  const draw = spec.run.fewShot;
  if (draw === null) return ctx.samples;
  try {
    return fewShotSamples(ctx.samples, { k: draw.shots, run: draw.run, seed: ctx.seed });
  } catch (e) {
    if (!isSpotdiffError(e, 'ERR_BAD_INPUT')) throw e;
    throw new SpotdiffError('ERR_BAD_INPUT', `${spec.method}: cannot draw ${draw.shots} shots per class from the train images left after the validation hold-out: ${e.message}`, { cause: e });
  }
}

/** Host copies of a module's tensors. */
function hostState(m: Module): Map<string, HostTensor> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, toHost(t)]));
}

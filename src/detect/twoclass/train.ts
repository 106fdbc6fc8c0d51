import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as T from '../../tensor/index.js';
import { SGD } from '../../nn/index.js';
import type { CheckpointWriter } from '../../nn/checkpoint.js';
import { normalizeImages } from '../../augment/normalize.js';
import type { Sample } from '../../data/datasets/sample.js';
import { sweepDeadTemps } from '../../util/atomic-write.js';
import { SpotdiffError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { Random, hashSeed } from '../../util/random.js';
import { JsonlStepLog } from '../../util/step-log.js';
import { checkTwoClassTrainConfig, type TwoClassTrainConfig } from './config.js';
import { twoClassLoss } from './loss.js';
import { checkTrainingSamples } from './samples.js';
import { planSteps, type StepPlan } from './plan.js';
import { stepBatches, type StepTensors } from './batches.js';
import { applyPairedAugment, samplePairedAugment } from './augment.js';
import { TwoClassDataParallel, checkTwoClassDataParallel } from './data-parallel.js';
import type { ProcessGroup } from '../../distributed/process-group.js';
import type { TwoClassNetwork, TwoClassNetworkFactory } from './network.js';
import { TWOCLASS_LOG_FILE, type TwoClassStepRecord } from './log.js';
import {
  TWOCLASS_CHECKPOINT_FILE,
  checkSameRun,
  loadTwoClassCheckpoint,
  readTwoClassCheckpointMeta,
  saveTwoClassCheckpoint,
  type TwoClassRunIdentity,
} from './checkpoint.js';

/**
 * The 2-class training loop, shared by the classifier and the segmenter: plan (checks, which
 * images each step takes) → open (build the network seeded, SGD, resume from the work
 * folder's checkpoint) → run (steps: augment, normalise, forward, loss, SGD; log, progress,
 * checkpoints) → finish (last checkpoint, the trained network back to the caller).
 *
 * Reproducibility is by construction: the network is built right after
 * T.manualSeed(hashSeed(seed, 'twoclass-init')); step s takes the plan's images, draws its
 * augmentations from Random.derive(seed, 'twoclass-augment', s) and seeds libtorch's generator
 * (dropout) with hashSeed(seed, 'twoclass-step', s); the learning rate is fixed. So a run
 * resumed from the checkpoint of step s repeats what the uninterrupted run did after s (on
 * the CPU at one thread, bit for bit). On a device, the only value read back per step is the
 * loss for the log.
 */

export interface TwoClassTrainRequest {
  config: TwoClassTrainConfig;
  /** Labelled training images (a few-shot run: fewShotSamples(...) of the train split). */
  samples: readonly Sample[];
  /** Builds the network on the current default device (the trainer sets it to `device` and seeds libtorch first). */
  createNetwork: TwoClassNetworkFactory;
  /** Identifies the network and its starting weights in the checkpoint (architecture, init weights' hash, ...). */
  networkIdentity: TwoClassRunIdentity['network'];
  device: T.Device;
  /** Checkpoints and the log go here (null: none). With resume, a checkpoint there is continued; none there starts afresh. */
  work: { dir: string; resume: boolean } | null;
  quiet?: boolean;
  /** Bytes of decoded images to cache (default a quarter of the free memory). */
  cacheBytes?: number;
  /**
   * Data-parallel training: this process is one rank of the group; each step's batch is split
   * into equal rank shares, gradients averaged; rank 0 alone writes the checkpoint and log.
   * Absent (or null): one process, no collectives.
   */
  group?: ProcessGroup | null;
  /** With a group: the network's BatchNorm over the global batch (SyncBatchNorm); default false. */
  syncBatchNorm?: boolean;
}

export type TwoClassTrainEvent = { type: 'step'; record: TwoClassStepRecord; totalSteps: number; checkpoint: string | null };

export interface TwoClassTrainHooks {
  /** After each step (and its checkpoint, when one is due); a throw stops the run there. */
  onStep?: (event: TwoClassTrainEvent) => void;
  /** Stops the run after the current step, with a checkpoint of it. */
  signal?: AbortSignal;
  writeCheckpoint?: CheckpointWriter;
}

export interface TwoClassTrainResult {
  /** The trained network (the caller owns it and disposes it); in train mode. */
  network: TwoClassNetwork;
  completed: boolean;
  /** Steps done over the whole run, the step this call started at, steps of this call. */
  steps: number;
  startStep: number;
  stepsThisCall: number;
  totalSteps: number;
  /** Loss of the last step run (by this call or, on a finished resume, before it), or null. */
  lastLoss: number | null;
  checkpoint: string | null;
  log: string | null;
  seconds: number;
}

/** What the run will do, decided before any tensor is made. */
export interface TwoClassTrainPlan {
  config: TwoClassTrainConfig;
  samples: readonly Sample[];
  steps: StepPlan;
  identity: TwoClassRunIdentity;
  paths: { checkpoint: string; log: string } | null;
}

export function planTwoClassTraining(request: TwoClassTrainRequest): TwoClassTrainPlan {
  const { config, samples } = request;
  checkTwoClassTrainConfig(config);
  checkTrainingSamples(config.task, samples);
  const steps = planSteps(config, samples.length);
  const digest = createHash('sha256');
  for (const s of samples) digest.update(`${s.image}\0${s.label}\0${s.mask ?? ''}\n`);
  const identity: TwoClassRunIdentity = {
    config,
    data: { images: samples.length, anomalies: samples.filter((s) => s.label === 'anomaly').length, digest: digest.digest('hex') },
    network: { ...request.networkIdentity },
  };
  const dir = request.work === null ? null : resolve(request.work.dir);
  const paths = dir === null ? null : { checkpoint: join(dir, TWOCLASS_CHECKPOINT_FILE), log: join(dir, TWOCLASS_LOG_FILE) };
  return { config, samples, steps, identity, paths };
}

/** A run opened: network, optimiser, log, and where it starts. */
interface OpenRun {
  plan: TwoClassTrainPlan;
  network: TwoClassNetwork;
  optimizer: SGD;
  log: JsonlStepLog<TwoClassStepRecord> | null;
  startStep: number;
  lastLoss: number | null;
  dp: TwoClassDataParallel | null;
}

async function openRun(plan: TwoClassTrainPlan, request: TwoClassTrainRequest): Promise<OpenRun> {
  const { config, paths } = plan;
  const dp = request.group == null ? null : new TwoClassDataParallel(request.group);
  if (dp !== null) checkTwoClassDataParallel(config.batchSize, dp.group.worldSize, request.device, dp.group);
  const writes = dp === null || dp.writes;
  if (paths !== null && writes) {
    await mkdir(dirname(paths.checkpoint), { recursive: true });
    // What interrupted atomic writes of dead processes left beside the files (never anything else).
    for (const p of [paths.checkpoint, paths.log]) await sweepDeadTemps(p);
  }
  const saved = paths === null ? null : await readTwoClassCheckpointMeta(paths.checkpoint);
  if (saved !== null && request.work?.resume !== true) {
    throw new SpotdiffError('ERR_USAGE', `${request.work?.dir} already holds a 2-class training run (${TWOCLASS_CHECKPOINT_FILE}); resume it, or choose another work folder`);
  }
  if (saved !== null) {
    checkSameRun(saved.run, plan.identity, paths!.checkpoint);
    if (saved.step > plan.steps.totalSteps) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${paths!.checkpoint}: ${saved.step} steps done, more than the run's ${plan.steps.totalSteps}`);
  }
  T.manualSeed(hashSeed(config.seed, ['twoclass-init']));
  const network = request.createNetwork();
  let optimizer: SGD | null = null;
  try {
    optimizer = new SGD(network.parameters(), { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
    const meta = saved === null ? null : await loadTwoClassCheckpoint(paths!.checkpoint, network, optimizer);
    const startStep = meta?.step ?? 0;
    if (dp !== null) {
      // Every rank read the same checkpoint (or none); rank 0's weights are the start either way.
      dp.checkSameStart(startStep);
      dp.startFromRankZero(network);
      dp.useSyncBatchNorm(network, request.syncBatchNorm === true);
    }
    let log: JsonlStepLog<TwoClassStepRecord> | null = null;
    if (paths !== null && writes) {
      log = meta !== null ? await JsonlStepLog.resume<TwoClassStepRecord>(paths.log, startStep) : await JsonlStepLog.create<TwoClassStepRecord>(paths.log);
    }
    return { plan, network, optimizer, log, startStep, lastLoss: meta?.lastLoss ?? null, dp };
  } catch (e) {
    optimizer?.dispose();
    network.dispose();
    throw e;
  }
}

/** One optimiser step on one batch; returns the loss (the one value read back). */
function trainStep(run: OpenRun, batch: StepTensors): number {
  const { config } = run.plan;
  T.manualSeed(hashSeed(config.seed, ['twoclass-step', batch.step]));
  return T.tidy(() => {
    run.optimizer.zeroGrad();
    let { images, masks } = batch;
    if (config.augment !== null) ({ images, masks } = augmentShare(run, batch));
    const logits = run.network.forward(normalizeImages(images));
    const target = config.task === 'classifier' ? batch.labels : (masks as T.Tensor);
    const loss = twoClassLoss(config.task, config.loss, logits, target, images.shape);
    loss.backward();
    run.dp?.averageGradients(run.network);
    run.optimizer.step();
    return loss.item();
  });
}

/**
 * The step's augmentations are drawn for the whole global batch (as one process draws them);
 * a rank applies its share's.
 */
function augmentShare(run: OpenRun, batch: StepTensors): { images: T.Tensor; masks: T.Tensor | null } {
  const { config } = run.plan;
  const augment = config.augment!;
  const [, , h, w] = batch.images.shape as [number, number, number, number];
  const rng = Random.derive(config.seed, 'twoclass-augment', batch.step);
  const params = Array.from({ length: config.batchSize }, () => samplePairedAugment(rng, h, w, augment));
  const share = run.dp?.share(config.batchSize) ?? { from: 0, to: config.batchSize };
  return applyPairedAugment(batch.images, batch.masks, params.slice(share.from, share.to));
}

async function checkpoint(run: OpenRun, step: number, lastLoss: number | null, hooks: TwoClassTrainHooks): Promise<string | null> {
  const paths = run.plan.paths;
  if (paths === null || (run.dp !== null && !run.dp.writes)) return null;
  await saveTwoClassCheckpoint(paths.checkpoint, run.network, run.optimizer, { step, run: run.plan.identity, lastLoss }, hooks.writeCheckpoint);
  return paths.checkpoint;
}

/** Runs the steps from run.startStep on; returns the steps done and the last loss. */
async function runSteps(run: OpenRun, request: TwoClassTrainRequest, hooks: TwoClassTrainHooks): Promise<{ step: number; lastLoss: number | null }> {
  const { config, steps: plan, samples } = run.plan;
  let step = run.startStep;
  let lastLoss = run.lastLoss;
  if (step >= plan.totalSteps) return { step, lastLoss };
  run.network.train();
  const progress = new Progress({ total: plan.totalSteps - step, label: `2-class ${config.task}`, unit: 'step', enabled: request.quiet !== true });
  const batches = stepBatches(samples, plan, step, { task: config.task, imageSize: config.imageSize, batchSize: config.batchSize, device: request.device, cacheBytes: request.cacheBytes, share: run.dp?.share(config.batchSize) });
  let tick = performance.now();
  for await (const batch of batches) {
    const local = trainStep(run, batch);
    const agreed = run.dp?.agree(local, hooks.signal?.aborted === true) ?? { loss: local, stop: hooks.signal?.aborted === true };
    const loss = agreed.loss;
    step = batch.step + 1;
    lastLoss = loss;
    const now = performance.now();
    const record: TwoClassStepRecord = { step, epoch: plan.epochOf(batch.step), lr: config.lr, loss, imagesPerSecond: (config.batchSize * 1000) / Math.max(now - tick, 1e-3) };
    await run.log?.append(record);
    if (!Number.isFinite(loss)) {
      throw new SpotdiffError('ERR_BAD_INPUT', `the loss is ${loss} at step ${step}: training diverged; lower the learning rate (now ${config.lr}). The last checkpoint is kept`);
    }
    const stop = agreed.stop;
    const due = step % plan.checkpointEvery === 0 || step === plan.totalSteps || stop;
    const written = due ? await checkpoint(run, step, lastLoss, hooks) : null;
    progress.tick(1, `epoch ${record.epoch + 1} loss ${loss.toFixed(4)} ${record.imagesPerSecond.toFixed(1)} img/s`);
    hooks.onStep?.({ type: 'step', record, totalSteps: plan.totalSteps, checkpoint: written });
    if (stop) break;
    tick = performance.now();
  }
  progress.finish();
  return { step, lastLoss };
}

/**
 * Trains a 2-class network: a fresh run, or with request.work.resume the continuation of the
 * checkpoint in the work folder (a checkpoint of a finished run gives its network back at once).
 */
export async function trainTwoClass(request: TwoClassTrainRequest, hooks: TwoClassTrainHooks = {}): Promise<TwoClassTrainResult> {
  const started = Date.now();
  const plan = planTwoClassTraining(request);
  const previous = T.getDefaultDevice();
  T.setDefaultDevice(request.device);
  let run: OpenRun | null = null;
  try {
    run = await openRun(plan, request);
    const { step, lastLoss } = await runSteps(run, request, hooks);
    const result: TwoClassTrainResult = {
      network: run.network,
      completed: step === plan.steps.totalSteps,
      steps: step,
      startStep: run.startStep,
      stepsThisCall: step - run.startStep,
      totalSteps: plan.steps.totalSteps,
      lastLoss,
      checkpoint: plan.paths?.checkpoint ?? null,
      log: plan.paths?.log ?? null,
      seconds: (Date.now() - started) / 1000,
    };
    run.optimizer.dispose();
    return result;
  } catch (e) {
    run?.optimizer.dispose();
    run?.network.dispose();
    throw e;
  } finally {
    run?.dp?.dispose();
    T.setDefaultDevice(previous);
  }
}

import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as T from '../tensor/index.js';
import { GradScaler, SGD } from '../nn/index.js';
import { DataLoader } from '../data/loader.js';
import type { ResNetArch } from '../models/backbone-names.js';
import { isAtomicTempName } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { Random } from '../util/random.js';
import { pathExists } from '../util/fs.js';
import { spotdiffVersion } from '../util/version.js';
import type { PretrainMethod, PretrainMethodName, SpdConfig } from './method.js';
import { METHOD_DEFAULTS, scaledLr } from './defaults.js';
import { checkPretrainOptions, type PretrainOptions } from './options.js';
import { createPretrainMethod } from './create.js';
import { readPretrainData } from './data.js';
import { loadInitWeights, readInitWeights, type InitWeights } from './init-weights.js';
import { checkSameConfig, type PretrainConfig } from './run-config.js';
import { loadCheckpoint, readCheckpointMeta, saveCheckpoint, type CheckpointWriter } from './checkpoint.js';
import { LOG_FILE, StepLog, type StepRecord } from './log.js';
import { BACKBONE_FILE, exportBackbone } from './export.js';
import { scheduledLr } from './schedule.js';
import { BatchFeed } from './batch-feed.js';
import { readLoss } from './spd-term.js';
import { drawnOnCpu } from '../nn/device.js';
import { planImageCache, type CachePlan } from '../data/cache-plan.js';
import { DeviceImageStore } from '../data/device-image-store.js';
import { applyMemoryFormat, lossAt, runPrecision } from './precision.js';
import { DataParallel } from './data-parallel.js';
import type { ProcessGroup } from '../distributed/process-group.js';

export { checkPretrainOptions, type PretrainOptions } from './options.js';

/**
 * The pre-training loop: a method (SimSiam, MoCo v2, SimCLR or supervised, with or without
 * SPD) trained with momentum SGD on the normal training images of one or more datasets, a
 * checkpoint per epoch, a per-step loss log, and the backbone exported at the end.
 *
 * Reproducibility is by construction rather than by saving generator states: weights are
 * initialised after T.manualSeed(seed); epoch e visits the images in the order
 * Random.derive(seed, 'loader-epoch', e) gives; step s draws its augmentations from
 * Random.derive(seed, 'pretrain', e, s); the learning rate is a function of s. So a run resumed
 * from the checkpoint of epoch e repeats exactly what the uninterrupted run did after epoch e
 * (on CPU, bit for bit).
 */

export type PretrainEvent =
  | { type: 'step'; record: StepRecord; totalSteps: number }
  | { type: 'epoch'; epoch: number; step: number; meanLoss: number; checkpoint: string };

/** What a method is built from (the trainer's side of createPretrainMethod). */
export interface MethodRequest {
  method: PretrainMethodName;
  arch: ResNetArch;
  spd: SpdConfig;
  viewSize: number;
  /** Classes of the supervised classifier (null for the self-supervised methods). */
  numClasses: number | null;
}
export type MethodFactory = (request: MethodRequest) => PretrainMethod;

export interface PretrainHooks {
  onProgress?: (event: PretrainEvent) => void;
  /** Stops the run after the current step; the last epoch's checkpoint stays the resume point. */
  signal?: AbortSignal;
  /** Builds the method (default: createPretrainMethod); tests pass small ones. */
  createMethod?: MethodFactory;
  /** Writes the checkpoint file (default: atomic streamed safetensors); tests simulate a crash half-way. */
  writeCheckpoint?: CheckpointWriter;
  /**
   * Runs as one rank of this group (data-parallel.ts): the batch is split across the ranks,
   * gradients are averaged, rank 0 writes the files. Every rank passes the same options.
   */
  group?: ProcessGroup;
}

export interface PretrainResult {
  out: string;
  /** False when the run was stopped by the signal before its last epoch. */
  completed: boolean;
  config: PretrainConfig;
  /** Epochs checkpointed and steps run, over the whole run (resumed parts included). */
  epochs: number;
  steps: number;
  /** Steps run by this call (0 when resuming a finished run). */
  stepsThisCall: number;
  /** The epoch this call started at (0 for a fresh run). */
  startEpoch: number;
  /** Mean total loss of the last epoch run by this call, or null. */
  lastEpochLoss: number | null;
  checkpoint: string;
  log: string;
  /** The exported backbone (null when the run did not complete). */
  backbone: string | null;
  seconds: number;
  /** Where the decoded images were kept, and the bytes allowed there. */
  imageCache: CachePlan;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export function pretrainPaths(out: string): { checkpoint: string; log: string; backbone: string } {
  return { checkpoint: join(out, CHECKPOINT_FILE), log: join(out, LOG_FILE), backbone: join(out, BACKBONE_FILE) };
}

/** Removes what an interrupted atomic write of this run's files left behind (never anything else). */
async function removeStaleTemps(out: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return;
  }
  const ours = [CHECKPOINT_FILE, LOG_FILE, BACKBONE_FILE].map((f) => `.${f}.tmp-`);
  for (const n of names) {
    if (isAtomicTempName(n) && ours.some((p) => n.startsWith(p))) await rm(join(out, n), { force: true });
  }
}

/** The default method factory: the project's implementations with their published sizes. */
const defaultFactory: MethodFactory = (r) =>
  createPretrainMethod({ method: r.method, arch: r.arch, spd: r.spd, viewSize: r.viewSize, ...(r.numClasses !== null ? { numClasses: r.numClasses } : {}) });

export async function trainPretrain(options: PretrainOptions, hooks: PretrainHooks = {}): Promise<PretrainResult> {
  const started = Date.now();
  const { arch, spd } = checkPretrainOptions(options);
  const out = resolve(options.out);
  const paths = pretrainPaths(out);
  const resume = options.resume === true;
  const dp = hooks.group !== undefined && hooks.group.worldSize > 1 ? new DataParallel(hooks.group) : null;
  dp?.check(options.method, options.batchSize, T.resolveDevice(options.device ?? 'cpu'));
  const writes = dp === null || dp.writes;

  // The cheap refusals first: the out folder's state decides whether there is anything to do.
  const saved = await readCheckpointMeta(paths.checkpoint);
  if (!resume && (saved !== null || (await pathExists(paths.backbone)))) {
    throw new SpotdiffError('ERR_USAGE', `${out} already holds a pre-training run (${saved !== null ? CHECKPOINT_FILE : BACKBONE_FILE}); pass --resume to continue it, or choose another --out`);
  }
  if (resume && saved === null) {
    throw new SpotdiffError('ERR_NOT_FOUND', `nothing to resume: ${out} has no ${CHECKPOINT_FILE} (a run writes it at the end of its first epoch); start without --resume`);
  }

  if (writes) await removeStaleTemps(out);

  const data = await readPretrainData(options.data);
  const supervised = options.method === 'supervised';
  if (supervised && data.classes.length < 2) {
    throw new SpotdiffError('ERR_BAD_INPUT', `supervised pre-training needs images of at least 2 objects (the classes); the data holds only "${data.classes[0]}"`);
  }
  if (options.batchSize > data.samples.length) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `batch size ${options.batchSize} is larger than the ${data.samples.length} training images of ${options.data.join(', ')}; every step takes a full batch: lower --batch-size`,
    );
  }
  const stepsPerEpoch = Math.floor(data.samples.length / options.batchSize);

  let init: InitWeights | null = null;
  if (options.init !== undefined) init = await readInitWeights(options.init, arch);
  const defaults = METHOD_DEFAULTS[options.method];
  const config: PretrainConfig = {
    method: options.method,
    spd,
    backbone: arch,
    data: options.data.map((d) => resolve(d)),
    classes: supervised ? data.classes : null,
    init: init !== null ? { file: init.file, sha256: init.sha256 } : resume && options.init === undefined ? (saved?.config.init ?? null) : null,
    epochs: options.epochs,
    batchSize: options.batchSize,
    lr: options.lr ?? scaledLr(options.method, options.batchSize),
    momentum: defaults.momentum,
    weightDecay: defaults.weightDecay,
    schedule: defaults.schedule,
    warmupEpochs: options.warmupEpochs ?? 0,
    size: options.size ?? 224,
    seed: options.seed ?? 0,
    precision: options.precision ?? 'fp32',
    syncBatchNorm: options.syncBn ?? defaults.syncBatchNorm,
    images: data.samples.length,
    stepsPerEpoch,
  };
  if (saved !== null) checkSameConfig(saved.config, config, paths.checkpoint);

  const device = T.resolveDevice(options.device ?? 'cpu');
  const precision = runPrecision(options, device);
  const previousDevice = T.getDefaultDevice();
  T.setDefaultDevice(device);
  let method: PretrainMethod | null = null;
  let optimizer: SGD | null = null;
  let feed: BatchFeed | null = null;
  let store: DeviceImageStore | null = null;
  try {
    T.manualSeed(config.seed);
    const request = { method: config.method, arch, spd, viewSize: config.size, numClasses: supervised ? data.classes.length : null };
    // Drawn on the CPU whatever the device: one seed, one initialisation.
    method = drawnOnCpu(() => (hooks.createMethod ?? defaultFactory)(request), device, (m) => m.module);
    if (init !== null && !resume) {
      loadInitWeights(method.backbone, init);
      method.backboneLoaded?.();
    }
    optimizer = new SGD(
      method.parameterGroups().map((g) => ({ params: g.params, lr: config.lr })),
      { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay },
    );
    const fixed = method.parameterGroups().map((g) => g.fixedLr);
    applyMemoryFormat(method.module, precision);
    const scaler = new GradScaler({ enabled: options.precision === 'fp16' });

    let startEpoch = 0;
    let step = 0;
    if (resume) {
      const meta = await loadCheckpoint(paths.checkpoint, method.module, optimizer);
      startEpoch = meta.epoch;
      step = meta.step;
      if (meta.gradScaler != null && scaler.enabled) scaler.loadStateDict(meta.gradScaler);
      if (step !== startEpoch * stepsPerEpoch) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${paths.checkpoint}: ${step} steps after ${startEpoch} epochs, expected ${startEpoch * stepsPerEpoch}`);
    }
    dp?.startFromRankZero(method.module);
    dp?.useSyncBatchNorm(method.module, config.syncBatchNorm);
    if (dp !== null) method.useGroup?.(dp.group);
    const log = !writes ? null : resume ? await StepLog.resume(paths.log, step) : await StepLog.create(paths.log);
    const trained = method.parameterGroups().flatMap((g) => g.params);
    const share = dp?.loaderShard(data.samples.length, config.batchSize, config.seed);

    const totalSteps = config.epochs * stepsPerEpoch;
    const imageCache = planImageCache({
      place: options.cacheOn ?? 'auto',
      device,
      images: data.samples.length,
      imageBytes: DeviceImageStore.bytesFor(1, config.size, config.size),
      ...(options.cacheMb !== undefined ? { limitBytes: options.cacheMb * 2 ** 20 } : {}),
      deviceMemory: () => T.cudaMemoryInfo(device),
    });
    const loader = new DataLoader(data.samples, {
      batchSize: share?.batchSize ?? config.batchSize,
      ...(share !== undefined ? { shard: share.shard } : {}),
      // The augmentations work on [0, 1] images; the method normalises its views.
      preprocess: { resize: [config.size, config.size], normalize: null },
      shuffle: true,
      seed: config.seed,
      dropLast: true,
      cacheBytes: imageCache.place === 'host' ? imageCache.bytes : 0,
    });
    if (imageCache.place === 'device') store = new DeviceImageStore(device, data.samples.length, config.size, config.size);
    feed = new BatchFeed(loader, device, supervised ? data.classOf : null, store);
    const progress = new Progress({ total: totalSteps - step, label: `${config.method} ${config.backbone}`, unit: 'step', enabled: options.quiet !== true && step < totalSteps && writes });
    let lastEpochLoss: number | null = null;
    let epochsDone = startEpoch;
    let stepsThisCall = 0;
    let stopped = false;
    let tick = performance.now();
    for (let epoch = startEpoch; epoch < config.epochs && !stopped; epoch++) {
      method.module.train();
      let lossSum = 0;
      let stepsInEpoch = 0;
      for await (const { samples, images, labels } of feed.epoch(epoch)) {
        const lr = scheduledLr(config, step);
        optimizer.paramGroups.forEach((g, i) => (g.lr = fixed[i] ? config.lr : lr));
        const rng = dp?.stepRng(config.seed, epoch, step) ?? Random.derive(config.seed, 'pretrain', epoch, step);
        const m = method;
        const opt = optimizer;
        const local = T.tidy(() => {
          opt.zeroGrad();
          const loss = lossAt(m, m.makeViews(images, labels, rng), precision);
          scaler.scale(loss.total).backward();
          dp?.averageGradients(trained);
          scaler.step(opt);
          scaler.update();
          m.afterStep();
          return readLoss(loss);
        });
        // Every rank logs the global batch's mean loss and stops at the same step.
        const agreed = dp?.agree(local, hooks.signal?.aborted === true);
        const losses = agreed === undefined ? local : { total: agreed.total, base: agreed.base, spd: agreed.spd };
        step++;
        stepsThisCall++;
        const now = performance.now();
        const record: StepRecord = { step, epoch, lr, ...losses, imagesPerSecond: (samples.length * (dp?.group.worldSize ?? 1) * 1000) / Math.max(now - tick, 1e-3) };
        tick = now;
        await log?.append(record);
        if (!Number.isFinite(losses.total)) {
          throw new SpotdiffError('ERR_BAD_INPUT', `the loss is ${losses.total} at step ${step} (epoch ${epoch + 1}): training diverged; lower --lr (now ${config.lr}). The checkpoint of the last finished epoch is kept`);
        }
        lossSum += losses.total;
        stepsInEpoch++;
        progress.tick(1, `epoch ${epoch + 1}/${config.epochs} loss ${losses.total.toFixed(4)} ${record.imagesPerSecond.toFixed(1)} img/s`);
        hooks.onProgress?.({ type: 'step', record, totalSteps });
        if (agreed?.stop ?? hooks.signal?.aborted) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      lastEpochLoss = lossSum / stepsInEpoch;
      if (writes) await saveCheckpoint(
        paths.checkpoint,
        method.module,
        optimizer,
        { spotdiffVersion: spotdiffVersion(), epoch: epoch + 1, step, config, lastEpochLoss, gradScaler: scalerRecord(scaler) },
        hooks.writeCheckpoint,
      );
      epochsDone = epoch + 1;
      hooks.onProgress?.({ type: 'epoch', epoch, step, meanLoss: lastEpochLoss, checkpoint: paths.checkpoint });
      // Data-parallel ranks agree on stopping at the next step instead (they must stop together).
      if (dp === null && hooks.signal?.aborted) stopped = true;
      tick = performance.now(); // the checkpoint's write is not the next step's time
    }
    progress.finish();
    const completed = step === totalSteps;
    if (completed && writes) {
      await exportBackbone(method.backbone, paths.backbone, config, { epochs: config.epochs, steps: step, spotdiffVersion: spotdiffVersion() });
    }
    return {
      out,
      completed,
      config,
      epochs: epochsDone,
      steps: step,
      stepsThisCall,
      startEpoch,
      lastEpochLoss,
      checkpoint: paths.checkpoint,
      log: paths.log,
      backbone: completed ? paths.backbone : null,
      seconds: (Date.now() - started) / 1000,
      imageCache,
    };
  } finally {
    dp?.dispose();
    optimizer?.dispose();
    method?.module.dispose();
    feed?.dispose();
    store?.dispose();
    T.setDefaultDevice(previousDevice);
  }
}

/** What a checkpoint keeps of the loss scaler (null when it is off: fp32, bf16). */
function scalerRecord(scaler: GradScaler): { scale: number; growthTracker: number } | null {
  if (!scaler.enabled) return null;
  const { scale, growthTracker } = scaler.stateDict();
  return { scale, growthTracker };
}

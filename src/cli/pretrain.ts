import { join } from 'node:path';
import type { Command } from './command.js';
import { MAX_IMAGE_SIDE, intFlag, numberFlag, parseFlags } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainOptions } from '../pretrain/options.js';
import type { PretrainMethodName, SpdConfig } from '../pretrain/method.js';
import { precisionFlag } from './precision-flag.js';
import { LAUNCH_FLAGS, LAUNCH_USAGE, checkLaunchDevice, joinLaunchedGroup, launchFlags, launchedWorkerDevice, runLauncher } from './launch-flags.js';
import { CACHE_PLACES, type CachePlace, type CachePlan } from '../data/cache-plan.js';

const usage = `usage: spotdiff pretrain --method simsiam|moco|simclr|supervised
                         [--spd ETA] [--spd-negative smoothblend|cutpaste]
                         [--spd-objective cosine|cross-entropy]
                         --data DIR [--data DIR2 ...]
                         --backbone resnet18|resnet50|wide_resnet50_2 [--init WEIGHTS]
                         --epochs N --batch-size B [--lr X] [--warmup-epochs W]
                         [--size 224] [--seed S] [--device cpu|cuda|auto]
                         [--precision fp32|bf16|fp16] [--channels-last] [--cache-mb M] [--cache-on P]
                         --out DIR [--resume] [--json] [--quiet]
                         [--nproc N [--nnodes M --node-rank R --master ADDR:PORT]]
                         [--sync-bn on|off]

Pre-trains a backbone with SimSiam, MoCo v2, SimCLR or supervised classification of the
objects, with SPD (SPot-the-Difference) as a regulariser. Each --data folder is one of:
  - a dataset (prepared VisA/MVTec layout, raw VisA, or a folder layout): its normal
    training images; test images and anomalies are never used; the class is the object;
  - any other folder of images (png, jpg, jpeg, bmp, tif, tiff, webp; hidden names
    skipped): every image at any depth. Class folders (ImageNet style: no images at the
    top, images in sub-folders) give the classes for supervised, sorted by name; a plain
    folder is one class, named after the folder.
It writes in the --out DIR:

  backbone.safetensors  the trained ResNet with torchvision's names (fc included), for
                        spotdiff fit --weights DIR/backbone.safetensors
  checkpoint.safetensors  network and optimiser state after the last finished epoch,
                        replaced atomically each epoch
  log.jsonl             one line per step: step, epoch, lr, total, base, spd, imagesPerSecond

  --spd ETA             weight of the SPD loss (default 0.1, the paper's; 0 turns SPD off)
  --spd-negative        how SPD's negative is made (default smoothblend)
  --spd-objective       cosine (default) or cross-entropy (always for supervised)
  --init WEIGHTS        start from these weights (torchvision .pth or safetensors, e.g.
                        ImageNet weights); their fc is not used. Default: seeded random init
  --lr X                peak learning rate (default: the method's base rate × B/256:
                        SimSiam 0.05, MoCo v2 0.03, SimCLR 0.3, supervised 0.1)
  --warmup-epochs W     linear warm-up from 0 over the first W epochs (default 0)
  --size N              images are resized to N×N, the views are N×N (default 224)
  --device D            cpu (default), cuda, cuda:N, or auto
  --precision P         fp32 (default, the reference); bf16: forward and loss under
                        libtorch autocast in bfloat16 (CPU and CUDA); fp16: autocast in
                        float16 with dynamic loss scaling (CUDA only)
  --channels-last       model weights and views in channels_last memory format (same
                        values; faster convolutions on recent GPUs and oneDNN)
  --cache-mb M          MiB of images kept decoded at --size for later epochs, which then
                        decode nothing (default: a quarter of the free memory; 0: decode
                        every epoch); images past it are decoded each time they are used.
                        Results do not depend on it
  --cache-on P          where the decoded images are kept: auto (default: in GPU memory
                        when the whole set takes at most a quarter of what is free, else
                        host memory), host, or device (every image on the --device; later
                        epochs gather their batches there and copy nothing). Results do
                        not depend on it
  --resume              continue the run in DIR from its checkpoint; options left out
                        are taken from the checkpoint, options given must match it
${LAUNCH_USAGE}
                        (every method, on the CPU; --batch-size is the total over all
                        processes). MoCo's queue takes every process's keys and its key
                        encoder sees a batch shuffled across processes (shuffling BN);
                        SimCLR's negatives are the whole batch's
  --sync-bn on|off      with --nproc: BatchNorm over the whole batch of all processes
                        (SyncBatchNorm) or over each process's share. Default: the
                        method's recipe: on for SimSiam (its official code) and SimCLR
                        (the paper's global BN); off for MoCo v2 (shuffling BN instead)
                        and supervised (torchvision's reference). On, a step equals one
                        process's step on the whole batch

Momentum SGD (momentum and weight decay as the method's published recipe), cosine
schedule over all steps (supervised: ×0.1 every 30 epochs); every step is a full batch.
With the same seed, a run stopped (Ctrl-C) and resumed gives the same losses as one that
was not stopped: the checkpoint of the last finished epoch is the resume point.`;

const METHODS = ['simsiam', 'moco', 'simclr', 'supervised'];

export const command: Command = {
  summary: 'pre-train a backbone (SimSiam, MoCo v2, SimCLR or supervised, with SPD) and export it',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      method: { type: 'string' },
      spd: { type: 'string' },
      'spd-negative': { type: 'string' },
      'spd-objective': { type: 'string' },
      data: { type: 'string', multiple: true },
      backbone: { type: 'string' },
      init: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'warmup-epochs': { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      device: { type: 'string' },
      precision: { type: 'string' },
      'channels-last': { type: 'boolean' },
      'cache-mb': { type: 'string' },
      'cache-on': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'sync-bn': { type: 'string' },
      ...LAUNCH_FLAGS,
    });
    const launch = launchFlags(values);
    if (values.out === undefined || values.out === '') throw new SpotdiffError('ERR_USAGE', '--out is required');
    const resume = values.resume === true;
    if (values.method !== undefined && !METHODS.includes(values.method)) throw new SpotdiffError('ERR_USAGE', `--method must be one of ${METHODS.join(', ')}, got "${values.method}"`);
    const negative = values['spd-negative'];
    if (negative !== undefined && negative !== 'smoothblend' && negative !== 'cutpaste') throw new SpotdiffError('ERR_USAGE', `--spd-negative must be smoothblend or cutpaste, got "${negative}"`);
    const syncBn = values['sync-bn'];
    if (syncBn !== undefined && syncBn !== 'on' && syncBn !== 'off') throw new SpotdiffError('ERR_USAGE', `--sync-bn must be on or off, got "${syncBn}"`);
    const objective = values['spd-objective'];
    if (objective !== undefined && objective !== 'cosine' && objective !== 'cross-entropy') throw new SpotdiffError('ERR_USAGE', `--spd-objective must be cosine or cross-entropy, got "${objective}"`);

    // On resume, what is not given comes from the checkpoint's config (read from its header alone).
    const { readCheckpointMeta } = await import('../pretrain/checkpoint-meta.js');
    const checkpoint = join(values.out, 'checkpoint.safetensors');
    const saved = resume ? ((await readCheckpointMeta(checkpoint))?.config ?? null) : null;
    if (resume && saved === null) {
      throw new SpotdiffError('ERR_NOT_FOUND', `nothing to resume: ${values.out} has no checkpoint.safetensors (a run writes it at the end of its first epoch); start without --resume`);
    }
    const need = <V>(v: V | undefined, flag: string, fromCheckpoint: V | undefined): V => {
      if (v !== undefined) return v;
      if (fromCheckpoint !== undefined) return fromCheckpoint;
      throw new SpotdiffError('ERR_USAGE', `--${flag} is required`);
    };
    const spd: Partial<SpdConfig> = { ...(saved?.spd ?? {}) };
    if (values.spd !== undefined) spd.eta = numberFlag(values.spd, 'spd', 0, { min: 0, max: 100 });
    if (negative !== undefined) spd.negative = negative;
    if (objective !== undefined) spd.objective = objective;
    const optionalInt = (flag: string, min: number, max: number, fromCheckpoint: number | undefined): number | undefined =>
      values[flag as keyof typeof values] !== undefined ? intFlag(values[flag as keyof typeof values] as string, flag, 0, min, max) : fromCheckpoint;

    const options: PretrainOptions = {
      method: need(values.method as PretrainMethodName | undefined, 'method', saved?.method),
      spd,
      data: need(values.data, 'data', saved?.data),
      backbone: need(values.backbone, 'backbone', saved?.backbone),
      init: values.init,
      epochs: need(optionalInt('epochs', 1, 100_000, saved?.epochs), 'epochs', undefined),
      batchSize: need(optionalInt('batch-size', 2, 4096, saved?.batchSize), 'batch-size', undefined),
      lr: values.lr !== undefined ? numberFlag(values.lr, 'lr', 0, { above: 0, max: 100 }) : saved?.lr,
      warmupEpochs: optionalInt('warmup-epochs', 0, 100_000, saved?.warmupEpochs),
      size: optionalInt('size', 32, MAX_IMAGE_SIDE, saved?.size),
      seed: optionalInt('seed', 0, Number.MAX_SAFE_INTEGER, saved?.seed),
      out: values.out,
      resume,
      device: values.device ?? 'cpu',
      precision: precisionFlag(values.precision ?? saved?.precision, values.device ?? 'cpu'),
      channelsLast: values['channels-last'] === true,
      ...(values['cache-mb'] !== undefined ? { cacheMb: intFlag(values['cache-mb'], 'cache-mb', 0, 0, 2 ** 32) } : {}),
      ...(values['cache-on'] !== undefined ? { cacheOn: cacheOnFlag(values['cache-on']) } : {}),
      quiet: values.quiet === true || values.json === true,
      ...(syncBn !== undefined ? { syncBn: syncBn === 'on' } : saved?.syncBatchNorm !== undefined ? { syncBn: saved.syncBatchNorm } : {}),
    };
    const { checkPretrainOptions } = await import('../pretrain/options.js');
    checkPretrainOptions(options);
    // The launcher starts the workers (each this same command, with its rank in the environment).
    if (launch !== null && process.env.RANK === undefined) {
      const { checkDataParallel } = await import('../pretrain/data-parallel.js');
      const { resolveDevice } = await import('../tensor/device.js');
      const device = options.device === 'auto' ? resolveDevice('auto') : (options.device ?? 'cpu');
      checkDataParallel(options.method, options.batchSize, launch.nproc * launch.nnodes, device);
      await checkLaunchDevice(device, launch);
      return runLauncher('pretrain', argv, launch);
    }
    // A worker on CUDA takes its own GPU and averages through NCCL.
    if (launch !== null) options.device = await launchedWorkerDevice(options.device === 'auto' ? (await import('../tensor/device.js')).resolveDevice('auto') : (options.device ?? 'cpu'));
    const group = launch !== null ? await joinLaunchedGroup({ device: options.device ?? 'cpu' }) : null;

    const { trainPretrain } = await import('../pretrain/trainer.js');
    // Ctrl-C stops after the current step; the last finished epoch's checkpoint is the resume point.
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nspotdiff: stopping after this step (Ctrl-C again to quit now); resume with --resume\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    let result;
    try {
      result = await trainPretrain(options, { signal: controller.signal, ...(group !== null ? { group } : {}) });
    } finally {
      process.off('SIGINT', onSigint);
      group?.destroy();
    }
    // The first process speaks for the job.
    if (group !== null && group.rank !== 0) return result.completed ? 0 : 1;
    if (values.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else if (result.completed && result.stepsThisCall === 0) {
      process.stdout.write(`the run in ${result.out} had already finished its ${result.config.epochs} epochs; wrote ${result.backbone} again\n`);
    } else if (result.completed) {
      const c = result.config;
      process.stdout.write(
        `wrote ${result.backbone}: ${c.method}${c.spd.eta > 0 ? ` + SPD (η ${c.spd.eta}, ${c.spd.negative}, ${c.spd.objective})` : ''} ${c.backbone}, ` +
          `${c.epochs} epochs × ${c.stepsPerEpoch} steps of ${c.batchSize} images in ${result.seconds.toFixed(1)} s` +
          `${result.lastEpochLoss !== null ? `, last epoch's mean loss ${result.lastEpochLoss.toFixed(4)}` : ''}\n` +
          `  use it with: spotdiff fit --backbone ${c.backbone} --weights ${result.backbone} ...\n` +
          `  decoded images were kept ${cacheWhere(result.imageCache, options.device ?? 'cpu')}\n`,
      );
    } else if (result.epochs > 0) {
      process.stdout.write(`stopped after ${result.steps} steps; ${result.checkpoint} holds epoch ${result.epochs} of ${result.config.epochs}: continue with --resume\n`);
    } else {
      process.stdout.write(`stopped after ${result.steps} steps, before the first epoch ended: there is no checkpoint to resume from\n`);
    }
    return result.completed ? 0 : 1;
  },
};

function cacheOnFlag(v: string): CachePlace {
  if (!(CACHE_PLACES as readonly string[]).includes(v)) throw new SpotdiffError('ERR_USAGE', `--cache-on must be ${CACHE_PLACES.join(', ')}, got "${v}"`);
  return v as CachePlace;
}

function cacheWhere(plan: CachePlan, device: string): string {
  const mib = `${Math.round(plan.bytes / 2 ** 20)} MiB`;
  if (plan.place === 'device') return `on ${device} (${mib})`;
  return plan.bytes > 0 ? `in host memory (up to ${mib})` : 'nowhere (--cache-mb 0: every epoch decodes)';
}

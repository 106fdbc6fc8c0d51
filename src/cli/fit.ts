import type { Command } from './command.js';
import { intFlag, MAX_IMAGE_SIDE, numberFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { deviceFlag } from './device-flag.js';
import { methodChoices, methodFlag, methodList } from './method-flag.js';
import { methodOptionFlagSpec, methodOptionsFromFlags } from './method-options.js';
import { defaultWorkFolder, removeWorkFolder } from './work-folder.js';
import { LAUNCH_FLAGS, LAUNCH_USAGE, checkLaunchDevice, joinLaunchedGroup, launchFlags, launchedWorkerDevice, runLauncher } from './launch-flags.js';

const usage = `usage: spotdiff fit --method ${methodChoices()} --data DIR [--object NAME]
                    --backbone resnet18|resnet50|wide_resnet50_2 [--weights FILE]
                    [--size N] [--tile SIZE[:OVERLAP]] [--seed S] [--coreset-ratio R]
                    [--protocol high-shot|few-shot] [--shots K] [--run I] [--epochs N]
                    [--iterations N] [--lr X] [--loss cross-entropy|focal] [--gamma G]
                    [--alpha A|none] [--image-score max|top-k-mean] [--top-k N]
                    [--work DIR] [--resume]
                    [--nproc N [--nnodes M --node-rank R --master ADDR:PORT]] [--sync-bn on|off]
                    [--quantile Q] [--device cpu|cuda|auto] --out MODEL [--json]

Fits an anomaly detector on the train split (prepared VisA/MVTec layout, raw VisA, or a
folder layout; one-class methods fit on its normal images, two-class methods on its normal
and anomalous ones, e.g. a 2cls_highshot or 2cls_fewshot preparation) and writes a model
folder MODEL (model.json + weights.safetensors, backbone included), atomically: an
interrupted fit leaves the previous model whole. MODEL must be new, an empty folder, or a
model folder from an earlier fit (which is replaced); a file or a folder holding anything
else is refused before fitting.

Methods:
${methodList()}

The threshold is chosen on a seeded validation part held out of the train normals (10%,
at least one image): the Q quantile (default 0.99) of their scores, or the F1-optimal point
when the train split holds labelled anomalous images (two-class methods: 10% of those are held
out too, at least one, and the rest are fitted on). Test data is never read.

  --weights FILE  torchvision .pth or safetensors backbone weights. Without it the backbone
                  is randomly initialised (seeded): results need pretrained weights.
  --size N        images are resized to N×N (default 224; with --tile: no resize unless given)
  --tile SIZE[:OVERLAP]
                  for images larger than the model's input: fit on overlapping SIZE×SIZE
                  tiles (SIZE is the model's input size), neighbours sharing at least OVERLAP
                  px (or N%; default 25%). Eval and predict then score by the same tiles and
                  stitch their maps into one full-resolution map (image score = its maximum).
  --coreset-ratio R
                  patchcore: the share of training patches kept in the memory bank (default 0.1)

Two-class methods (classifier, segmenter; trained with SGD, momentum 0.9, on whole images
at --size, batch 8, with flips, crops and colour jitter):
  --protocol P    high-shot (default: 80 epochs over the train images) or few-shot (K
                  normal and K anomalous train images, 1000 iterations for the classifier,
                  500 for the segmenter); the paper's protocols
  --shots K       few-shot: images per class (required with few-shot)
  --run I         few-shot: which seeded K-shot draw (default 0; the paper averages 5)
  --epochs N      high-shot length;  --iterations N  few-shot length
  --lr X          learning rate (default 1e-4, the paper's; random-init weights need more)
  --loss L        classifier: cross-entropy (default) or focal; segmenter: focal (sigmoid)
  --gamma G, --alpha A|none
                  focal loss parameters (default 2 and, segmenter 0.25, classifier none;
                  segmenter --gamma 0 --alpha none is plain BCE)
  --image-score R segmenter: the map's max (default) or top-k-mean of its --top-k N
                  highest pixels (default 100)
  --work DIR      checkpoints (every epoch, or every 100 iterations) and log.jsonl (loss
                  per step) go here; default MODEL.work beside MODEL, removed once MODEL
                  is saved (a --work DIR you name is kept)
  --resume        continue the interrupted fit whose checkpoint is in the work folder (the
                  same options and data give the same model as an uninterrupted fit)
  --device D      where the backbone and the detector run: cpu (default), cuda, cuda:N or
                  auto (CUDA when there is one). The model folder does not depend on it.

Data-parallel training (two-class methods, on the CPU): each step's batch of 8 is split
evenly across the processes (N must divide it), so the run takes the same steps as one
process. BatchNorm statistics stay per process (as torch DDP; the paper does not say)
unless --sync-bn on normalises over the whole batch of all processes (SyncBatchNorm; then
the steps equal one process's). The first process writes the checkpoints and the log and,
after training, scores the validation part and saves MODEL; --resume continues every
process from the work folder's checkpoint (across machines, a folder they all read).
${LAUNCH_USAGE}`;

/** The batch the fit glue trains with (FitRequest.batchSize's default), split across --nproc processes. */
const TWO_CLASS_BATCH = 8;

export const command: Command = {
  summary: 'fit a detector (PaDiM, PatchCore; a 2-class classifier or U-Net segmenter) on training images and save a model folder',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      method: { type: 'string' },
      data: { type: 'string' },
      object: { type: 'string' },
      backbone: { type: 'string' },
      weights: { type: 'string' },
      size: { type: 'string' },
      tile: { type: 'string' },
      seed: { type: 'string' },
      ...methodOptionFlagSpec(),
      work: { type: 'string' },
      resume: { type: 'boolean' },
      quantile: { type: 'string' },
      device: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      ...LAUNCH_FLAGS,
    });
    const launch = launchFlags(values);
    const device = await deviceFlag(values.device);
    const method = methodFlag(requireFlag(values.method, 'method'));
    const backbone = requireFlag(values.backbone, 'backbone');
    const { checkArch } = await import('../models/backbone.js');
    checkArch(backbone);
    const seed = intFlag(values.seed, 'seed', 0, 0);
    const { parseTileSpec } = await import('../detect/common/tiling.js');
    const tile = values.tile === undefined ? null : parseTileSpec(values.tile);
    if (tile !== null && (tile.size < 32 || tile.size > MAX_IMAGE_SIDE)) throw new SpotdiffError('ERR_USAGE', `--tile SIZE must be from 32 to ${MAX_IMAGE_SIDE} px, got ${tile.size}`);
    const size = values.size === undefined && tile !== null ? undefined : intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE);
    const quantile = numberFlag(values.quantile, 'quantile', 0.99, { min: 0, max: 1 });
    const options = methodOptionsFromFlags(method, values);
    const out = requireFlag(values.out, 'out');
    if (method.kind !== 'two-class' && (values.work !== undefined || values.resume === true)) throw new SpotdiffError('ERR_USAGE', `--work and --resume are for the two-class methods; ${method.name} fits in one pass`);
    const work = method.kind === 'two-class' ? { dir: values.work ?? defaultWorkFolder(out), resume: values.resume === true } : undefined;
    const data = requireFlag(values.data, 'data');
    // A launched worker leaves the warning to the launcher.
    if (values.weights === undefined && process.env.RANK === undefined) {
      process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); results need pretrained weights\n`);
    }
    if (launch !== null && method.kind !== 'two-class') throw new SpotdiffError('ERR_USAGE', `--nproc is for the two-class methods; ${method.name} fits in one pass`);
    // The launcher starts the workers (each this same command, with its rank in the environment).
    if (launch !== null && process.env.RANK === undefined) {
      const { checkTwoClassDataParallel } = await import('../detect/twoclass/data-parallel.js');
      const { resolveDevice } = await import('../tensor/device.js');
      checkTwoClassDataParallel(TWO_CLASS_BATCH, launch.nproc * launch.nnodes, resolveDevice(device));
      await checkLaunchDevice(resolveDevice(device), launch);
      return runLauncher('fit', argv, launch);
    }
    // A worker on CUDA takes its own GPU and averages through NCCL.
    const rankDevice = launch !== null ? await launchedWorkerDevice(device) : device;
    const group = launch !== null ? await joinLaunchedGroup({ device: rankDevice }) : null;
    const { fitModelOnRank } = await import('../detect/run/fit.js');
    const quiet = values.quiet === true || values.json === true || (group !== null && group.rank !== 0);
    let fitted;
    try {
      fitted = await fitModelOnRank({ method: method.name, data, object: values.object, backbone, weights: values.weights, size, tile, seed, quantile, options, work, out, quiet, device: rankDevice, batchSize: TWO_CLASS_BATCH }, group);
    } finally {
      group?.destroy();
    }
    // The first process speaks for the job (and saved MODEL); the others are done.
    if (fitted === null) return 0;
    const { manifest } = fitted;
    // The default work folder is scratch for an interrupted fit; once MODEL is saved it goes.
    if (work !== undefined && values.work === undefined) await removeWorkFolder(work.dir);
    if (values.json) process.stdout.write(JSON.stringify({ out, method: method.name, object: manifest.training.object, tiling: manifest.tiling ?? null, threshold: manifest.threshold, training: manifest.training }, null, 2) + '\n');
    else {
      process.stdout.write(
        `wrote ${out}: ${method.name} on ${manifest.training.object} (${manifest.training.fitImages} images${tile === null ? '' : ` in ${tile.size} px tiles, overlap ≥ ${tile.overlap} px`}, ${manifest.training.validationImages} held out) in ${manifest.training.seconds.toFixed(1)} s\n` +
          `  threshold ${manifest.threshold.value.toPrecision(5)}: ${manifest.threshold.source}\n`,
      );
    }
    return 0;
  },
};

import type { Command } from './command.js';
import { intFlag, MAX_IMAGE_SIDE, numberFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { deviceFlag } from './device-flag.js';
import { methodChoices, methodFlag, methodList } from './method-flag.js';

const usage = `usage: spotdiff fit --method ${methodChoices()} --data DIR [--object NAME]
                    --backbone resnet18|resnet50|wide_resnet50_2 [--weights FILE]
                    [--size N] [--tile SIZE[:OVERLAP]] [--seed S] [--coreset-ratio R]
                    [--quantile Q] [--device cpu|cuda|auto] --out MODEL [--json]

Fits an anomaly detector on the train split (prepared VisA/MVTec layout, raw VisA, or a
folder layout; one-class methods fit on its normal images) and writes a model folder MODEL
(model.json + weights.safetensors, backbone included), atomically: an interrupted fit leaves
the previous model whole. MODEL must be new, an empty folder, or a model folder from an earlier fit (which
is replaced); a file or a folder holding anything else is refused before fitting.

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
  --device D      where the backbone and the detector run: cpu (default), cuda, cuda:N or
                  auto (CUDA when there is one). The model folder does not depend on it.`;

export const command: Command = {
  summary: 'fit a detector (PaDiM, PatchCore, ...) on training images and save a model folder',
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
      'coreset-ratio': { type: 'string' },
      quantile: { type: 'string' },
      device: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
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
    const options: Record<string, unknown> = {};
    if (values['coreset-ratio'] !== undefined) {
      if (!method.optionKeys.includes('coresetRatio')) throw new SpotdiffError('ERR_USAGE', `--coreset-ratio is not an option of ${method.name}`);
      options['coresetRatio'] = numberFlag(values['coreset-ratio'], 'coreset-ratio', 0.1, { above: 0, max: 1 });
    }
    const out = requireFlag(values.out, 'out');
    const data = requireFlag(values.data, 'data');
    if (values.weights === undefined) {
      process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); results need pretrained weights\n`);
    }
    const { fitModel } = await import('../detect/run/fit.js');
    const quiet = values.quiet === true || values.json === true;
    const { manifest } = await fitModel({ method: method.name, data, object: values.object, backbone, weights: values.weights, size, tile, seed, quantile, options, out, quiet, device });
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

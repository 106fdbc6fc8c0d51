import type { Command } from './command.js';
import { intFlag, numberFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff fit --method padim|patchcore --data DIR [--object NAME]
                    --backbone resnet18|resnet50|wide_resnet50_2 [--weights FILE]
                    [--size N] [--seed S] [--coreset-ratio R] [--quantile Q] --out MODEL [--json]

Fits an anomaly detector on the normal images of the train split (prepared VisA/MVTec
layout, raw VisA, or a folder layout) and writes a model folder MODEL (model.json +
weights.safetensors, backbone included), atomically.

The threshold is chosen on a seeded validation part held out of the train normals (10%,
at least one image): the Q quantile (default 0.99) of their scores, or the F1-optimal point
when the train split holds labelled anomalous images. Test data is never read.

  --weights FILE  torchvision .pth or safetensors backbone weights. Without it the backbone
                  is randomly initialised (seeded): results need pretrained weights.
  --size N        images are resized to N×N (default 224)`;

export const command: Command = {
  summary: 'fit PaDiM or PatchCore on normal training images and save a model folder',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      method: { type: 'string' },
      data: { type: 'string' },
      object: { type: 'string' },
      backbone: { type: 'string' },
      weights: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      'coreset-ratio': { type: 'string' },
      quantile: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const method = requireFlag(values.method, 'method');
    if (method !== 'padim' && method !== 'patchcore') throw new SpotdiffError('ERR_USAGE', `--method must be padim or patchcore, got "${method}"`);
    const backbone = requireFlag(values.backbone, 'backbone');
    const { checkArch } = await import('../detect/run/backbone.js');
    checkArch(backbone);
    const seed = intFlag(values.seed, 'seed', 0, 0);
    if (values.weights === undefined) {
      process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); results need pretrained weights\n`);
    }
    const { fitModel } = await import('../detect/run/fit.js');
    const { manifest, out } = await fitModel({
      method,
      data: requireFlag(values.data, 'data'),
      object: values.object,
      backbone,
      weights: values.weights,
      size: intFlag(values.size, 'size', 224, 32),
      seed,
      quantile: numberFlag(values.quantile, 'quantile', 0.99),
      coresetRatio: numberFlag(values['coreset-ratio'], 'coreset-ratio', 0.1),
      out: requireFlag(values.out, 'out'),
      quiet: values.quiet === true || values.json === true,
    });
    if (values.json) process.stdout.write(JSON.stringify({ out, method, object: manifest.training.object, threshold: manifest.threshold, training: manifest.training }, null, 2) + '\n');
    else {
      process.stdout.write(
        `wrote ${out}: ${method} on ${manifest.training.object} (${manifest.training.fitImages} images, ${manifest.training.validationImages} held out) in ${manifest.training.seconds.toFixed(1)} s\n` +
          `  threshold ${manifest.threshold.value.toPrecision(5)}: ${manifest.threshold.source}\n`,
      );
    }
    return 0;
  },
};

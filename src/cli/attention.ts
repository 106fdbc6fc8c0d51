import type { Command } from './command.js';
import { intFlag, MAX_IMAGE_SIDE, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { ATTENTION_LAYERS, checkAttentionLayer, DEFAULT_ATTENTION_LAYER } from '../attention/layers.js';

const usage = `usage: spotdiff attention --backbone resnet18|resnet50|wide_resnet50_2 [--weights FILE]
                          --data DIR [--object NAME] IMAGE... --out DIR
                          [--layer ${ATTENTION_LAYERS.join('|')}] [--size N] [--json]

Attention maps (the SPD paper's Fig. 11): for each IMAGE, its nearest normal image in DIR (by
cosine of pooled embeddings), then GradCAM of the negative cosine similarity between the two
embeddings at --layer: channel weights = spatially averaged gradients, map = ReLU(Σ w·A),
upsampled bilinearly to the image's size and normalised to [0, 1]. Writes
DIR/<image>-attention.png (turbo heatmap over the image, at the image's size) and
DIR/attention.json.

  --data DIR    normal images: a folder holding them, or a dataset (its train normals)
  --weights     torchvision .pth or safetensors (also a fine-tuned backbone from
                spotdiff finetune-fewshot --save-backbone); without it: random init
  --layer L     default ${DEFAULT_ATTENTION_LAYER}: at layer4 the gradient of a globally pooled embedding is
                the same at every position, so GradCAM degenerates to a channel weighting of
                a 7×7 grid; layer3's gradient varies over a 14×14 grid (at 224 px)
  --size N      network input N×N (default 224)`;

export const command: Command = {
  summary: 'GradCAM attention maps of images against their nearest normal image',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        backbone: { type: 'string' },
        weights: { type: 'string' },
        data: { type: 'string' },
        object: { type: 'string' },
        out: { type: 'string' },
        layer: { type: 'string' },
        size: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      true,
    );
    const backbone = requireFlag(values.backbone, 'backbone');
    const data = requireFlag(values.data, 'data');
    const out = requireFlag(values.out, 'out');
    const layer = checkAttentionLayer(values.layer ?? DEFAULT_ATTENTION_LAYER);
    if (positionals.length === 0) throw new SpotdiffError('ERR_USAGE', 'give at least one IMAGE to explain');
    const { checkArch } = await import('../models/backbone.js');
    checkArch(backbone);
    const seed = intFlag(values.seed, 'seed', 0, 0);
    if (values.weights === undefined) {
      process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); attention maps need pretrained weights\n`);
    }
    const { runAttention } = await import('../attention/run.js');
    const result = await runAttention({
      backbone,
      weights: values.weights,
      data,
      object: values.object,
      images: positionals,
      out,
      layer,
      size: intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE),
      seed,
      quiet: values.quiet === true || values.json === true,
    });
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      for (const r of result.images) process.stdout.write(`${r.overlay}  (nearest normal ${r.nearestNormal}, cosine ${r.cosine.toFixed(3)})\n`);
      process.stdout.write(`${result.images.length} attention map${result.images.length === 1 ? '' : 's'} at ${result.layer} against ${result.normals} normal images\n`);
    }
    return 0;
  },
};

import type { Command } from './command.js';
import { intFlag, parseFlags } from './args.js';

const usage = `usage: spotdiff demo [--seed S] [--size N] [--json]

INTERIM DEMO (until the anomaly-detection demo exists): draws one synthetic product
image (the pills object of \`spotdiff synth\`), runs a randomly initialised ResNet-18 on
it with the same preprocessing as \`spotdiff features\`, and prints the shapes and
statistics of its layer2 and layer3 feature maps. It shows the image pipeline and the
libtorch engine working end to end; the numbers mean nothing without pretrained weights.`;

interface LayerStats {
  shape: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
}

function stats(shape: number[], v: Float32Array): LayerStats {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    sum += x;
    sq += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / v.length;
  return { shape, mean, std: Math.sqrt(Math.max(0, sq / v.length - mean * mean)), min, max };
}

export const command: Command = {
  summary: 'interim demo: features of a generated image from a random-init ResNet-18',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { seed: { type: 'string' }, size: { type: 'string' }, json: { type: 'boolean' } });
    const seed = intFlag(values.seed, 'seed', 0, 0);
    const size = intFlag(values.size, 'size', 224, 32);
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const sharp = (await import('sharp')).default;
    const { renderSample } = await import('../data/synth/render.js');
    const { SYNTH_OBJECTS } = await import('../data/synth/objects/index.js');
    const { computeFeatures } = await import('./features.js');

    const object = SYNTH_OBJECTS['pills'];
    if (object === undefined) throw new Error('the synthetic "pills" object is missing');
    const dir = await mkdtemp(join(tmpdir(), 'spotdiff-demo-'));
    try {
      const t0 = performance.now();
      const sample = renderSample(object, { seed, size, index: 0, defects: [1] });
      const imagePath = join(dir, 'pills-defect.png');
      await sharp(sample.image, { raw: { width: sample.width, height: sample.height, channels: 3 } }).png().toFile(imagePath);
      const t1 = performance.now();
      const result = await computeFeatures({ backbone: 'resnet18', image: imagePath, size, layers: ['layer2', 'layer3'], seed });
      const t2 = performance.now();
      const layers = Object.fromEntries([...result.layers].map(([name, l]) => [name, stats(l.shape, l.values)]));
      if (values.json) {
        process.stdout.write(JSON.stringify({ demo: 'interim', image: `synthetic pills ${size}×${size}, defect "${object.defectClasses[0]}"`, backbone: 'resnet18 (random init)', layers }) + '\n');
        return 0;
      }
      const lines = [
        'spotdiff INTERIM DEMO: features of a generated image (the anomaly-detection demo comes later)',
        `  image:    synthetic "pills" ${size}×${size} with a "${object.defectClasses[0]}" defect (seed ${seed}), drawn in ${(t1 - t0).toFixed(0)} ms`,
        `  backbone: ResNet-18, RANDOM weights (seed ${seed}): the statistics below only show the engine running`,
        `  features: ImageNet-normalised input, eval mode, no grad, ${(t2 - t1).toFixed(0)} ms`,
      ];
      for (const [name, s] of Object.entries(layers)) {
        lines.push(`  ${name.padEnd(7)} [${s.shape.join(', ')}]  mean ${s.mean.toFixed(4)}  std ${s.std.toFixed(4)}  min ${s.min.toFixed(4)}  max ${s.max.toFixed(4)}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

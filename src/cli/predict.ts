import { basename, extname, join } from 'node:path';
import type { Command } from './command.js';
import { parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff predict --model MODEL IMAGES... --out DIR [--tile SIZE[:OVERLAP]] [--json]

Scores images with a model folder from spotdiff fit. For each image writes
DIR/<name>.overlay.png (the anomaly map over the image, one colour scale for all images) and
DIR/<name>.mask.png (the map thresholded at the model's stored pixel threshold), and prints
its score and whether it is above the stored image threshold. A model fitted with --tile
scores by the same tiles (maps at the full image size); --tile SIZE:OVERLAP changes the overlap.`;

export const command: Command = {
  summary: 'score images with a model: score, heatmap overlay and binary mask per image',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, tile: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } }, true);
    const modelDir = requireFlag(values.model, 'model');
    const out = requireFlag(values.out, 'out');
    if (positionals.length === 0) throw new SpotdiffError('ERR_USAGE', 'give one or more images to score');
    const { loadModelFolder, disposeModel } = await import('../detect/run/model-folder.js');
    const { checkInputImages } = await import('../detect/run/input-images.js');
    const { scoreSamples } = await import('../detect/run/score.js');
    const { tilingFor } = await import('../detect/run/tiles.js');
    const { readRgb, resizeRgb } = await import('../data/image.js');
    const { overlayPng, maskPng, sharedRange } = await import('../report/overlay.js');
    const { writeFileAtomic } = await import('../util/atomic-write.js');
    const { resolve } = await import('node:path');
    const model = await loadModelFolder(modelDir);
    try {
      const tiling = tilingFor(model.manifest, values.tile);
      const images = positionals.map((p) => resolve(p));
      await checkInputImages(images, model.manifest.inputImages, 'images');
      const [h, w] = model.manifest.preprocess.resize;
      const samples = images.map((image) => ({ image, label: 'normal' as const, mask: null, object: model.manifest.training.object, defect: null, split: null }));
      const scored = await scoreSamples(model.detector, model.backbone, samples, [h, w], { quiet: values.quiet === true || values.json === true, progressLabel: 'predict', tiling });
      const range = sharedRange(scored.maps.map((data) => ({ width: w, height: h, data })));
      if (range.vmax <= range.vmin) range.vmax = range.vmin + 1;
      const { value, pixelValue } = model.manifest.threshold;
      const used = new Map<string, number>();
      const results = [];
      for (let i = 0; i < images.length; i++) {
        const image = images[i] as string;
        let stem = basename(image, extname(image));
        const n = used.get(stem) ?? 0;
        used.set(stem, n + 1);
        if (n > 0) stem = `${stem}-${n}`;
        const map = { width: w, height: h, data: scored.maps[i] as Float32Array };
        const rgb = await resizeRgb(await readRgb(image), { width: w, height: h });
        const overlay = join(out, `${stem}.overlay.png`);
        const mask = join(out, `${stem}.mask.png`);
        await writeFileAtomic(overlay, await overlayPng(rgb, map, { range }));
        await writeFileAtomic(mask, await maskPng(map, pixelValue));
        const score = scored.imageScores[i] as number;
        results.push({ image, score, anomalous: score >= value, overlay, mask });
      }
      if (values.json) process.stdout.write(JSON.stringify({ model: modelDir, threshold: value, pixelThreshold: pixelValue, images: results }, null, 2) + '\n');
      else {
        process.stdout.write(`threshold ${value.toPrecision(5)} (${model.manifest.threshold.source})\n`);
        for (const r of results) process.stdout.write(`${r.anomalous ? 'ANOMALY' : 'normal '}  ${r.score.toPrecision(5)}  ${r.image}\n`);
        process.stdout.write(`overlays and masks in ${out}\n`);
      }
      return 0;
    } finally {
      disposeModel(model);
    }
  },
};

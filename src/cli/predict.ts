import { join } from 'node:path';
import type { Command } from './command.js';
import { parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { deviceFlag } from './device-flag.js';

const usage = `usage: spotdiff predict --model MODEL IMAGES... --out DIR [--tile SIZE[:OVERLAP]]
                        [--device cpu|cuda|auto] [--json]

Scores images with a model folder from spotdiff fit. For each image writes
DIR/<name>.overlay.png (the anomaly map over the image, one colour scale for all images) and
DIR/<name>.mask.png (the map thresholded at the model's stored pixel threshold), and prints
its score and whether it is above the stored image threshold. A model fitted with --tile
scores by the same tiles (maps at the full image size); --tile SIZE:OVERLAP changes the overlap.
A model whose method does not localise defects (an image classifier) gets no overlay or mask
files: only its scores are printed.
--device D (cpu, the default; cuda, cuda:N or auto) is where the backbone and the detector run.

<name> is the image's path below the folder that holds all the images, without extension
(a.png → a, dir2/a.png → dir2/a; with it when two images differ only by extension), so no
two outputs share a name; an image given twice is scored once. Files that an earlier predict
wrote into DIR (listed in DIR/.spotdiff-outputs.json) are replaced; any other file in the way
is refused before scoring.`;

/** The overlay and mask paths (relative to --out) of each image, keyed by its resolved path. */
async function planOutputs(images: string[]): Promise<Map<string, { overlay: string; mask: string }>> {
  const { outputStems } = await import('../util/output-names.js');
  return new Map([...outputStems(images)].map(([image, stem]) => [image, { overlay: `${stem}.overlay.png`, mask: `${stem}.mask.png` }]));
}

export const command: Command = {
  summary: 'score images with a model: score, heatmap overlay and binary mask per image',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { model: { type: 'string' }, out: { type: 'string' }, tile: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } }, true);
    const device = await deviceFlag(values.device);
    const modelDir = requireFlag(values.model, 'model');
    const out = requireFlag(values.out, 'out');
    if (positionals.length === 0) throw new SpotdiffError('ERR_USAGE', 'give one or more images to score');
    const outputs = await planOutputs(positionals);
    const { claimOutputFiles } = await import('../util/output-claim.js');
    const { loadModelFolder, disposeModel } = await import('../detect/run/model-folder.js');
    const { checkInputImages } = await import('../detect/run/input-images.js');
    const { scoreSamples } = await import('../detect/run/score.js');
    const { tilingFor } = await import('../detect/run/tiles.js');
    const { readRgb, resizeRgb } = await import('../data/image.js');
    const { overlayPng, maskPng, sharedRange } = await import('../report/overlay.js');
    const { writeFileAtomic } = await import('../util/atomic-write.js');
    const { methodInfo } = await import('../detect/registry.js');
    const model = await loadModelFolder(modelDir, { device });
    try {
      const localises = methodInfo(model.manifest.method).localises;
      const tiling = tilingFor(model.manifest, values.tile);
      const images = [...outputs.keys()];
      await checkInputImages(images, model.manifest.inputImages, 'images');
      if (localises) await claimOutputFiles(out, 'spotdiff predict', [...outputs.values()].flatMap((o) => [o.overlay, o.mask]));
      const [h, w] = model.manifest.preprocess.resize;
      const samples = images.map((image) => ({ image, label: 'normal' as const, mask: null, object: model.manifest.training.object, defect: null, split: null }));
      const scored = await scoreSamples(model.detector, samples, [h, w], { quiet: values.quiet === true || values.json === true, progressLabel: 'predict', tiling });
      const range = sharedRange(scored.maps.map((data) => ({ width: w, height: h, data })));
      if (range.vmax <= range.vmin) range.vmax = range.vmin + 1;
      const { value, pixelValue } = model.manifest.threshold;
      const results = [];
      for (let i = 0; i < images.length; i++) {
        const image = images[i] as string;
        const score = scored.imageScores[i] as number;
        if (!localises) {
          results.push({ image, score, anomalous: score >= value, overlay: null, mask: null });
          continue;
        }
        const map = { width: w, height: h, data: scored.maps[i] as Float32Array };
        const rgb = await resizeRgb(await readRgb(image), { width: w, height: h });
        const overlay = join(out, outputs.get(image)!.overlay);
        const mask = join(out, outputs.get(image)!.mask);
        await writeFileAtomic(overlay, await overlayPng(rgb, map, { range }));
        await writeFileAtomic(mask, await maskPng(map, pixelValue));
        results.push({ image, score, anomalous: score >= value, overlay, mask });
      }
      if (values.json) process.stdout.write(JSON.stringify({ model: modelDir, threshold: value, pixelThreshold: pixelValue, images: results }, null, 2) + '\n');
      else {
        process.stdout.write(`threshold ${value.toPrecision(5)} (${model.manifest.threshold.source})\n`);
        for (const r of results) process.stdout.write(`${r.anomalous ? 'ANOMALY' : 'normal '}  ${r.score.toPrecision(5)}  ${r.image}\n`);
        if (localises) process.stdout.write(`overlays and masks in ${out}\n`);
      }
      return 0;
    } finally {
      disposeModel(model);
    }
  },
};

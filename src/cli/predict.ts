import { join } from 'node:path';
import type { Command } from './command.js';
import { parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { deviceFlag } from './device-flag.js';
import { engineFlag, onnxModelFile } from './engine-flag.js';
import type { Sample } from '../data/datasets/sample.js';

const usage = `usage: spotdiff predict --model MODEL IMAGES... --out DIR [--tile SIZE[:OVERLAP]]
                        [--device cpu|cuda|auto] [--engine libtorch|onnx] [--json]

Scores images with a model folder from spotdiff fit. For each image writes
DIR/<name>.overlay.png (the anomaly map over the image, one colour scale for all images) and
DIR/<name>.mask.png (the map thresholded at the model's stored pixel threshold), and prints
its score and whether it is above the stored image threshold. A model fitted with --tile
scores by the same tiles (maps at the full image size); --tile SIZE:OVERLAP changes the overlap.
A model whose method does not localise defects (an image classifier) gets no overlay or mask
files: only its scores are printed.
--device D (cpu, the default; cuda, cuda:N or auto) is where the backbone and the detector run.
--engine onnx scores on ONNX Runtime (CPU) without loading libtorch: MODEL is a file from
spotdiff export, or a model folder holding one as model.onnx. Same scores and maps as the
default engine (libtorch); --device and --tile are for libtorch only.

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
    const { values, positionals } = parseFlags(
      argv,
      { model: { type: 'string' }, out: { type: 'string' }, tile: { type: 'string' }, device: { type: 'string' }, engine: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } },
      true,
    );
    const engine = engineFlag(values.engine);
    if (engine === 'onnx' && (values.device !== undefined || values.tile !== undefined)) throw new SpotdiffError('ERR_USAGE', '--device and --tile are for --engine libtorch; the ONNX engine runs whole images on the CPU');
    const modelDir = requireFlag(values.model, 'model');
    const out = requireFlag(values.out, 'out');
    if (positionals.length === 0) throw new SpotdiffError('ERR_USAGE', 'give one or more images to score');
    const outputs = await planOutputs(positionals);
    const { claimOutputFiles } = await import('../util/output-claim.js');
    const images = [...outputs.keys()];
    const quiet = values.quiet === true || values.json === true;
    const claim = (localises: boolean): Promise<unknown> => (localises ? claimOutputFiles(out, 'spotdiff predict', [...outputs.values()].flatMap((o) => [o.overlay, o.mask])) : Promise.resolve());
    const source = engine === 'onnx' ? await onnxScores(modelDir, images, quiet, claim) : await libtorchScores(modelDir, images, values.device, values.tile, quiet, claim);
    await writeResults(source, images, outputs, out, modelDir, values.json === true);
    return 0;
  },
};

/** What predict needs from either engine: scores and maps of `images` in order, and the model's thresholds. */
interface PredictScores {
  scored: { imageScores: Float32Array; maps: Float32Array[]; height: number; width: number };
  localises: boolean;
  threshold: { value: number; pixelValue: number; source: string };
}

/** The libtorch path: a model folder, whole images or tiles, on --device. */
async function libtorchScores(modelDir: string, images: string[], deviceValue: string | undefined, tile: string | undefined, quiet: boolean, claim: (localises: boolean) => Promise<unknown>): Promise<PredictScores> {
  const device = await deviceFlag(deviceValue);
  const { loadModelFolder, disposeModel } = await import('../detect/run/model-folder.js');
  const { checkInputImages } = await import('../detect/run/input-images.js');
  const { scoreSamples } = await import('../detect/run/score.js');
  const { tilingFor } = await import('../detect/run/tiles.js');
  const { methodInfo } = await import('../detect/registry.js');
  const model = await loadModelFolder(modelDir, { device });
  try {
    const localises = methodInfo(model.manifest.method).localises;
    const tiling = tilingFor(model.manifest, tile);
    await checkInputImages(images, model.manifest.inputImages, 'images');
    await claim(localises);
    const scored = await scoreSamples(model.detector, samplesOf(images, model.manifest.training.object), model.manifest.preprocess.resize, { quiet, progressLabel: 'predict', tiling });
    const t = model.manifest.threshold;
    return { scored, localises, threshold: { value: t.value, pixelValue: t.pixelValue, source: String(t.source) } };
  } finally {
    disposeModel(model);
  }
}

/** The ONNX Runtime path: an exported .onnx (or MODEL/model.onnx); libtorch is never loaded. */
async function onnxScores(model: string, images: string[], quiet: boolean, claim: (localises: boolean) => Promise<unknown>): Promise<PredictScores> {
  const file = onnxModelFile(model);
  const { openOnnxScorer } = await import('../export/onnx/index.js');
  const { scoreSamplesOnnx } = await import('../export/onnx/score-files.js');
  const { checkInputImages } = await import('../detect/run/input-images.js');
  const scorer = await openOnnxScorer(file);
  try {
    const { info } = scorer;
    await checkInputImages(images, info.inputImages, 'images');
    await claim(info.localises);
    const scored = await scoreSamplesOnnx(scorer, samplesOf(images, info.object), { quiet, progressLabel: 'predict' });
    return { scored, localises: info.localises, threshold: { value: info.threshold.image, pixelValue: info.threshold.pixel, source: info.threshold.source } };
  } finally {
    await scorer.close();
  }
}

function samplesOf(images: string[], object: string): Sample[] {
  return images.map((image) => ({ image, label: 'normal' as const, mask: null, object, defect: null, split: null }));
}

/** Overlays and masks per image (localising methods), then the scores as text or JSON. */
async function writeResults(source: PredictScores, images: string[], outputs: Map<string, { overlay: string; mask: string }>, out: string, modelDir: string, json: boolean): Promise<void> {
  const { overlayPng, maskPng, sharedRange } = await import('../report/overlay.js');
  const { readRgb, resizeRgb } = await import('../data/image.js');
  const { writeFileAtomic } = await import('../util/atomic-write.js');
  const { scored, localises, threshold } = source;
  const [h, w] = [scored.height, scored.width];
  const range = sharedRange(scored.maps.map((data) => ({ width: w, height: h, data })));
  if (range.vmax <= range.vmin) range.vmax = range.vmin + 1;
  const { value, pixelValue } = threshold;
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
  if (json) process.stdout.write(JSON.stringify({ model: modelDir, threshold: value, pixelThreshold: pixelValue, images: results }, null, 2) + '\n');
  else {
    process.stdout.write(`threshold ${value.toPrecision(5)} (${threshold.source})\n`);
    for (const r of results) process.stdout.write(`${r.anomalous ? 'ANOMALY' : 'normal '}  ${r.score.toPrecision(5)}  ${r.image}\n`);
    if (localises) process.stdout.write(`overlays and masks in ${out}\n`);
  }
}

import { testSamples } from '../../data/datasets/object-splits.js';
import { readRgb, resizeRgb } from '../../data/image.js';
import { binaryMetrics, pixelMetrics, mapsInMemory, type BinaryMetrics, type PixelMetrics, type ScoreMap } from '../../metrics/index.js';
import { overlayPng, maskPng, sharedRange } from '../../report/overlay.js';
import { selectExamples, type ObjectReport, type ScoredImage } from '../../report/index.js';
import { checkInputImages } from './input-images.js';
import type { LoadedModel, ModelManifest } from './model-folder.js';
import { methodInfo } from '../registry.js';
import { scoreSamples, type ScoredSamples } from './score.js';
import type { TileConfig } from '../common/tiling.js';

export interface EvalResult {
  object: string;
  images: number;
  anomalous: number;
  image: BinaryMetrics;
  /** Null when the test set has no masks or the method does not localise. */
  pixel: PixelMetrics | null;
  scored: ScoredSamples;
}

/** Flat metric values (fractions) for tables and JSON. */
export function metricValues(r: EvalResult): Record<string, number> {
  const out: Record<string, number> = { 'image.aupr': r.image.aupr, 'image.auroc': r.image.auroc, 'image.maxF1': r.image.maxF1 };
  if (r.pixel !== null) {
    out['pixel.aupr'] = r.pixel.aupr;
    out['pixel.auroc'] = r.pixel.auroc;
    out['pixel.maxF1'] = r.pixel.maxF1;
    if (r.pixel.aupro !== null) out['pixel.aupro'] = r.pixel.aupro;
  }
  return out;
}

/**
 * Scores the test split (by tiles when the model was fitted so, or as `tiling` says) and
 * computes image and pixel metrics (threshold-free); no pixel metrics for a method whose maps
 * do not localise.
 */
export async function evaluateModel(model: LoadedModel, data: string, o: { object?: string; quiet?: boolean; tiling?: TileConfig | null } = {}): Promise<EvalResult> {
  const object = o.object ?? model.manifest.training.object;
  const samples = await testSamples(data, object);
  await checkInputImages(samples.map((s) => s.image), model.manifest.inputImages, 'test images');
  const [h, w] = model.manifest.preprocess.resize;
  const tiling = o.tiling === undefined ? model.manifest.tiling ?? null : o.tiling;
  const scored = await scoreSamples(model.detector, samples, [h, w], { masks: true, progressLabel: `eval ${object}`, quiet: o.quiet, tiling });
  const labels = scored.samples.map((s) => (s.label === 'anomaly' ? 1 : 0));
  const image = binaryMetrics(labels, scored.imageScores);
  const hasMasks = scored.samples.some((s) => s.label === 'anomaly' && s.mask !== null);
  let pixel: PixelMetrics | null = null;
  if (hasMasks && methodInfo(model.manifest.method).localises) {
    const maps: ScoreMap[] = scored.maps.map((m, i) => ({ scores: m, mask: scored.masks[i] ?? null, width: w, height: h, name: scored.samples[i]?.image }));
    pixel = await pixelMetrics(mapsInMemory(maps));
  }
  return { object, images: samples.length, anomalous: labels.filter((l) => l === 1).length, image, pixel, scored };
}

/** The report section of one evaluated object: metrics, curves, scores, threshold, example overlays. */
export async function objectReport(manifest: ModelManifest, r: EvalResult, examplesPerClass = 4): Promise<ObjectReport> {
  const localises = methodInfo(manifest.method).localises;
  const s = r.scored;
  const scores: (ScoredImage & { index: number })[] = s.samples.map((x, i) => ({ name: x.image, label: x.label === 'anomaly' ? 1 : 0, score: s.imageScores[i] as number, index: i }));
  const chosen = selectExamples(scores, examplesPerClass);
  const picked = [...chosen.normals, ...chosen.anomalies];
  const range = sharedRange(picked.map((p) => ({ width: s.width, height: s.height, data: s.maps[p.index] as Float32Array })));
  if (range.vmax <= range.vmin) range.vmax = range.vmin + 1;
  const examples = [];
  for (const p of picked) {
    const map = { width: s.width, height: s.height, data: s.maps[p.index] as Float32Array };
    const rgb = await resizeRgb(await readRgb(p.name), { width: s.width, height: s.height });
    const mask = s.masks[p.index];
    examples.push({
      name: p.name,
      label: p.label,
      score: p.score,
      overlayPng: await overlayPng(rgb, map, { range, groundTruth: mask ? { width: s.width, height: s.height, data: mask } : null }),
      maskPng: localises ? await maskPng(map, manifest.threshold.pixelValue) : null,
    });
  }
  const level = (m: BinaryMetrics | PixelMetrics) => ({ aupr: m.aupr, auroc: m.auroc, maxF1: m.maxF1, roc: m.roc, pr: m.pr, positives: m.positives, negatives: m.negatives });
  return {
    name: r.object,
    image: level(r.image),
    pixel: r.pixel === null ? null : { ...level(r.pixel), aupro: r.pixel.aupro },
    scores: scores.map(({ name, label, score }) => ({ name, label, score })),
    threshold: { value: manifest.threshold.value, source: manifest.threshold.source, pixelValue: manifest.threshold.pixelValue },
    examples,
    heatmapScale: { ...range, colormap: 'turbo' },
  };
}

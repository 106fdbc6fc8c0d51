import { basename, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import * as T from '../tensor/index.js';
import { sampleKShot, type KShotRun } from '../data/kshot.js';
import { ResNet, type ResNetArch } from '../models/resnet.js';
import { readWeights, resolveWeightsPath, resNetFromWeights, saveWeights } from '../models/weights.js';
import type { HostTensor } from '../tensor/io/index.js';
import { checkArch } from '../models/backbone.js';
import { testSamples, trainSamples } from '../data/datasets/object-splits.js';
import { Progress } from '../util/progress.js';
import { Random, hashSeed } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { loadImageBatches, loadShots, supportSet } from './images.js';
import { DEFAULT_LOSS_WEIGHTS, isCollapsedContrastive, type LossWeights } from './losses.js';
import { scoreTestSet, testMetrics, type RunMetrics, type ScoreMethod } from './score.js';
import { Finetuner, type OptimizerName, type StepLosses } from './train.js';
import { autoViewKind, type NegativeKind, type ViewKind } from './views.js';

/** The paper's few-shot settings. */
export const PAPER_SHOTS = [1, 2, 4, 5, 8, 10] as const;

export interface FewshotRequest {
  data: string;
  object?: string;
  backbone: string;
  /** torchvision .pth or safetensors; undefined: seeded random init (the caller warns). */
  weights?: string;
  /** The k values to run (each a positive integer). */
  shots: readonly number[];
  /** Seeded runs per k (default 5). */
  runs?: number;
  seed?: number;
  /** Square input side (default 224). */
  size?: number;
  /** Fine-tuning steps per run (default 200; 0 scores the starting backbone). */
  steps?: number;
  batch?: number;
  views?: ViewKind | 'auto';
  negatives?: NegativeKind;
  optimizer?: OptimizerName;
  lr?: number;
  loss?: Partial<LossWeights>;
  score?: ScoreMethod;
  /** Augmented copies of each shot added to the scorer's normal set (default 8). */
  supportViews?: number;
  neighbours?: number;
  coresetRatio?: number;
  /** Folder for the fine-tuned backbones (safetensors, torchvision names), one per k and run. */
  saveBackbone?: string;
  quiet?: boolean;
  /** Fine-tuning arithmetic and memory format (Finetuner's options; default fp32, contiguous). */
  precision?: T.Precision;
  channelsLast?: boolean;
}

export interface FewshotRunResult {
  k: number;
  run: number;
  /** The k normal train images used. */
  shots: string[];
  views: ViewKind;
  /** Mean loss over the first and the last tenth of the steps (null without steps). */
  loss: { first: StepLosses; last: StepLosses } | null;
  /** The contrastive term ended at its all-embeddings-equal value (lower the learning rate). */
  collapsed: boolean;
  metrics: RunMetrics;
  backbone: string | null;
  seconds: number;
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation over runs (n − 1 in the denominator); 0 for one run. */
  std: number;
}

export interface FewshotSummary {
  k: number;
  runs: number;
  image: { aupr: MeanStd; auroc: MeanStd };
  pixel: { aupr: MeanStd; auroc: MeanStd; aupro: MeanStd | null } | null;
}

export interface FewshotResult {
  format: 'spotdiff.fewshot';
  version: 1;
  object: string;
  dataset: string;
  backbone: { arch: ResNetArch; weights: string | null };
  settings: {
    shots: number[];
    runs: number;
    seed: number;
    size: number;
    steps: number;
    batch: number;
    views: ViewKind | 'auto';
    negatives: NegativeKind;
    optimizer: OptimizerName;
    lr: number;
    loss: LossWeights;
    score: ScoreMethod;
    supportViews: number;
    neighbours: number;
    coresetRatio: number;
  };
  testImages: { normal: number; anomalous: number };
  results: FewshotRunResult[];
  summary: FewshotSummary[];
  seconds: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** Mean ± std of each metric over one k's runs. */
export function summarise(k: number, results: readonly FewshotRunResult[]): FewshotSummary {
  const runs = results.filter((r) => r.k === k);
  const pixels = runs.map((r) => r.metrics.pixel);
  const allPixel = pixels.every((p) => p !== null) ? (pixels as NonNullable<RunMetrics['pixel']>[]) : null;
  const auproValues = allPixel?.map((p) => p.aupro);
  return {
    k,
    runs: runs.length,
    image: { aupr: meanStd(runs.map((r) => r.metrics.image.aupr)), auroc: meanStd(runs.map((r) => r.metrics.image.auroc)) },
    pixel:
      allPixel === null || allPixel.length === 0
        ? null
        : {
            aupr: meanStd(allPixel.map((p) => p.aupr)),
            auroc: meanStd(allPixel.map((p) => p.auroc)),
            aupro: auproValues!.every((v) => v !== null) ? meanStd(auproValues as number[]) : null,
          },
  };
}

function checkPositiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new SpotdiffError('ERR_BAD_INPUT', `${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

function averageLosses(list: readonly StepLosses[]): StepLosses {
  const avg = (f: (l: StepLosses) => number | null): number | null => {
    const v = list.map(f);
    return v.some((x) => x === null) ? null : (v as number[]).reduce((a, x) => a + x, 0) / v.length;
  };
  return { total: avg((l) => l.total) as number, contrastive: avg((l) => l.contrastive) as number, cross: avg((l) => l.cross), negative: avg((l) => l.negative) };
}

/**
 * The few-shot protocol: for each k and each seeded run, draw k normal train images
 * (sampleKShot), fine-tune a fresh copy of the starting backbone on them, score the whole test
 * split with the chosen scorer, and compute the metrics; then mean ± std over the runs. Test
 * data is only ever scored, never trained on.
 */
export async function runFewshot(req: FewshotRequest): Promise<FewshotResult> {
  const started = Date.now();
  const arch = checkArch(req.backbone);
  const runs = checkPositiveInt('runs', req.runs ?? 5);
  const seed = req.seed ?? 0;
  const size = checkPositiveInt('size', req.size ?? 224, 32);
  const steps = checkPositiveInt('steps', req.steps ?? 200, 0);
  const batch = checkPositiveInt('batch', req.batch ?? 8, 2);
  const supportViews = checkPositiveInt('supportViews', req.supportViews ?? 8, 0);
  const neighbours = checkPositiveInt('neighbours', req.neighbours ?? 5);
  const coresetRatio = req.coresetRatio ?? 0.1;
  if (!(coresetRatio > 0 && coresetRatio <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `coreset ratio must be in (0, 1], got ${coresetRatio}`);
  const score = req.score ?? 'gaussian';
  const views = req.views ?? 'auto';
  const negatives = req.negatives ?? 'none';
  const optimizer = req.optimizer ?? 'adam';
  const lr = req.lr ?? 1e-4;
  const loss = { ...DEFAULT_LOSS_WEIGHTS, ...req.loss };
  const shots = [...new Set(req.shots)].sort((a, b) => a - b);
  if (shots.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no k given');
  for (const k of shots) checkPositiveInt('k', k);

  // Everything that can fail on the inputs fails before any training.
  const { samples, object, dataset } = await trainSamples(req.data, req.object);
  const test = await testSamples(req.data, object);
  const draws = new Map<number, KShotRun[]>();
  for (const k of shots) {
    const normals = samples.filter((s) => s.label === 'normal').length;
    if (k > normals) throw new SpotdiffError('ERR_BAD_INPUT', `k = ${k} is more than the ${normals} normal train image${normals === 1 ? '' : 's'} of "${object}" in ${req.data}`);
    draws.set(k, sampleKShot(samples, { k, runs, seed, anomalous: false }));
  }
  let weightsFile: string | null = null;
  let weights: ReadonlyMap<string, HostTensor> | null = null;
  if (req.weights !== undefined) {
    weightsFile = await resolveWeightsPath(req.weights);
    weights = await readWeights(weightsFile);
    resNetFromWeights(arch, weights, weightsFile).dispose(); // a wrong file fails now, not after the first run
  }
  const pixel = score === 'padim' || score === 'patchcore';
  const testBatches = await loadImageBatches(test, size, { masks: pixel });
  const labels = testBatches.flatMap((b) => Array.from(b.labels));
  const testImages = { normal: labels.filter((l) => l === 0).length, anomalous: labels.filter((l) => l === 1).length };
  if (testImages.normal === 0 || testImages.anomalous === 0) {
    throw new SpotdiffError('ERR_BAD_INPUT', `the test split of "${object}" needs normal and anomalous images (it has ${testImages.normal} normal, ${testImages.anomalous} anomalous)`);
  }
  if (req.saveBackbone !== undefined) await mkdir(req.saveBackbone, { recursive: true });

  const newBackbone = (): ResNet => {
    if (weights === null) {
      T.manualSeed(seed);
      return new ResNet(arch);
    }
    return resNetFromWeights(arch, weights, weightsFile as string);
  };

  const results: FewshotRunResult[] = [];
  for (const k of shots) {
    for (const draw of draws.get(k) as KShotRun[]) {
      const runStarted = Date.now();
      const viewKind = views === 'auto' ? autoViewKind(k) : views;
      const runSeed = hashSeed(seed, ['fewshot', k, draw.run]);
      const model = newBackbone();
      const shotImages = await loadShots(draw.normal, size);
      let trace: StepLosses[] = [];
      let savedBackbone: string | null = null;
      let metrics: RunMetrics;
      try {
        if (steps > 0) {
          const tuner = new Finetuner(model, { steps, batch, views: viewKind, negatives, optimizer, lr, loss, seed: runSeed, precision: req.precision, channelsLast: req.channelsLast });
          const label = `k=${k} run ${draw.run + 1}/${runs}`;
          const bar = new Progress({ total: steps, label, unit: 'step', enabled: !req.quiet });
          try {
            trace = tuner.run(shotImages, (_, l) => bar.tick(1, `loss ${l.total.toFixed(3)}`));
          } finally {
            tuner.dispose();
          }
          bar.finish();
        }
        model.eval();
        if (req.saveBackbone !== undefined) {
          savedBackbone = join(req.saveBackbone, `${arch}-${object}-k${k}-run${draw.run}.safetensors`);
          const meta = { k, run: draw.run, seed, steps, views: viewKind, negatives, startedFrom: weightsFile === null ? `random init, seed ${seed}` : basename(weightsFile), shots: draw.normal.map((s) => basename(s.image)) };
          await saveWeights(model, savedBackbone, { 'spotdiff.finetune': JSON.stringify(meta) });
        }
        const support = supportSet(shotImages, Random.derive(seed, 'fewshot-support', k, draw.run), supportViews);
        try {
          const scores = scoreTestSet(model, support, testBatches, {
            method: score,
            arch,
            weights: `${weightsFile === null ? 'random init' : basename(weightsFile)}, fine-tuned on ${k} shot${k === 1 ? '' : 's'}`,
            size,
            neighbours,
            coresetRatio,
            seed,
          });
          metrics = await testMetrics(testBatches, scores, size);
        } finally {
          support.dispose();
        }
      } finally {
        shotImages.dispose();
        model.dispose();
      }
      const tenth = Math.max(1, Math.ceil(trace.length / 10));
      const last = trace.length === 0 ? null : averageLosses(trace.slice(-tenth));
      results.push({
        k,
        run: draw.run,
        shots: draw.normal.map((s) => s.image),
        views: viewKind,
        loss: last === null ? null : { first: averageLosses(trace.slice(0, tenth)), last },
        collapsed: last !== null && isCollapsedContrastive(last.contrastive, batch),
        metrics,
        backbone: savedBackbone,
        seconds: (Date.now() - runStarted) / 1000,
      });
    }
  }
  return {
    format: 'spotdiff.fewshot',
    version: 1,
    object,
    dataset,
    backbone: { arch, weights: weightsFile === null ? null : basename(weightsFile) },
    settings: { shots, runs, seed, size, steps, batch, views, negatives, optimizer, lr, loss, score, supportViews, neighbours, coresetRatio },
    testImages,
    results,
    summary: shots.map((k) => summarise(k, results)),
    seconds: (Date.now() - started) / 1000,
  };
}

import { sha256File } from '../util/fs.js';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openDataset } from '../data/datasets/open.js';
import { metricValues } from '../detect/run/evaluate.js';
import { fitAndEvaluate } from '../detect/run/fit-and-evaluate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';
import { ABLATION_ARMS, ARM_LABELS, planAblation, type AblationArm, type AblationOptions, type AblationPlan } from './ablation-options.js';
import { ABLATION_METRICS, ablationRows, renderAblationMarkdown, type AblationMetrics, type AblationRow } from './ablation-table.js';
import { readCheckpointMeta } from './checkpoint-meta.js';
import { pretrainPaths, trainPretrain } from './trainer.js';

/**
 * Runs the SPD ablation (see AblationOptions): both pre-training runs, then the detector on
 * each backbone for every evaluation object, then the comparison table.
 *
 * Resumable at every level, so an interrupted ablation is continued by running the same
 * command again:
 * - each arm is a pre-training run in its own folder (out/no-spd, out/spd-eta<η>): a folder
 *   with a checkpoint is continued by the trainer's resume, which also refuses a checkpoint
 *   made with other options, and a finished one only exports its backbone again (same bytes);
 * - each object's metrics are saved per arm (out/<arm>/eval/<object>.json) with what they were
 *   computed from (the backbone file's sha256, detector, dataset, size, seed); a record whose
 *   inputs are unchanged is reused, any other is computed again.
 */

export const ABLATION_JSON = 'ablation.json';
export const ABLATION_MARKDOWN = 'ablation.md';
const EVAL_FORMAT = 'spotdiff.ablation-eval';

export interface AblationHooks {
  /** Stops after the current pre-training step or object; what is finished stays reusable. */
  signal?: AbortSignal;
  /** One line per stage (pre-training, reuse, evaluation), for the command's stderr. */
  onStage?: (message: string) => void;
}

/** What an object's metrics were computed from: a saved record is reused only when all of it is unchanged. */
interface EvalKey {
  backboneSha256: string;
  backbone: string;
  detector: string;
  evalData: string;
  size: number;
  seed: number;
}

interface EvalRecord {
  format: typeof EVAL_FORMAT;
  key: EvalKey;
  object: string;
  images: number;
  anomalous: number;
  metrics: AblationMetrics;
  seconds: number;
}

export interface AblationEvaluation {
  object: string;
  metrics: AblationMetrics;
  /** True when the saved metrics were reused. */
  reused: boolean;
  images: number;
  anomalous: number;
  seconds: number;
}

export interface AblationArmResult {
  label: string;
  eta: number;
  /** The arm's pre-training run folder. */
  dir: string;
  pretraining: {
    completed: boolean;
    /** Steps run by this call: 0 when a finished run was reused. */
    stepsThisCall: number;
    steps: number;
    epochs: number;
    /** Mean loss of the run's last finished epoch (from its checkpoint), or null before one. */
    lastEpochLoss: number | null;
    seconds: number;
  };
  /** The exported backbone and its sha256 (null until the run completes). */
  backbone: string | null;
  backboneSha256: string | null;
  evaluations: AblationEvaluation[];
}

export interface AblationResult {
  /** False when stopped by the signal; run the same ablation again to continue. */
  completed: boolean;
  method: string;
  backbone: string;
  eta: number;
  detector: string;
  size: number;
  seed: number;
  epochs: number;
  batchSize: number;
  init: string | null;
  data: string[];
  evalData: string;
  objects: string[];
  out: string;
  arms: Record<AblationArm, AblationArmResult>;
  /** Per object, then the mean; null when not completed. */
  rows: AblationRow[] | null;
  files: { json: string; markdown: string } | null;
  seconds: number;
}

/** The evaluation objects, each checked to have train normals (to fit on) and test images (to score) before any pre-training. */
async function evaluationObjects(evalData: string, wanted: readonly string[] | undefined): Promise<string[]> {
  const ds = await openDataset(evalData, wanted === undefined ? {} : { objects: [...wanted] });
  const objects = wanted === undefined ? ds.objects : [...wanted];
  for (const object of objects) {
    const own = ds.samples.filter((s) => s.object === object);
    if (!own.some((s) => s.split === 'train' && s.label === 'normal')) throw new SpotdiffError('ERR_BAD_INPUT', `--eval-data ${evalData}: "${object}" has no normal training images to fit the detector on (a prepared dataset is needed)`);
    if (!own.some((s) => s.split === 'test')) throw new SpotdiffError('ERR_BAD_INPUT', `--eval-data ${evalData}: "${object}" has no test images to evaluate on`);
  }
  return objects;
}

async function readEvalRecord(path: string): Promise<EvalRecord | null> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as EvalRecord;
    return r.format === EVAL_FORMAT ? r : null;
  } catch {
    return null; // absent or half-written by an older crash: computed again
  }
}

const sameKey = (a: EvalKey, b: EvalKey): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Pre-trains one arm, or continues or reuses the run in its folder. */
async function pretrainArm(plan: AblationPlan, arm: AblationArm, hooks: AblationHooks): Promise<AblationArmResult> {
  const { dir, eta, pretrain } = plan.arms[arm];
  const { checkpoint } = pretrainPaths(dir);
  const saved = await readCheckpointMeta(checkpoint);
  const label = ARM_LABELS[arm];
  if (saved === null) hooks.onStage?.(`${label}: pre-training ${plan.options.method} (η ${eta}) in ${dir}`);
  else if (saved.epoch >= saved.config.epochs) hooks.onStage?.(`${label}: reusing the finished pre-training run in ${dir}`);
  else hooks.onStage?.(`${label}: resuming the pre-training run in ${dir} after epoch ${saved.epoch} of ${saved.config.epochs}`);
  const r = await trainPretrain({ ...pretrain, resume: saved !== null }, { ...(hooks.signal !== undefined ? { signal: hooks.signal } : {}) });
  const meta = await readCheckpointMeta(checkpoint);
  return {
    label,
    eta,
    dir,
    pretraining: { completed: r.completed, stepsThisCall: r.stepsThisCall, steps: r.steps, epochs: r.epochs, lastEpochLoss: meta?.lastEpochLoss ?? null, seconds: r.seconds },
    backbone: r.backbone,
    backboneSha256: r.backbone === null ? null : await sha256File(r.backbone),
    evaluations: [],
  };
}

/** The detector on one arm's backbone for one object: saved metrics when their inputs are unchanged, else fit, score and save. */
async function evaluateArm(plan: AblationPlan, arm: AblationArmResult, object: string, evalData: string, hooks: AblationHooks): Promise<AblationEvaluation> {
  const key: EvalKey = { backboneSha256: arm.backboneSha256!, backbone: plan.options.backbone, detector: plan.detector, evalData, size: plan.size, seed: plan.seed };
  const file = join(arm.dir, 'eval', `${object}.json`);
  const saved = await readEvalRecord(file);
  if (saved !== null && saved.object === object && sameKey(saved.key, key)) {
    hooks.onStage?.(`${arm.label}: reusing the ${plan.detector} metrics of ${object}`);
    return { object, metrics: saved.metrics, reused: true, images: saved.images, anomalous: saved.anomalous, seconds: saved.seconds };
  }
  hooks.onStage?.(`${arm.label}: ${plan.detector} on ${object}`);
  const started = Date.now();
  const modelDir = join(arm.dir, 'eval', `${object}.model`);
  const quiet = plan.options.quiet === true;
  const { result: r } = await fitAndEvaluate({ method: plan.detector, data: evalData, object, backbone: plan.options.backbone, weights: arm.backbone!, size: plan.size, seed: plan.seed, out: modelDir, quiet });
  const values = metricValues(r);
  const metrics: AblationMetrics = {};
  for (const m of ABLATION_METRICS) if (values[m] !== undefined) metrics[m] = values[m];
  const record: EvalRecord = { format: EVAL_FORMAT, key, object, images: r.images, anomalous: r.anomalous, metrics, seconds: (Date.now() - started) / 1000 };
  await writeFileAtomic(file, JSON.stringify(record, null, 2) + '\n');
  // A fitted PaDiM holds a Gaussian per feature position (over 100 MB at 224 px): the metrics are what the ablation keeps.
  if (plan.options.keepModels !== true) await rm(modelDir, { recursive: true, force: true });
  return { object, metrics: record.metrics, reused: false, images: record.images, anomalous: record.anomalous, seconds: record.seconds };
}

function markdownReport(result: AblationResult, rows: readonly AblationRow[]): string {
  const arms = ABLATION_ARMS.map((a) => result.arms[a]);
  return [
    `# SPD ablation: ${result.method} on ${result.backbone}`,
    '',
    `Pre-trained twice from seed ${result.seed} for ${result.epochs} epoch${result.epochs === 1 ? '' : 's'} (batch ${result.batchSize}, ${result.size} px${result.init !== null ? `, from ${result.init}` : ', random init'}) on ${result.data.join(', ')}: ` +
      `without SPD (η 0) and with SPD (η ${result.eta}). Each backbone scored by ${result.detector} on ${result.evalData}. ` +
      'Percent; in brackets, w/ SPD minus w/o SPD (of the values as shown).',
    '',
    renderAblationMarkdown(rows),
    '',
    ...arms.map((a) => `- ${a.label}: ${a.dir} (backbone sha256 ${a.backboneSha256}; last epoch's mean loss ${a.pretraining.lastEpochLoss?.toFixed(4) ?? '-'})`),
    '',
  ].join('\n');
}

export async function runAblation(options: AblationOptions, hooks: AblationHooks = {}): Promise<AblationResult> {
  const started = Date.now();
  const plan = planAblation(options);
  const evalData = resolve(options.evalData);
  // The evaluation data is checked first: a wrong object name must not cost two pre-training runs.
  const objects = await evaluationObjects(evalData, options.objects);
  const result: AblationResult = {
    completed: false,
    method: options.method,
    backbone: options.backbone,
    eta: plan.eta,
    detector: plan.detector,
    size: plan.size,
    seed: plan.seed,
    epochs: options.epochs,
    batchSize: options.batchSize,
    init: options.init ?? null,
    data: options.data.map((d) => resolve(d)),
    evalData,
    objects,
    out: plan.out,
    arms: {} as Record<AblationArm, AblationArmResult>,
    rows: null,
    files: null,
    seconds: 0,
  };
  const finish = (): AblationResult => ({ ...result, seconds: (Date.now() - started) / 1000 });

  for (const arm of ABLATION_ARMS) {
    const r = await pretrainArm(plan, arm, hooks);
    result.arms[arm] = r;
    if (!r.pretraining.completed) return finish();
  }
  for (const arm of ABLATION_ARMS) {
    for (const object of objects) {
      if (hooks.signal?.aborted) return finish();
      result.arms[arm].evaluations.push(await evaluateArm(plan, result.arms[arm], object, evalData, hooks));
    }
  }

  const metricsOf = (arm: AblationArm, object: string): AblationMetrics => result.arms[arm].evaluations.find((e) => e.object === object)!.metrics;
  const rows = ablationRows(objects.map((object) => ({ object, withoutSpd: metricsOf('withoutSpd', object), withSpd: metricsOf('withSpd', object) })));
  const files = { json: join(plan.out, ABLATION_JSON), markdown: join(plan.out, ABLATION_MARKDOWN) };
  const done: AblationResult = { ...finish(), completed: true, rows, files };
  await writeFileAtomic(files.json, JSON.stringify(done, null, 2) + '\n');
  await writeFileAtomic(files.markdown, markdownReport(done, rows));
  return done;
}

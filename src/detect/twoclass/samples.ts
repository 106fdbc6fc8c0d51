import { sampleKShot } from '../../data/kshot.js';
import type { Sample } from '../../data/datasets/sample.js';
import { SpotdiffError } from '../../util/errors.js';
import type { TwoClassTask } from './loss.js';

/**
 * The labelled images a 2-class run trains on: normal and anomalous samples (label from the
 * dataset; 1 = anomaly). The segmenter learns from masks: a normal image's mask is all 0, an
 * anomalous image must have one.
 */
export function checkTrainingSamples(task: TwoClassTask, samples: readonly Sample[]): void {
  if (samples.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no images to train on');
  const anomalies = samples.filter((s) => s.label === 'anomaly');
  if (anomalies.length === 0 || anomalies.length === samples.length) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `a 2-class ${task} needs normal and anomalous training images; got ${samples.length - anomalies.length} normal and ${anomalies.length} anomalous`,
    );
  }
  if (task !== 'segmenter') return;
  const unmasked = anomalies.filter((s) => s.mask === null);
  if (unmasked.length > 0) {
    const shown = unmasked.slice(0, 3).map((s) => s.image).join(', ');
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `the segmenter learns from defect masks, and ${unmasked.length} anomalous training image(s) have none (${shown}${unmasked.length > 3 ? ', ...' : ''}); give their masks, or train the classifier`,
    );
  }
}

export interface FewShotDraw {
  /** Images per class (per object) drawn from the train split. */
  k: number;
  /** Which of the protocol's runs (0-based): run r is sampleKShot's run r. */
  run: number;
  /** The draw's seed (sampleKShot's; default 0). */
  seed?: number;
}

/** One few-shot run's training images: k normal and k anomalous per object, as sampleKShot draws them for `run`. */
export function fewShotSamples(samples: readonly Sample[], draw: FewShotDraw): Sample[] {
  if (!Number.isInteger(draw.run) || draw.run < 0) throw new SpotdiffError('ERR_BAD_INPUT', `run must be an integer ≥ 0, got ${draw.run}`);
  const runs = sampleKShot(samples, { k: draw.k, runs: draw.run + 1, seed: draw.seed ?? 0 });
  const picked = runs[draw.run] as (typeof runs)[number];
  return [...picked.normal, ...picked.anomaly];
}

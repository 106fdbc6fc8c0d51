import { cosineLr, stepLr } from '../nn/index.js';
import type { PretrainConfig } from './run-config.js';

/**
 * The learning rate of a pre-training step, a pure function of the run's config and the
 * step's 0-based index over the whole run, so that a resumed run needs no scheduler state.
 * - cosine (SimSiam, MoCo v2, SimCLR): linear warm-up from 0 over warmupEpochs, then
 *   lr·½(1 + cos(π·progress)) over the remaining steps, updated every step;
 * - step (supervised, torchvision's recipe): after the warm-up, lr × 0.1 every 30 epochs.
 * Parameter groups a method marks fixedLr (SimSiam's predictor) keep lr throughout.
 */
export const STEP_SCHEDULE_EPOCHS = 30;

export function scheduledLr(config: PretrainConfig, step: number): number {
  const warmupSteps = config.warmupEpochs * config.stepsPerEpoch;
  const totalSteps = config.epochs * config.stepsPerEpoch;
  if (config.schedule === 'cosine') return cosineLr(config.lr, step, { epochs: totalSteps, warmupEpochs: warmupSteps });
  if (step < warmupSteps) return (config.lr * step) / warmupSteps;
  return stepLr(config.lr, Math.floor(step / config.stepsPerEpoch), { stepSize: STEP_SCHEDULE_EPOCHS, gamma: 0.1 });
}

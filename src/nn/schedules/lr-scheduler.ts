import type { BaseHyperparameters, Optimizer } from '../optim/optimizer.js';
import { SpotdiffError } from '../../util/errors.js';
import type { LrSchedule } from './lr-schedules.js';

/**
 * Sets an optimiser's learning rates from a schedule, as torch's schedulers: the base rate of
 * each group is its lr when the scheduler is made, the rate for epoch 0 is set at once, and
 * step() moves to the next epoch. setEpoch() takes fractional epochs for per-iteration updates.
 */
export class LrScheduler {
  readonly baseLrs: number[];
  #epoch = 0;

  constructor(readonly optimizer: Optimizer<BaseHyperparameters>, readonly schedule: LrSchedule) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.#apply();
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The rate each group has now. */
  get lastLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Advances one epoch (call once per epoch, after the optimiser's steps, as in torch). */
  step(): void {
    this.setEpoch(this.#epoch + 1);
  }

  setEpoch(epoch: number): void {
    if (!(epoch >= 0) || !Number.isFinite(epoch)) throw new SpotdiffError('ERR_BAD_INPUT', `LrScheduler: epoch must be a finite number ≥ 0, got ${epoch}`);
    this.#epoch = epoch;
    this.#apply();
  }

  /** Plain numbers for a checkpoint: "epoch" and "baseLr.<g>". */
  stateDict(): Record<string, number> {
    const out: Record<string, number> = { epoch: this.#epoch };
    this.baseLrs.forEach((lr, i) => (out[`baseLr.${i}`] = lr));
    return out;
  }

  loadStateDict(state: Readonly<Record<string, number>>): void {
    const lrs = this.baseLrs.map((_, i) => state[`baseLr.${i}`]);
    const epoch = state.epoch;
    if (typeof epoch !== 'number' || lrs.some((v) => typeof v !== 'number')) {
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `LrScheduler: the saved state needs epoch and baseLr.0..${this.baseLrs.length - 1}, got keys ${Object.keys(state).join(', ')}`);
    }
    lrs.forEach((v, i) => (this.baseLrs[i] = v!));
    this.setEpoch(epoch);
  }

  #apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.schedule(this.baseLrs[i]!, this.#epoch)));
  }
}

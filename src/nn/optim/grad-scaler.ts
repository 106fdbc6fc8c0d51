import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { checkNumber } from './optimizer.js';

/** The optimiser side a scaler needs: its parameters (whose gradients it unscales) and step(). */
export interface ScaledOptimizer {
  parameters(): T.Tensor[];
  step(): void;
}

export interface GradScalerOptions {
  /** The first scale (torch: 2^16). */
  initScale?: number;
  /** Factor after `growthInterval` steps in a row without inf/NaN gradients (torch: 2). */
  growthFactor?: number;
  /** Factor after a step with inf/NaN gradients, which is skipped (torch: 0.5). */
  backoffFactor?: number;
  /** Steps without inf/NaN before the scale grows (torch: 2000). */
  growthInterval?: number;
  /** Off: scale() returns the loss as it is and step() always steps (one code path for fp32 and bf16). */
  enabled?: boolean;
}

/** The numbers that resume a scaler exactly, as torch's GradScaler.state_dict() holds them. */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
}

/**
 * Dynamic loss scaling for float16 training, as torch.cuda.amp.GradScaler: the loss is
 * multiplied by the scale before backward so small float16 gradients do not flush to zero;
 * step() divides the gradients by the scale and skips the optimiser's step when any is inf or
 * NaN; update() then halves the scale (backoff), or doubles it after `growthInterval` clean
 * steps in a row (torch's _amp_update_scale_: the scale is a float32, and a growth that would
 * overflow it is not taken). Per iteration: scale(loss).backward(), [unscale()], step(), update().
 */
export class GradScaler {
  readonly enabled: boolean;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  #scale: number;
  #growthTracker = 0;
  /** This iteration's inf/NaN check: null until unscale() (or step()) ran. */
  #foundInf: boolean | null = null;

  constructor(opts: GradScalerOptions = {}) {
    this.enabled = opts.enabled ?? true;
    this.#scale = Math.fround(opts.initScale ?? 2 ** 16);
    this.growthFactor = opts.growthFactor ?? 2;
    this.backoffFactor = opts.backoffFactor ?? 0.5;
    this.growthInterval = opts.growthInterval ?? 2000;
    checkNumber('GradScaler', 'options', 'initScale', this.#scale, (v) => v > 0, '> 0 and a finite float32');
    checkNumber('GradScaler', 'options', 'growthFactor', this.growthFactor, (v) => v > 1, '> 1');
    checkNumber('GradScaler', 'options', 'backoffFactor', this.backoffFactor, (v) => v > 0 && v < 1, 'in (0, 1)');
    checkNumber('GradScaler', 'options', 'growthInterval', this.growthInterval, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.#scale : 1;
  }

  /** loss · scale, to call backward() on. */
  scale(loss: T.Tensor): T.Tensor {
    return this.enabled ? T.mul(loss, this.#scale) : loss;
  }

  /**
   * Divides every gradient by the scale, in place, and records whether any is inf or NaN. Call
   * it before clipping or reading gradients; step() calls it when it has not run. Once per step.
   */
  unscale(optimizer: ScaledOptimizer): void {
    if (!this.enabled) return;
    if (this.#foundInf !== null) throw new SpotdiffError('ERR_BAD_INPUT', 'GradScaler.unscale: already unscaled since the last update()');
    const inverse = Math.fround(1 / this.#scale);
    // One native call (torch's fused kernel where the device has one) and one read of its flag.
    this.#foundInf = T.noGrad(() =>
      T.tidy(() => {
        const grads = optimizer.parameters().flatMap((p) => p.grad ?? []);
        return grads.length > 0 && T.ampUnscaleInPlace(grads, inverse).item() !== 0;
      }),
    );
  }

  /** Unscales (when not yet done) and steps the optimiser unless a gradient was inf/NaN; returns whether it stepped. */
  step(optimizer: ScaledOptimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (this.#foundInf === null) this.unscale(optimizer);
    if (this.#foundInf === true) return false;
    optimizer.step();
    return true;
  }

  /** Backs off or grows the scale by this iteration's check, and starts the next iteration. */
  update(): void {
    if (!this.enabled) return;
    const foundInf = this.#foundInf;
    if (foundInf === null) throw new SpotdiffError('ERR_BAD_INPUT', 'GradScaler.update: no inf/NaN check since the last update (call step() first)');
    this.#foundInf = null;
    if (foundInf) {
      this.#scale = Math.fround(this.#scale * this.backoffFactor);
      this.#growthTracker = 0;
      return;
    }
    const successful = this.#growthTracker + 1;
    if (successful < this.growthInterval) {
      this.#growthTracker = successful;
      return;
    }
    const grown = Math.fround(this.#scale * this.growthFactor);
    if (Number.isFinite(grown)) this.#scale = grown;
    this.#growthTracker = 0;
  }

  stateDict(): GradScalerState {
    return { scale: this.#scale, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval, growthTracker: this.#growthTracker };
  }

  /** Restores the scale and the count of clean steps (the factors and interval stay this scaler's). */
  loadStateDict(state: Pick<GradScalerState, 'scale' | 'growthTracker'>): void {
    checkNumber('GradScaler', 'state', 'scale', state.scale, (v) => v > 0, '> 0');
    checkNumber('GradScaler', 'state', 'growthTracker', state.growthTracker, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    this.#scale = Math.fround(state.scale);
    this.#growthTracker = state.growthTracker;
    this.#foundInf = null;
  }
}

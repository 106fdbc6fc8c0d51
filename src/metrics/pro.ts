import { CompensatedSum } from './sum.js';
import type { ThresholdSink } from './threshold-sink.js';

/**
 * The area under the PRO curve (per-region overlap against pixel false-positive rate) up to an
 * FPR limit, divided by the limit, as the MVTec AD evaluation code defines it:
 * - PRO at a threshold is the mean, over every ground-truth region (connected component) of
 *   every map, of the fraction of the region's pixels at or above the threshold; a defect pixel
 *   therefore adds 1 / (its region's size) / (number of regions) when the threshold passes it;
 * - FPR is over all defect-free pixels of all maps;
 * - points are taken at each distinct score (ties join into one step, a diagonal segment), the
 *   curve starts at (0, 0), is integrated by the trapezoid rule and cut at the limit with a
 *   linearly interpolated end point.
 * The result is in [0, 1]; it is clamped so rounding can never push it above 1.
 */
export class ProAccumulator implements ThresholdSink {
  private fp = 0;
  private readonly weight = new CompensatedSum();
  private prevFpr = 0;
  private prevPro = 0;
  private done = false;
  private readonly area = new CompensatedSum();
  /** (FPR, PRO) points up to the limit, for plotting, about `curvePoints` per axis (none if 0). */
  private readonly fprs: number[] = [0];
  private readonly pros: number[] = [0];
  private readonly step: number;
  private pending: [number, number] | null = null;

  constructor(
    private readonly negatives: number,
    private readonly regions: number,
    readonly fprLimit = 0.3,
    curvePoints = 0,
  ) {
    if (!(fprLimit > 0 && fprLimit <= 1)) throw new RangeError(`PRO FPR limit must be in (0, 1], got ${fprLimit}`);
    this.step = curvePoints > 0 ? 1 / curvePoints : Infinity;
  }

  add(_threshold: number, _positives: number, negatives: number, positiveWeight: number): void {
    if (this.done) return;
    this.fp += negatives;
    this.weight.add(positiveWeight);
    const fpr = this.fp / this.negatives;
    const pro = Math.min(1, this.weight.value / this.regions);
    const limit = this.fprLimit;
    if (fpr <= limit) {
      this.area.add(((fpr - this.prevFpr) * (pro + this.prevPro)) / 2);
      this.push(fpr, pro);
    } else {
      // Cut at the limit: interpolate PRO linearly between the last point and this one.
      const atLimit = this.prevPro + ((pro - this.prevPro) * (limit - this.prevFpr)) / (fpr - this.prevFpr);
      this.area.add(((limit - this.prevFpr) * (atLimit + this.prevPro)) / 2);
      this.done = true;
      this.push(limit, atLimit);
    }
    this.prevFpr = fpr;
    this.prevPro = pro;
  }

  private push(fpr: number, pro: number): void {
    if (this.step === Infinity) return;
    const lastFpr = this.fprs[this.fprs.length - 1] as number;
    const lastPro = this.pros[this.pros.length - 1] as number;
    if (fpr - lastFpr >= this.step * this.fprLimit || pro - lastPro >= this.step || this.done) {
      this.fprs.push(fpr);
      this.pros.push(pro);
      this.pending = null;
    } else this.pending = [fpr, pro];
  }

  /** The kept (FPR, PRO) points, from (0, 0) to the limit (or the curve's end). */
  curve(): { fpr: Float64Array; pro: Float64Array } {
    if (this.pending !== null) {
      this.fprs.push(this.pending[0]);
      this.pros.push(this.pending[1]);
      this.pending = null;
    }
    return { fpr: Float64Array.from(this.fprs), pro: Float64Array.from(this.pros) };
  }

  /** AUPRO normalised by the limit, in [0, 1]. */
  value(): number {
    return Math.min(1, Math.max(0, this.area.value / this.fprLimit));
  }
}

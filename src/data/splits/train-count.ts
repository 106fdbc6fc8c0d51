import { SpotdiffError } from '../../util/errors.js';

/**
 * How many of a class's `n` images train under a rule's `fraction`:
 *   round(fraction × n), to the nearest integer with ties to even (Python's round()). This
 *   reproduces every per-object count of the three official VisA split files, including the one
 *   tie (pcb4 1cls: 0.9 × 1005 = 904.5 → 904), which rounding half up would miss.
 *   Then at least one image on each side the rule gives a share to, so a small class still has
 *   a train and a test image; a class with fewer images than that is too small for the rule.
 * `what` names the class in the error ("widget anomaly").
 */
export function trainCount(fraction: number, n: number, what: string): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`train fraction must be in [0, 1], got ${fraction}`);
  const trainSide = fraction > 0 ? 1 : 0;
  const testSide = fraction < 1 ? 1 : 0;
  if (n < trainSide + testSide) {
    const sides = trainSide + testSide === 2 ? 'one train and one test image' : trainSide ? 'one train image' : 'one test image';
    const share = `${Math.round(fraction * 100)}% train / ${Math.round((1 - fraction) * 100)}% test`;
    throw new SpotdiffError('ERR_BAD_INPUT', `${what}: ${n} image(s) is too few for a ${share} split (it needs at least ${trainSide + testSide}: ${sides})`);
  }
  const rounded = roundHalfEven(fraction * n);
  return Math.min(Math.max(rounded, trainSide), n - testSide);
}

/** Nearest integer, ties to the even one. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

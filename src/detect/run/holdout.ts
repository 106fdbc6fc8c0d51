import { SpotdiffError } from '../../util/errors.js';
import { Random } from '../../util/random.js';

/**
 * The seeded validation part held out of the train split to choose the threshold (never test
 * data). One-class methods fit on normals only: `fraction` of the normals (at least 1, at
 * least 1 left to fit) plus every labelled anomaly are held out. Two-class methods also fit on
 * anomalies, so the anomalies are split the same way (stratified): `fraction` of them held
 * out, at least one on each side.
 */
export function holdOutValidation<S extends { label: 'normal' | 'anomaly' }>(samples: readonly S[], fraction: number, seed: number, kind: 'one-class' | 'two-class' = 'one-class'): { fit: S[]; validation: S[] } {
  if (!(fraction > 0 && fraction < 1)) throw new SpotdiffError('ERR_BAD_INPUT', `the validation fraction must be in (0, 1), got ${fraction}`);
  const normals = samples.filter((s) => s.label === 'normal');
  const anomalies = samples.filter((s) => s.label === 'anomaly');
  if (normals.length < 2) {
    throw new SpotdiffError('ERR_BAD_INPUT', `the train split has ${normals.length} normal image${normals.length === 1 ? '' : 's'}; fitting needs at least 2 (one is held out to choose the threshold)`);
  }
  if (kind === 'two-class' && anomalies.length < 2) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `the train split has ${anomalies.length} labelled anomalous image${anomalies.length === 1 ? '' : 's'}; a two-class method needs at least 2 (one to fit on, one held out to choose the threshold): prepare the data with a 2-class split`,
    );
  }
  const random = new Random(seed);
  const n = splitPart(normals, fraction, random);
  if (kind === 'one-class') return { fit: n.kept, validation: [...n.held, ...anomalies] };
  const a = splitPart(anomalies, fraction, random);
  return { fit: [...n.kept, ...a.kept], validation: [...n.held, ...a.held] };
}

/** `fraction` of `items` (at least 1, at most all but 1) drawn by `random`; both parts keep the input order. */
function splitPart<S>(items: readonly S[], fraction: number, random: Random): { kept: S[]; held: S[] } {
  const count = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  const held = new Set(random.shuffle(items.map((_, i) => i)).slice(0, count));
  return { kept: items.filter((_, i) => !held.has(i)), held: items.filter((_, i) => held.has(i)) };
}

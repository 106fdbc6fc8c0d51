import { SpotdiffError } from '../util/errors.js';
import type { ScoredImage } from './types.js';

/**
 * The most informative images to look at: the highest-scoring normal images (the false alarms
 * a threshold would raise first) and the lowest-scoring anomalous ones (the defects missed
 * first). Ties are broken by name so the choice is reproducible.
 */
export function selectExamples<T extends ScoredImage>(images: readonly T[], perClass: number): { normals: T[]; anomalies: T[] } {
  if (!Number.isInteger(perClass) || perClass < 0) throw new SpotdiffError('ERR_BAD_INPUT', `examples per class must be a non-negative integer, got ${perClass}`);
  for (const im of images) {
    if (!Number.isFinite(im.score)) throw new SpotdiffError('ERR_BAD_INPUT', `image ${im.name}: score ${im.score} is not finite`);
  }
  const byName = (a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const normals = images.filter((im) => im.label === 0).sort((a, b) => b.score - a.score || byName(a, b));
  const anomalies = images.filter((im) => im.label === 1).sort((a, b) => a.score - b.score || byName(a, b));
  return { normals: normals.slice(0, perClass), anomalies: anomalies.slice(0, perClass) };
}

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFile } from '../../util/fs.js';
import type { SplitType } from './split-csv.js';

/**
 * The VisA facts shipped with spotdiff in <package root>/data/visa/ (see its README): the
 * official split CSVs, the defect class ids of the masks and the paper's published figures.
 * This file is compiled to dist/src/data/visa/, so the package root is four folders up, in a
 * checkout and in an installed package alike ("data" is in package.json "files").
 */
export const visaFactsDir: string = fileURLToPath(new URL('../../../../data/visa/', import.meta.url));

/** The official split file of a split type, as published with VisA. */
export function officialSplitFile(splitType: SplitType): string {
  return join(visaFactsDir, 'split_csv', `${splitType}.csv`);
}

/** Per object, the name of each defect class id in the raw masks (0 = background). */
export const defectClassesFile: string = join(visaFactsDir, 'defect_classes.json');

/** The SPot-the-Difference paper's published results (percent), tables by name. */
export const paperResultsFile: string = join(visaFactsDir, 'paper_results.json');

/**
 * The split file used when none is named: the dataset's own <datasetRoot>/split_csv/<type>.csv
 * when it has one (a downloaded VisA or a synthetic dataset, whose split lists its own
 * images), otherwise the official one shipped with spotdiff.
 */
export async function defaultSplitFile(datasetRoot: string, splitType: SplitType): Promise<string> {
  const own = join(datasetRoot, 'split_csv', `${splitType}.csv`);
  return (await isFile(own)) ? own : officialSplitFile(splitType);
}

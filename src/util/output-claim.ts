import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotdiffError } from './errors.js';
import { pathExists } from './fs.js';
import { writeFileAtomic } from './atomic-write.js';

/** The list of files a command wrote into a folder the user chose (a hidden file in it). */
export const OUTPUT_LEDGER = '.spotdiff-outputs.json';

interface Ledger {
  writtenBy: string;
  files: string[];
}

/**
 * Claims `files` (paths relative to `dir`) for `writer` before any is written: refuses, naming
 * them, when one exists and is not in the ledger of files `writer` wrote there before, so a
 * rerun replaces its own earlier outputs and nothing of the user's. The ledger is updated
 * first, so an interrupted run's partial outputs stay claimable by the next.
 */
export async function claimOutputFiles(dir: string, writer: string, files: readonly string[]): Promise<void> {
  const earlier = new Set((await readLedger(dir, writer))?.files ?? []);
  const foreign: string[] = [];
  for (const f of files) if (!earlier.has(f) && (await pathExists(join(dir, f)))) foreign.push(f);
  if (foreign.length > 0) {
    const some = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … ${foreign.length - 3} more` : '');
    throw new SpotdiffError('ERR_USAGE', `${dir} already holds ${some}, not written by ${writer}; move them away or write to another folder`);
  }
  const ledger: Ledger = { writtenBy: writer, files: [...new Set([...earlier, ...files])].sort() };
  await writeFileAtomic(join(dir, OUTPUT_LEDGER), JSON.stringify(ledger, null, 2) + '\n');
}

/** The folder's ledger; null when there is none; refused when the file is not `writer`'s ledger. */
async function readLedger(dir: string, writer: string): Promise<Ledger | null> {
  const path = join(dir, OUTPUT_LEDGER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const ledger = JSON.parse(text) as Ledger;
    if (ledger.writtenBy === writer && Array.isArray(ledger.files)) return ledger;
  } catch {
    /* refused below */
  }
  throw new SpotdiffError('ERR_USAGE', `${path} is not a list of files written by ${writer}; move it away or write to another folder`);
}

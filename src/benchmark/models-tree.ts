import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { SpotdiffError } from '../util/errors.js';
import { checkModelsRoot } from '../detect/run/model-output.js';

/**
 * Where the benchmark saves its models: <root>/<protocol>/<row>/<object>, then /<method> when
 * the protocol fits two (2-class: classifier and segmenter), then /run-<r> when runs are
 * several or draws. Before any fitting, the tree is checked as checkModelsRoot checks a
 * folder of model folders: every folder that will hold model folders may hold only model
 * folders, empty folders and save temporaries, and every folder above it only folders, so a
 * mistyped --models never lands in a folder of the user's.
 */

export interface ModelPathParts {
  protocol: string;
  row: string;
  object: string;
  /** Present when the protocol fits more than one method per object. */
  method?: string;
  /** Present when the protocol has several runs (or one draw per run). */
  run?: number;
}

export function benchmarkModelPath(root: string, p: ModelPathParts): string {
  const parts = [root, p.protocol, p.row, p.object];
  if (p.method !== undefined) parts.push(p.method);
  if (p.run !== undefined) parts.push(`run-${p.run}`);
  return join(...parts);
}

type Kind = 'missing' | 'dir' | 'other';

async function kindOf(path: string): Promise<Kind> {
  try {
    return (await lstat(path)).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new SpotdiffError('ERR_IO', `cannot inspect ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** A folder above the model folders: missing, or holding folders only. */
async function checkFoldersOnly(dir: string): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'missing') return;
  const wanted = 'Give a new or empty folder, or the models folder of an earlier benchmark';
  if (kind !== 'dir') throw new SpotdiffError('ERR_USAGE', `refusing to write models under ${dir}: it is not a folder. ${wanted}`);
  const foreign = [];
  for (const name of await readdir(dir)) if ((await kindOf(join(dir, name))) !== 'dir') foreign.push(name);
  if (foreign.length > 0) throw new SpotdiffError('ERR_USAGE', `refusing to write models under ${dir}: it holds files that are not model folders (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}). ${wanted}`);
}

/** Checks every folder between `root` and the given model folders (all under root) before anything is written. */
export async function checkModelsTree(root: string, modelFolders: readonly string[]): Promise<void> {
  const above = new Set<string>();
  const parents = new Set<string>();
  for (const folder of modelFolders) {
    const rel = relative(root, folder);
    if (rel === '' || rel.startsWith('..')) throw new SpotdiffError('ERR_BAD_INPUT', `${folder} is not under ${root}`);
    parents.add(dirname(folder));
    const steps = rel.split(sep).slice(0, -2);
    let dir = root;
    above.add(dir);
    for (const s of steps) above.add((dir = join(dir, s)));
  }
  for (const dir of above) await checkFoldersOnly(dir);
  for (const dir of parents) await checkModelsRoot(dir);
}

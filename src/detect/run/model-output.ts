import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { isAtomicTempName } from '../../util/atomic-write.js';
import { MODEL_FORMAT, MODEL_JSON, MODEL_WEIGHTS } from './model-folder.js';

/**
 * Where a model may be saved. Saving replaces the folder whole, so only a path that holds
 * nothing of the user's qualifies: a missing path, an empty folder, or a model folder that
 * spotdiff wrote (a model.json of format "spotdiff.model" and nothing besides it and
 * weights.safetensors). A file (`--out r18.pth` beside `--weights r18.pth`), a symbolic link
 * or a folder with anything else in it is refused, before any fitting starts.
 */
export async function checkModelOutput(path: string): Promise<void> {
  const kind = await pathKind(path);
  if (kind === 'missing') return;
  if (kind !== 'dir') throw refusal(path, `it is a ${kind}, not a model folder`);
  if (await isEmptyOrModelFolder(path)) return;
  throw refusal(path, `the folder holds files that are not a spotdiff model (${listSome(await readdir(path))})`);
}

/**
 * Where one model folder per object may be saved (`<root>/<object>`): a missing path, or a
 * folder whose every entry is an empty folder or a model folder (what an earlier run wrote),
 * apart from the temporaries of interrupted saves. Anything else of the user's is refused.
 */
export async function checkModelsRoot(root: string): Promise<void> {
  const kind = await pathKind(root);
  if (kind === 'missing') return;
  const wanted = 'a folder of model folders from an earlier run';
  if (kind !== 'dir') throw refusal(root, `it is a ${kind}, not a folder of model folders`, wanted);
  const foreign: string[] = [];
  for (const name of await readdir(root)) {
    const entry = join(root, name);
    if (!isSaveTemporary(name) && !((await pathKind(entry)) === 'dir' && (await isEmptyOrModelFolder(entry)))) foreign.push(name);
  }
  if (foreign.length > 0) throw refusal(root, `it holds entries that are not spotdiff model folders (${listSome(foreign)})`, wanted);
}

type PathKind = 'missing' | 'dir' | 'file' | 'symbolic link' | 'special file';

async function pathKind(path: string): Promise<PathKind> {
  try {
    const s = await lstat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symbolic link' : 'special file';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new SpotdiffError('ERR_IO', `cannot inspect ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Empty, or model.json of spotdiff's format and no file that spotdiff does not write into a model folder. */
async function isEmptyOrModelFolder(dir: string): Promise<boolean> {
  const entries = await readdir(dir);
  if (entries.length === 0) return true;
  if (!entries.includes(MODEL_JSON) || entries.some((n) => n !== MODEL_JSON && n !== MODEL_WEIGHTS)) return false;
  try {
    return (JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as { format?: unknown })?.format === MODEL_FORMAT;
  } catch {
    return false;
  }
}

/** A temporary of writeFileAtomic/writeDirAtomic (`.<name>.tmp-<pid>-<hex>`, `….old`). */
function isSaveTemporary(name: string): boolean {
  return isAtomicTempName(name.replace(/\.old$/, ''));
}

function listSome(names: string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? `, … ${names.length - 3} more` : '');
}

function refusal(path: string, why: string, wanted = 'a model folder from spotdiff fit'): SpotdiffError {
  return new SpotdiffError('ERR_USAGE', `refusing to replace ${path}: ${why}. Give a new or empty folder, or ${wanted}`);
}

import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';
import { isAtomicTempName } from '../util/atomic-write.js';
import { checkModelOutput } from '../detect/run/model-output.js';
import { TWOCLASS_CHECKPOINT_FILE } from '../detect/twoclass/checkpoint.js';
import { TWOCLASS_LOG_FILE } from '../detect/twoclass/log.js';

/**
 * Where the benchmark saves its models: <root>/<protocol>/<row>/<object>, then /<method> when
 * the protocol fits two (2-class: classifier and segmenter), then /run-<r> when runs are
 * several or draws. Before any fitting, the tree is checked as checkModelsRoot checks a
 * folder of model folders: every folder that will hold model folders may hold only model
 * folders, empty folders and save temporaries, and every folder above it only folders, so a
 * mistyped --models never lands in a folder of the user's. Besides those, the benchmark's own
 * files are known: each protocol's results record (<root>/<protocol>/results.jsonl) and the
 * work folder beside each two-class model folder (the trainer's checkpoint and step log).
 */

/** The per-run results record of a protocol's benchmark. */
export function benchmarkResultsPath(root: string, protocol: string): string {
  return join(root, protocol, 'results.jsonl');
}

/** What the tree may hold besides model folders. */
export interface TreeExtras {
  /** Files the benchmark writes above the model folders (the results records). */
  files?: readonly string[];
  /** The work folder of each two-class model folder. */
  workFolders?: readonly string[];
  /** Whether an interrupted fit's checkpoint may be found (resume); otherwise one is refused. */
  resume?: boolean;
}

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

/** A folder above the model folders: missing, or holding folders only (and the benchmark's own files). */
async function checkFoldersOnly(dir: string, files: ReadonlySet<string>): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'missing') return;
  const wanted = 'Give a new or empty folder, or the models folder of an earlier benchmark';
  if (kind !== 'dir') throw new SpotdiffError('ERR_USAGE', `refusing to write models under ${dir}: it is not a folder. ${wanted}`);
  const foreign = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const own = files.has(path) || [...files].some((f) => dirname(f) === dir && isAtomicTempName(name) && name.startsWith(`.${basename(f)}.`));
    if ((await kindOf(path)) !== (own ? 'other' : 'dir')) foreign.push(name);
  }
  if (foreign.length > 0) throw new SpotdiffError('ERR_USAGE', `refusing to write models under ${dir}: it holds files that are not model folders (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}). ${wanted}`);
}

/**
 * Checks every folder between `root` and the given model folders (all under root) before
 * anything is written: above them, folders and the benchmark's files only; beside them, model
 * folders, empty folders, save temporaries and their work folders only.
 */
export async function checkModelsTree(root: string, modelFolders: readonly string[], extras: TreeExtras = {}): Promise<void> {
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
  const files = new Set(extras.files ?? []);
  for (const dir of above) await checkFoldersOnly(dir, files);
  const work = new Set(extras.workFolders ?? []);
  for (const dir of parents) await checkModelFolders(dir, work, extras.resume === true);
}

/**
 * A folder of model folders (as checkModelsRoot checks one): every entry a save temporary, an
 * empty folder, a model folder or a known work folder; anything else is refused, naming it.
 */
async function checkModelFolders(dir: string, work: ReadonlySet<string>, resume: boolean): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'missing') return;
  const wanted = 'Give a new or empty folder, or the models folder of an earlier benchmark';
  if (kind !== 'dir') throw new SpotdiffError('ERR_USAGE', `refusing to replace ${dir}: it is not a folder. ${wanted}`);
  const foreign: string[] = [];
  for (const name of await readdir(dir)) {
    const entry = join(dir, name);
    if (isAtomicTempName(name.replace(/\.old$/, ''))) continue;
    if (work.has(entry)) await checkWorkFolder(entry, resume);
    else if (!(await isModelOutput(entry))) foreign.push(name);
  }
  if (foreign.length > 0) throw new SpotdiffError('ERR_USAGE', `refusing to replace ${dir}: it holds entries that are not spotdiff model folders (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}). ${wanted}`);
}

async function isModelOutput(path: string): Promise<boolean> {
  if ((await kindOf(path)) !== 'dir') return false;
  try {
    await checkModelOutput(path);
    return true;
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_USAGE')) return false;
    throw e;
  }
}

/**
 * A two-class fit's work folder: the trainer's checkpoint and log (and their save
 * temporaries) only. A checkpoint is an interrupted fit: continued with resume, refused
 * without it (a fresh fit would train over it).
 */
async function checkWorkFolder(dir: string, resume: boolean): Promise<void> {
  if ((await kindOf(dir)) !== 'dir') throw new SpotdiffError('ERR_USAGE', `refusing to use ${dir} as a work folder: it is not a folder`);
  const names = await readdir(dir);
  const foreign = names.filter((n) => n !== TWOCLASS_CHECKPOINT_FILE && n !== TWOCLASS_LOG_FILE && !isAtomicTempName(n));
  if (foreign.length > 0) throw new SpotdiffError('ERR_USAGE', `refusing to use ${dir} as a work folder: it holds files the trainer does not write (${foreign.slice(0, 3).join(', ')})`);
  if (!resume && names.includes(TWOCLASS_CHECKPOINT_FILE)) {
    throw new SpotdiffError('ERR_USAGE', `${dir} holds the checkpoint of an interrupted fit: resume the benchmark to continue it, or remove the folder to fit afresh`);
  }
}

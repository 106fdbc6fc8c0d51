import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { copyFileAtomic, isAtomicTempName, writeFileAtomic } from '../../util/atomic-write.js';
import { SpotdiffError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { parseCsvRows } from '../datasets/csv.js';
import { folderProductDirs } from '../datasets/folder.js';
import { rawVisaObjects } from '../datasets/raw-visa.js';
import { defaultSplitFile, officialSplitFile } from './facts.js';
import { layoutCollisions, objectFolders, preparedPaths } from './layout.js';
import { mapLimit } from './parallel.js';
import { binarizeMasks, statSources, type SourceFile } from './sources.js';
import { removeStaleFiles, type StaleSweep } from './stale-files.js';
import { formatProblems, validateSplitRows, type SplitRow, type SplitType } from './split-csv.js';

/**
 * `spotdiff prepare`: turns the raw VisA tree into the prepared (MVTec AD style) layout of one
 * split type, as the official prepare_data.py does (see layout.ts), in four phases:
 *   1. validate the split file (and the layout's name collisions): every problem at once;
 *   2. check that every listed file exists: every missing file at once;
 *   3. decode and binarise every mask in memory: every unreadable mask at once;
 *   4. write, in parallel: images are copied, masks written as 0/255 PNGs.
 * Nothing is written before phase 4, which first removes the files of an earlier run that the
 * split no longer lists (stale-files.ts): the output is the split, never an image in both train
 * and test. Every file is written atomically (temporary name, then rename), so an interrupted
 * run leaves complete files and hidden temporaries, which the next run removes. A re-run skips images whose copy has the source's size and mtime, and masks
 * whose bytes are already right.
 */

export interface PrepareOptions {
  splitType: SplitType;
  /**
   * The raw dataset root (holding split_csv/ and the object folders), or any folder the split
   * file's image and mask paths are relative to, such as a folder dataset split by data/splits.
   */
  dataFolder: string;
  /** The output goes to <saveFolder>/<splitType>/. */
  saveFolder: string;
  /**
   * Default: the dataset's own <dataFolder>/split_csv/<splitType>.csv, or the official split
   * shipped with spotdiff when the dataset has none (see facts.ts).
   */
  splitFile?: string;
  /** File operations in flight at once (default 16). */
  concurrency?: number;
  /** Progress bar and phase messages on stderr (default true). */
  progress?: boolean;
}

type LabelCounts = { normal: number; anomaly: number };
export type ObjectCounts = { train: LabelCounts; test: LabelCounts };

export interface PrepareSummary {
  splitType: SplitType;
  splitFile: string;
  dataFolder: string;
  outputFolder: string;
  /** Images per object, split and label, as listed in the split file. */
  counts: Record<string, ObjectCounts>;
  total: ObjectCounts;
  images: { copied: number; upToDate: number };
  masks: { written: number; upToDate: number };
  /** Temporary files of an earlier, interrupted run that were removed. */
  removedTempFiles: number;
  /** Files of an earlier run that the split no longer lists (e.g. an image moved from train to test), removed. */
  removedFiles: number;
  /** Folders in the output beside the split's objects, left as they are. */
  otherObjects: string[];
}

export async function prepareVisa(options: PrepareOptions): Promise<PrepareSummary> {
  const { splitType } = options;
  const dataFolder = resolve(options.dataFolder);
  const outputFolder = resolve(options.saveFolder, splitType);
  const splitFile = resolve(options.splitFile ?? (await defaultSplitFile(dataFolder, splitType)));
  if (options.splitFile === undefined) await refuseOfficialSplitForFolderDataset(dataFolder, splitFile, splitType);
  const concurrency = options.concurrency ?? 16;
  const showProgress = options.progress ?? true;
  const say = (line: string): void => void (showProgress && process.stderr.write(line + '\n'));

  if (!(await isDirectory(dataFolder))) throw new SpotdiffError('ERR_NOT_FOUND', `data folder ${dataFolder} does not exist (it should hold the extracted VisA dataset, or the images a split file lists)`);
  const shipped = splitFile === officialSplitFile(splitType) ? ` (the official VisA split shipped with spotdiff: ${dataFolder} has no split_csv/${splitType}.csv)` : '';
  const rows = await readRows(splitFile, splitType, options.splitFile === undefined);
  say(`prepare ${splitType}: ${rows.length} images listed in ${splitFile}${shipped}`);

  const sources = await statSources(dataFolder, rows, Math.max(concurrency, 32), splitFile + shipped);
  const maskSources = [...sources.values()].filter((s) => s.kind === 'mask');
  const maskBar = new Progress({ total: maskSources.length, label: 'binarising masks', unit: 'masks', enabled: showProgress });
  const maskPngs = await binarizeMasks(maskSources, concurrency, splitFile, () => maskBar.tick());
  maskBar.finish();

  // Phase 4: from here on files are written (and files that left the split removed).
  const jobs = writeJobs(rows, splitType, outputFolder, sources, maskPngs);
  const objects = new Set(rows.map((r) => r.object));
  const { removedTempFiles, stale } = await clearOutput(outputFolder, objects, splitType, jobs);
  const { images, masks } = await writeOutputs(jobs, concurrency, new Progress({ total: jobs.length, label: `writing ${splitType}`, unit: 'files', enabled: showProgress }));
  const { counts, total } = countRows(rows);
  say(
    `prepare ${splitType}: ${outputFolder}: ${images.copied} image(s) copied, ${images.upToDate} up to date; ${masks.written} mask(s) written, ${masks.upToDate} up to date; ` +
      `${stale.removed} file(s) no longer in the split removed`,
  );
  if (stale.otherObjects.length > 0) say(`prepare ${splitType}: note: ${outputFolder} also holds folder(s) this split does not list, left as they are: ${stale.otherObjects.join(', ')}`);
  return { splitType, splitFile, dataFolder, outputFolder, counts, total, images, masks, removedTempFiles, removedFiles: stale.removed, otherObjects: stale.otherObjects };
}

type WriteJob = { kind: 'image'; src: SourceFile; dest: string } | { kind: 'mask'; png: Buffer; dest: string };

/** What to write where: every image of the split, and the binarised mask of every anomaly that keeps one. */
function writeJobs(rows: readonly SplitRow[], splitType: SplitType, outputFolder: string, sources: Map<string, SourceFile>, maskPngs: Map<string, Buffer>): WriteJob[] {
  const jobs: WriteJob[] = [];
  for (const row of rows) {
    const paths = preparedPaths(row, splitType);
    jobs.push({ kind: 'image', src: sources.get(row.image) as SourceFile, dest: join(outputFolder, paths.image) });
    if (paths.mask !== null && row.mask !== null) jobs.push({ kind: 'mask', png: maskPngs.get(row.mask) as Buffer, dest: join(outputFolder, paths.mask) });
  }
  return jobs;
}

/** Creates the layout's folders, then removes temporaries of an interrupted run and files that left the split. */
async function clearOutput(outputFolder: string, objects: ReadonlySet<string>, splitType: SplitType, jobs: readonly WriteJob[]): Promise<{ removedTempFiles: number; stale: StaleSweep }> {
  const folders = new Set<string>();
  for (const object of objects) for (const f of objectFolders(object, splitType)) folders.add(join(outputFolder, f));
  for (const f of [...folders].sort()) await ensureDirectory(f);
  try {
    const removedTempFiles = await removeTempFiles([...folders]);
    const expected = new Set(jobs.map((j) => relative(outputFolder, j.dest).split(sep).join('/')));
    return { removedTempFiles, stale: await removeStaleFiles(outputFolder, objects, splitType, expected) };
  } catch (e) {
    throw writeError(outputFolder, e);
  }
}

/** Writes every job, skipping files already right: images by size and mtime, masks by bytes. */
async function writeOutputs(jobs: readonly WriteJob[], concurrency: number, bar: Progress): Promise<Pick<PrepareSummary, 'images' | 'masks'>> {
  const images = { copied: 0, upToDate: 0 };
  const masks = { written: 0, upToDate: 0 };
  await mapLimit(jobs, concurrency, async (job) => {
    try {
      if (job.kind === 'image') {
        if (await sameSizeAndTime(job.dest, job.src)) images.upToDate++;
        else {
          await copyFileAtomic(job.src.abs, job.dest, { preserveTimes: { atime: job.src.atimeMs / 1000, mtime: job.src.mtimeMs / 1000 } });
          images.copied++;
        }
      } else if (await sameBytes(job.dest, job.png)) masks.upToDate++;
      else {
        await writeFileAtomic(job.dest, job.png);
        masks.written++;
      }
    } catch (e) {
      throw writeError(job.dest, e);
    }
    bar.tick();
  });
  bar.finish();
  return { images, masks };
}

/** Phase 1: the split file's problems and the layout's collisions, in one ERR_BAD_CSV. */
async function readRows(splitFile: string, splitType: SplitType, isDefault: boolean): Promise<SplitRow[]> {
  let text: string;
  try {
    text = await readFile(splitFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = isDefault ? ' (the default split file; pass --split-file to use another)' : '';
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read split file ${splitFile}${hint}: ${(e as Error).message}`, { cause: e });
  }
  const parsed = parseCsvRows(text, splitFile);
  const header = parsed.shift();
  if (!header) throw new SpotdiffError('ERR_BAD_CSV', `${splitFile} is empty (expected the header object,split,label,image,mask)`);
  const { rows, problems } = validateSplitRows(header.fields, parsed, splitType);
  problems.push(...layoutCollisions(rows, splitType));
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new SpotdiffError('ERR_BAD_CSV', `${formatProblems(splitFile, problems)}\n(nothing was written)`);
  }
  return rows;
}

/**
 * A folder dataset (good/, bad/, masks/) has no split of its own, and the official VisA split
 * lists none of its images: say how to make one instead of listing thousands of missing files.
 */
async function refuseOfficialSplitForFolderDataset(dataFolder: string, splitFile: string, splitType: SplitType): Promise<void> {
  if (splitFile !== officialSplitFile(splitType)) return;
  if ((await rawVisaObjects(dataFolder)).objects.length > 0 || (await folderProductDirs(dataFolder)).size === 0) return;
  throw new SpotdiffError(
    'ERR_NOT_FOUND',
    `${dataFolder} is a folder dataset (good/, bad/, masks/), not raw VisA, and has no split_csv/${splitType}.csv; the official VisA split does not list its images. ` +
      `Make a split file for it (spotdiff split) and name it as the split file.`,
  );
}

export function countRows(rows: readonly SplitRow[]): { counts: Record<string, ObjectCounts>; total: ObjectCounts } {
  const empty = (): ObjectCounts => ({ train: { normal: 0, anomaly: 0 }, test: { normal: 0, anomaly: 0 } });
  const counts: Record<string, ObjectCounts> = {};
  const total = empty();
  for (const r of rows) {
    (counts[r.object] ??= empty())[r.split][r.label]++;
    total[r.split][r.label]++;
  }
  return { counts, total };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function ensureDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    throw writeError(path, e);
  }
}

async function removeTempFiles(folders: readonly string[]): Promise<number> {
  let removed = 0;
  for (const folder of folders) {
    for (const name of await readdir(folder)) {
      if (!isAtomicTempName(name)) continue;
      await rm(join(folder, name), { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}

/**
 * An earlier copy is current when it has the source's size and modification time (copies get
 * the source's mtime; within 1 ms, as timestamps pass through a double of seconds).
 */
async function sameSizeAndTime(dest: string, src: SourceFile): Promise<boolean> {
  try {
    const st = await stat(dest);
    return st.isFile() && st.size === src.size && Math.abs(st.mtimeMs - src.mtimeMs) < 1;
  } catch {
    return false;
  }
}

async function sameBytes(dest: string, bytes: Buffer): Promise<boolean> {
  try {
    const st = await stat(dest);
    if (!st.isFile() || st.size !== bytes.length) return false;
    return bytes.equals(await readFile(dest));
  } catch {
    return false;
  }
}

function writeError(path: string, e: unknown): SpotdiffError {
  if (e instanceof SpotdiffError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const why: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exceeded',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a parent of this path is a file, not a folder',
    EEXIST: 'a file is in the way of a folder',
  };
  const reason = why[code] ?? (e as Error).message;
  return new SpotdiffError('ERR_IO', `cannot write ${path}: ${reason}${code && why[code] ? ` (${code})` : ''}`, { cause: e });
}

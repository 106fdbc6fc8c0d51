import { readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { SpotdiffError } from '../../util/errors.js';
import { pathExists } from '../../util/fs.js';
import { Progress } from '../../util/progress.js';
import { extractTar, findDatasetRoot } from './extract.js';
import { downloadResumable } from './resumable-download.js';

/**
 * `spotdiff download visa`: fetches the VisA tar (resumably, see resumable-download.ts),
 * extracts it and leaves the raw dataset in <to>/VisA, ready for `spotdiff prepare`.
 * Extraction goes to a hidden staging folder; a marker file is written into the extracted tree
 * and only then is the tree renamed to <to>/VisA, so <to>/VisA with its marker means a complete
 * extraction and a re-run does nothing; an interrupted one starts its extraction over.
 */

/** The published VisA archive: the VisA tar in the public amazon-visual-anomaly bucket (us-west-2). */
export const VISA_URL = 'https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar';
export const VISA_FOLDER = 'VisA';
export const DOWNLOAD_MARKER = '.spotdiff-download.json';

export interface DownloadVisaOptions {
  to: string;
  url?: string;
  /** Failed attempts in a row retried before giving up (default 3). */
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Delete the tar once it is extracted (default: keep it). */
  removeArchive?: boolean;
  /** Progress and messages on stderr (default true). */
  progress?: boolean;
}

export interface DownloadVisaSummary {
  url: string;
  archive: string;
  /** The raw dataset root, for `spotdiff prepare --data-folder`. */
  dataFolder: string;
  /** False when an earlier run had already finished this step. */
  downloaded: boolean;
  extracted: boolean;
  bytes: number;
  entries: number;
  /** Offsets that interrupted transfers were resumed from in this run. */
  resumedFrom: number[];
  restarts: number;
}

interface Marker {
  url: string;
  archive: string;
  bytes: number;
  entries: number;
  etag: string | null;
  extractedAt: string;
}

export async function downloadVisa(options: DownloadVisaOptions): Promise<DownloadVisaSummary> {
  const to = resolve(options.to);
  const url = options.url ?? VISA_URL;
  const archive = join(to, archiveName(url));
  const dataFolder = join(to, VISA_FOLDER);
  const showProgress = options.progress ?? true;
  const say = (line: string): void => void (showProgress && process.stderr.write(line + '\n'));

  const done = await readMarker(join(dataFolder, DOWNLOAD_MARKER));
  if (done !== null) {
    say(`VisA is already downloaded and extracted in ${dataFolder}`);
    return { url, archive, dataFolder, downloaded: false, extracted: false, bytes: done.bytes, entries: done.entries, resumedFrom: [], restarts: 0 };
  }
  if (await pathExists(dataFolder)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${dataFolder} exists but was not made by spotdiff download; move it away, or use it directly with spotdiff prepare --data-folder ${dataFolder}`);
  }

  let downloaded = false;
  let etag: string | null = null;
  let resumedFrom: number[] = [];
  let restarts = 0;
  if (await pathExists(archive)) say(`using the finished download ${archive}`);
  else {
    say(`downloading ${url}\n  to ${archive}`);
    const bar = new ByteProgress('download', showProgress);
    const result = await downloadResumable(url, archive, {
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      timeoutMs: options.timeoutMs,
      onProgress: (bytes, total) => bar.update(bytes, total),
      log: (line) => say(line),
    });
    bar.finish();
    downloaded = true;
    ({ etag, resumedFrom, restarts } = result);
  }
  const bytes = (await stat(archive)).size;

  const staging = join(to, `.${VISA_FOLDER}.extracting`);
  const bar = new ByteProgress('extract', showProgress);
  let extractedBytes = 0;
  let entries: number;
  try {
    entries = await extractTar(archive, staging, { onEntry: (n) => bar.update((extractedBytes += n), bytes) });
    bar.finish();
    const root = await findDatasetRoot(staging);
    const marker: Marker = { url, archive: basename(archive), bytes, entries, etag, extractedAt: new Date().toISOString() };
    await writeFileAtomic(join(root, DOWNLOAD_MARKER), JSON.stringify(marker, null, 2) + '\n');
    await rename(root, dataFolder);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (options.removeArchive) await rm(archive, { force: true });
  say(`VisA is ready in ${dataFolder}\nnext: spotdiff prepare --split-type 1cls --data-folder ${dataFolder} --save-folder <OUT>`);
  return { url, archive, dataFolder, downloaded, extracted: true, bytes, entries, resumedFrom, restarts };
}

/** The archive's file name: the last segment of the URL's path. */
export function archiveName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new SpotdiffError('ERR_USAGE', `not a URL: "${url}"`);
  }
  const name = decodeURIComponent(path.split('/').pop() ?? '');
  return name === '' || name === '.' || name === '..' || name.includes('/') ? 'VisA.tar' : name;
}

async function readMarker(path: string): Promise<Marker | null> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Marker;
    return typeof m.url === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** A Progress bar counted in MiB, created once the total is known. */
class ByteProgress {
  private bar: Progress | null = null;
  private shown = 0;
  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  update(bytes: number, total: number | null): void {
    if (!this.enabled) return;
    const mib = Math.floor(bytes / 1048576);
    if (this.bar === null) {
      // A resumed transfer counts from where it resumed, so the rate and ETA stay honest.
      const from = mib > 0 ? ` (from ${mib} MiB)` : '';
      this.bar = new Progress({ total: total === null ? 0 : Math.ceil(total / 1048576) - mib, label: this.label + from, unit: 'MiB' });
      this.shown = mib;
    }
    if (mib > this.shown) {
      this.bar.tick(mib - this.shown);
      this.shown = mib;
    }
  }

  finish(): void {
    this.bar?.finish();
  }
}

import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { SpotdiffError } from '../util/errors.js';
import { readNpy } from '../data/npy.js';
import { readMask } from '../data/mask.js';
import { badImage, readImageFile } from '../data/image.js';
import { listSome } from '../data/datasets/files.js';
import type { MapSource, ScoreMap } from './score-map.js';

/**
 * Anomaly maps on disk, paired with ground-truth masks by relative path:
 * `<pred-dir>/bad/003.npy` (or `.png`) goes with `<gt-dir>/bad/003.png`, or with
 * `<gt-dir>/bad/003_mask.png` as MVTec AD names its masks. Maps are float32 .npy arrays
 * (float64 and uint8 are converted; shape H×W, 1×H×W or H×W×1) or greyscale PNGs, 16-bit
 * (value / 65535) or 8-bit (value / 255). Masks are PNGs whose non-zero pixels are defects.
 */

export interface MapFilePair {
  /** Relative path without extension, e.g. "bad/003". */
  name: string;
  pred: string;
  /** null: no mask, the image is taken as defect-free (only with missingMasksNormal). */
  mask: string | null;
}

async function listFiles(dir: string, what: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
      .sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read the ${what} folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function splitExt(path: string): [string, string] {
  const dot = path.lastIndexOf('.');
  return dot <= path.lastIndexOf('/') ? [path, ''] : [path.slice(0, dot), path.slice(dot + 1).toLowerCase()];
}

/**
 * Pairs every map in `predDir` with its mask in `gtDir`. Maps without a mask are an error that
 * lists them all, unless `missingMasksNormal` says such images are defect-free; masks without a
 * map are always an error (their defects would silently drop out of the metrics).
 */
export async function pairMapFiles(predDir: string, gtDir: string, options: { missingMasksNormal?: boolean } = {}): Promise<MapFilePair[]> {
  const preds = (await listFiles(predDir, 'prediction')).filter((f) => ['npy', 'png'].includes(splitExt(f)[1]));
  if (preds.length === 0) throw new SpotdiffError('ERR_NOT_FOUND', `no .npy or .png maps in ${predDir}`);
  const masks = new Map<string, string>();
  for (const f of await listFiles(gtDir, 'ground-truth')) {
    const [base, ext] = splitExt(f);
    if (ext === 'png') masks.set(base, f);
  }
  const seen = new Map<string, string>();
  const used = new Set<string>();
  const pairs: MapFilePair[] = [];
  const missing: string[] = [];
  for (const f of preds) {
    const [base] = splitExt(f);
    const twin = seen.get(base);
    if (twin !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `two maps for one image: ${twin} and ${f} in ${predDir}`);
    seen.set(base, f);
    const maskRel = masks.get(base) ?? masks.get(`${base}_mask`);
    if (maskRel === undefined) missing.push(f);
    else used.add(maskRel);
    pairs.push({ name: base, pred: join(predDir, f), mask: maskRel === undefined ? null : join(gtDir, maskRel) });
  }
  if (missing.length > 0 && !options.missingMasksNormal) {
    throw new SpotdiffError(
      'ERR_NOT_FOUND',
      `${missing.length} map(s) in ${predDir} have no mask in ${gtDir} (looked for <name>.png and <name>_mask.png):\n${listSome(missing)}\n` +
        '(if those images are defect-free, pass --missing-masks-normal)',
    );
  }
  const orphans = [...masks.values()].filter((m) => !used.has(m));
  if (orphans.length > 0) {
    throw new SpotdiffError('ERR_NOT_FOUND', `${orphans.length} mask(s) in ${gtDir} have no map in ${predDir}:\n${listSome(orphans)}`);
  }
  return pairs;
}

export interface ScoreImage {
  scores: Float32Array;
  width: number;
  height: number;
  /** True when float64 values had to be rounded to float32. */
  rounded: boolean;
}

/** Reads one map file (.npy or greyscale .png) as float32 scores. */
export async function readScoreFile(path: string): Promise<ScoreImage> {
  if (splitExt(path)[1] === 'npy') {
    const arr = await readNpy(path);
    const s = arr.shape;
    const dims = s.length === 2 ? s : s.length === 3 && s[0] === 1 ? s.slice(1) : s.length === 3 && s[2] === 1 ? s.slice(0, 2) : [];
    if (dims.length !== 2) {
      throw new SpotdiffError('ERR_SHAPE', `${path}: a map must be H×W (or 1×H×W, H×W×1), got shape (${arr.shape.join(', ')})`);
    }
    const [height, width] = dims as [number, number];
    if (arr.data instanceof Float32Array) return { scores: arr.data, width, height, rounded: false };
    if (arr.data instanceof BigInt64Array) throw new SpotdiffError('ERR_DTYPE', `${path}: int64 maps are not supported; save scores as float32`);
    const scores = Float32Array.from(arr.data);
    let rounded = false;
    if (arr.data instanceof Float64Array) for (let i = 0; i < scores.length && !rounded; i++) rounded = scores[i] !== arr.data[i];
    return { scores, width, height, rounded };
  }
  const bytes = await readImageFile(path);
  try {
    const meta = await sharp(bytes).metadata();
    const channels = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0);
    if (channels !== 1) throw new SpotdiffError('ERR_BAD_IMAGE', `${path}: a PNG map must be greyscale, it has ${channels} colour channels`);
    const wide = meta.depth === 'ushort';
    const { data, info } = await sharp(bytes, { failOn: 'error', ignoreIcc: true })
      .removeAlpha()
      .toColourspace(wide ? 'grey16' : 'b-w')
      .raw(wide ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
    const values = wide ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
    const scale = wide ? 65535 : 255;
    const scores = new Float32Array(info.width * info.height);
    for (let i = 0; i < scores.length; i++) scores[i] = (values[i * info.channels] as number) / scale;
    return { scores, width: info.width, height: info.height, rounded: false };
  } catch (e) {
    if (e instanceof SpotdiffError) throw e;
    throw badImage(path, e);
  }
}

/**
 * A map source over file pairs: each pass reads the files again, one pair at a time, so memory
 * holds one map. `onRounded` hears once about float64 maps rounded to float32.
 */
export function mapFileSource(pairs: readonly MapFilePair[], onRounded?: (file: string) => void): MapSource {
  let warned = false;
  return async function* (): AsyncGenerator<ScoreMap> {
    for (const pair of pairs) {
      const map = await readScoreFile(pair.pred);
      if (map.rounded && !warned) {
        warned = true;
        onRounded?.(pair.pred);
      }
      let mask: Uint8Array | null = null;
      if (pair.mask !== null) {
        const m = await readMask(pair.mask);
        if (m.width !== map.width || m.height !== map.height) {
          throw new SpotdiffError('ERR_SHAPE', `size mismatch: map ${pair.pred} is ${map.width}×${map.height}, mask ${pair.mask} is ${m.width}×${m.height}`);
        }
        mask = m.data;
      }
      yield { scores: map.scores, mask, width: map.width, height: map.height, name: pair.pred };
    }
  };
}

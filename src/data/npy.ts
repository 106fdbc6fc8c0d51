import { readFile } from 'node:fs/promises';
import { SpotdiffError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/**
 * A small reader and writer for NumPy's .npy format (versions 1.0, 2.0 and 3.0), enough for
 * anomaly maps and masks: little-endian float32, float64, uint8 and int64 arrays in C order.
 * Anything else (Fortran order, big-endian, other dtypes, object arrays) is refused with a clear
 * error instead of being misread.
 */

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int64';

export type NpyData = Float32Array | Float64Array | Uint8Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '<i8': 'int64',
};

const DESCR_OF: Record<NpyDtype, string> = { float32: '<f4', float64: '<f8', uint8: '|u1', int64: '<i8' };

const ITEM_SIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, uint8: 1, int64: 8 };

function bad(source: string, why: string): SpotdiffError {
  return new SpotdiffError('ERR_BAD_INPUT', `${source}: not a readable .npy file: ${why}`);
}

/** Pulls one `'key': value` entry out of the header's Python dict literal. */
function headerField(header: string, key: string): string | undefined {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*`).exec(header);
  if (!m) return undefined;
  const rest = header.slice(m.index + m[0].length);
  if (rest.startsWith('(')) return rest.slice(0, rest.indexOf(')') + 1);
  const q = rest[0];
  if (q === "'" || q === '"') return rest.slice(1, rest.indexOf(q, 1));
  return /^[A-Za-z]+/.exec(rest)?.[0];
}

/** Parses .npy bytes. `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad(source, 'missing the \\x93NUMPY magic');
  const major = bytes[6] as number;
  if (major < 1 || major > 3) throw bad(source, `unsupported format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) throw bad(source, 'header longer than the file');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + 8 + lenBytes, headerLen).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = headerField(header, 'descr');
  const fortran = headerField(header, 'fortran_order');
  const shapeText = headerField(header, 'shape');
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(source, `header lacks descr, fortran_order or shape: ${header.trim()}`);
  const dtype = DESCR[descr];
  if (dtype === undefined) {
    throw new SpotdiffError('ERR_DTYPE', `${source}: dtype ${descr} is not supported (float32 '<f4', float64 '<f8', uint8 '|u1', int64 '<i8' are; convert with arr.astype(np.float32))`);
  }
  if (fortran !== 'False') {
    throw new SpotdiffError('ERR_BAD_INPUT', `${source}: Fortran-ordered arrays are not supported; save np.ascontiguousarray(arr) instead`);
  }
  const shape = shapeText
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(source, `bad shape ${shapeText}`);
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * ITEM_SIZE[dtype];
  if (dataStart + byteLength > bytes.length) {
    throw bad(source, `truncated: shape ${shapeText} needs ${byteLength} data bytes, the file has ${bytes.length - dataStart}`);
  }
  // Copy so the typed array is aligned and does not pin the whole file buffer.
  const raw = bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + dataStart + byteLength);
  const data: NpyData =
    dtype === 'float32' ? new Float32Array(raw) : dtype === 'float64' ? new Float64Array(raw) : dtype === 'uint8' ? new Uint8Array(raw) : new BigInt64Array(raw);
  return { dtype, shape, data };
}

/** Reads a .npy file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `file not found: ${path}`, { cause: e });
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseNpy(bytes, path);
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Uint8Array) return 'uint8';
  return 'int64';
}

/**
 * The .npy header (format 1.0, padded to a multiple of 64 bytes as NumPy pads it) for an array of
 * `dtype` and `shape`; the C-order data follows it. Lets large arrays be written in pieces.
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new SpotdiffError('ERR_SHAPE', `bad npy shape (${shape.join(', ')})`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1; // magic+version+length, header, '\n'
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new SpotdiffError('ERR_SHAPE', 'npy header too long');
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}

/** Encodes an array as .npy. */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new SpotdiffError('ERR_SHAPE', `npy shape (${shape.join(', ')}) does not hold ${data.length} values`);
  const header = npyHeader(dtypeOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/** Writes a .npy file atomically. */
export async function writeNpy(path: string, data: NpyData, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(path, encodeNpy(data, shape));
}

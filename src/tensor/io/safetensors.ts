import { constants as bufferConstants } from 'node:buffer';
import type { DType } from '../dtype.js';
import { SpotdiffError } from '../../util/errors.js';
import { writeFileAtomicWith } from '../../util/atomic-write.js';
import { withFileSource } from './byte-source.js';
import { ITEMSIZE, numelOf, type HostTensor } from './host-tensor.js';
import type { StateDict } from './state-dict.js';

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{"__metadata__": {str: str}, name: {dtype, shape, data_offsets: [begin, end]}}`
 * padded with spaces to a multiple of 8, then the tensors' bytes back to back. Offsets are
 * relative to the end of the header and must tile the data exactly.
 */

export interface SafetensorsContent {
  /** Tensors in file order (ascending data offset, which is the order they were written). */
  tensors: StateDict;
  /** The optional `__metadata__` string map; empty when the file has none. */
  metadata: Record<string, string>;
}

const CODE_OF: Readonly<Record<DType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const DTYPE_OF: ReadonlyMap<string, DType> = new Map(Object.entries(CODE_OF).map(([d, c]) => [c, d as DType]));

/** The reference implementation refuses larger headers; so do we (a corrupt length must not allocate GBs). */
const MAX_HEADER_BYTES = 100_000_000;

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function bad(what: string): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `not a valid safetensors file: ${what}`);
}

/** Reads the header length from the first 8 bytes, checking it against the file size. */
function headerLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw bad(`the file has ${fileSize} bytes, fewer than the 8-byte header length (truncated?)`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n} is implausibly large (corrupt file, or not safetensors)`);
  const len = Number(n);
  if (8 + len > fileSize) throw bad(`the header needs ${8 + len} bytes but the file has ${fileSize} (truncated?)`);
  return len;
}

/** Parses and validates the JSON header against the size of the data region that follows it. */
function parseHeader(headerBytes: Uint8Array, dataLength: number): { entries: Entry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('the header is not UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`the header is not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`__metadata__ value for "${k}" is not a string`);
        // An own property even for "__proto__", which plain assignment would drop.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(parseEntry(name, info));
  }

  // The tensors must tile the data region exactly: sorted by offset, each starts where the last ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin !== cursor) {
      throw bad(`tensor "${e.name}" starts at byte ${e.begin} of the data, expected ${cursor} (gap or overlap)`);
    }
    cursor = e.end;
  }
  if (cursor > dataLength) throw bad(`the tensors need ${cursor} bytes of data but the file holds ${dataLength} (truncated?)`);
  if (cursor < dataLength) throw bad(`the file holds ${dataLength - cursor} bytes of data after the last tensor`);
  return { entries: byOffset, metadata };
}

function parseEntry(name: string, info: unknown): Entry {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad(`entry "${name}" is not an object`);
  const { dtype: code, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof code !== 'string') throw bad(`entry "${name}" has no dtype`);
  const dtype = DTYPE_OF.get(code);
  if (dtype === undefined) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `tensor "${name}" has dtype ${code}, which spotdiff does not read (supported: ${[...DTYPE_OF.keys()].join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`entry "${name}" has a bad shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw bad(`entry "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const want = numelOf(shape as number[]) * ITEMSIZE[dtype];
  if (end - begin !== want) {
    throw bad(`tensor "${name}" (${code} [${shape.join(', ')}]) needs ${want} bytes but its offsets span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Decodes safetensors bytes already in memory; tensor data are views into `bytes`. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  const n = headerLength(bytes.subarray(0, 8), bytes.byteLength);
  const data = bytes.subarray(8 + n);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), data.byteLength);
  const tensors: StateDict = new Map();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

/**
 * Reads a safetensors file: the header first (validated before any tensor bytes are read),
 * then the data region in one read, tensors being views into it. A data region too large
 * for one Buffer (or larger than `singleReadLimit`, which tests lower) is read tensor by tensor.
 */
export async function readSafetensors(path: string, opts: { singleReadLimit?: number } = {}): Promise<SafetensorsContent> {
  const limit = opts.singleReadLimit ?? bufferConstants.MAX_LENGTH;
  return withFileSource(path, async (src) => {
    const n = headerLength(await src.read(0, Math.min(8, src.size)), src.size);
    const dataStart = 8 + n;
    const dataLength = src.size - dataStart;
    const { entries, metadata } = parseHeader(await src.read(8, n), dataLength);
    const tensors: StateDict = new Map();
    if (dataLength <= limit) {
      const data = await src.read(dataStart, dataLength);
      for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
    } else {
      for (const e of entries) {
        tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: await src.read(dataStart + e.begin, e.end - e.begin) });
      }
    }
    return { tensors, metadata };
  });
}

/**
 * A tensor to be written without holding all its bytes at once: its dtype and shape up front
 * (the header needs them), then its bytes in order, piece by piece (for example one slice of
 * the first dimension at a time, read back from the engine just before it is written).
 */
export interface TensorSource {
  dtype: DType;
  shape: readonly number[];
  /** The tensor's bytes in row-major order, as one or more pieces that add up to the whole. */
  chunks(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** A host tensor as a one-piece source. */
export function hostSource(t: HostTensor): TensorSource {
  return { dtype: t.dtype, shape: t.shape, chunks: () => [t.data] };
}

function isHostTensor(t: HostTensor | TensorSource): t is HostTensor {
  return (t as HostTensor).data instanceof Uint8Array;
}

/**
 * The file layout: the header (8-byte length + space-padded JSON) and the order the tensors'
 * bytes follow it in. Like the reference writer, tensors are laid out by decreasing element
 * size so every tensor is aligned for its dtype, and the header is padded with spaces to a
 * multiple of 8; within one element size the given order is kept (the reference sorts by name
 * there), so a torch-ordered state dict stays ordered per dtype size.
 */
function safetensorsLayout(
  tensors: readonly { name: string; dtype: DType; shape: readonly number[]; byteLength?: number }[],
  metadata: Readonly<Record<string, string>> | undefined,
): { header: Uint8Array; order: number[]; sizes: number[]; dataLength: number } {
  tensors.forEach(({ name, dtype, shape, byteLength }) => {
    if (name === '__metadata__') throw new SpotdiffError('ERR_BAD_INPUT', 'a tensor may not be named "__metadata__" in safetensors');
    if (name.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'a tensor name may not be empty');
    const known = CODE_OF[dtype] !== undefined && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    const want = known ? numelOf(shape) * ITEMSIZE[dtype] : NaN;
    if (!known || (byteLength !== undefined && byteLength !== want)) {
      throw new SpotdiffError('ERR_SHAPE', `tensor "${name}": a ${dtype} tensor of shape [${shape.join(', ')}] needs ${want} bytes, has ${byteLength}`);
    }
  });
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SpotdiffError('ERR_BAD_INPUT', `safetensors metadata "${k}" must be a string`);
    }
  }
  const order = tensors.map((_, i) => i).sort((a, b) => ITEMSIZE[tensors[b]!.dtype] - ITEMSIZE[tensors[a]!.dtype] || a - b);
  const sizes = tensors.map((t) => numelOf(t.shape) * ITEMSIZE[t.dtype]);

  // Built by hand so the key order is the data order (a JS object would move integer-like names first).
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const i of order) {
    const t = tensors[i]!;
    const end = offset + sizes[i]!;
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: CODE_OF[t.dtype], shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.byteLength);
  return { header, order, sizes, dataLength: offset };
}

/** Encodes tensors as safetensors in memory (the file's exact bytes; see safetensorsLayout for the order). */
export function encodeSafetensors(tensors: ReadonlyMap<string, HostTensor>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const items = [...tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, byteLength: t.data.byteLength, data: t.data }));
  const { header, order, dataLength } = safetensorsLayout(items, metadata);
  const out = new Uint8Array(header.byteLength + dataLength);
  out.set(header, 0);
  let at = header.byteLength;
  for (const i of order) {
    out.set(items[i]!.data, at);
    at += items[i]!.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors (and optional string metadata) to a safetensors file, atomically, streaming:
 * the header, then each tensor's pieces as its source yields them, so memory holds one piece at
 * a time, never the whole file. The bytes are exactly encodeSafetensors' for the same tensors.
 * A source that yields more or fewer bytes than its shape needs is an ERR_SHAPE, and the
 * target is left as it was.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor | TensorSource>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const items = [...tensors].map(([name, t]) => ({ name, source: isHostTensor(t) ? hostSource(t) : t, dtype: t.dtype, shape: t.shape, byteLength: isHostTensor(t) ? t.data.byteLength : undefined }));
  const { header, order, sizes } = safetensorsLayout(items, metadata);
  await writeFileAtomicWith(path, async (write) => {
    await write(header);
    for (const i of order) {
      const { name, source } = items[i]!;
      let written = 0;
      for await (const piece of source.chunks()) {
        written += piece.byteLength;
        if (written > sizes[i]!) break;
        await write(piece);
      }
      if (written !== sizes[i]) {
        throw new SpotdiffError('ERR_SHAPE', `tensor "${name}": its source gave ${written > sizes[i]! ? 'more than' : written} bytes, a ${source.dtype} tensor of shape [${source.shape.join(', ')}] has ${sizes[i]}`);
      }
    }
  });
}

import { constants as bufferConstants } from 'node:buffer';
import type { DType } from '../dtype.js';
import { SpotdiffError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
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
        metadata[k] = v;
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
 * Encodes tensors as safetensors. Like the reference writer, tensors are laid out by
 * decreasing element size so every tensor is aligned for its dtype, and the header is padded
 * with spaces to a multiple of 8; within one element size the given order is kept (the
 * reference sorts by name there), so a torch-ordered state dict stays ordered per dtype size.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, HostTensor>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const items = [...tensors].map(([name, t], index) => ({ name, t, index }));
  for (const { name, t } of items) {
    if (name === '__metadata__') throw new SpotdiffError('ERR_BAD_INPUT', 'a tensor may not be named "__metadata__" in safetensors');
    if (name.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'a tensor name may not be empty');
    const want = numelOf(t.shape) * ITEMSIZE[t.dtype];
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.byteLength !== want) {
      throw new SpotdiffError(
        'ERR_SHAPE',
        `tensor "${name}": a ${t.dtype} tensor of shape [${t.shape.join(', ')}] needs ${want} bytes, has ${t.data.byteLength}`,
      );
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SpotdiffError('ERR_BAD_INPUT', `safetensors metadata "${k}" must be a string`);
    }
  }
  items.sort((a, b) => ITEMSIZE[b.t.dtype] - ITEMSIZE[a.t.dtype] || a.index - b.index);

  // Built by hand so the key order is the data order (a JS object would move integer-like names first).
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const { name, t } of items) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: CODE_OF[t.dtype], shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + padded);
  let at = 8 + padded;
  for (const { t } of items) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes tensors (and optional string metadata) to a safetensors file, atomically. */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

import * as zlib from 'node:zlib';

/**
 * Writes .pth files byte by byte, so tests can make the malformed and hostile ones torch.save
 * never would: views that decode to far more than their storage, zip entries sharing bytes,
 * oversized integers, global names that probe JavaScript prototypes.
 */

// ---- pickle (protocol 2) ----

const enc = new TextEncoder();

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Pickle opcodes as byte lists; concatenate them with `pickleBytes`. */
export const op = {
  proto: [0x80, 2],
  stop: [0x2e],
  mark: [0x28],
  tuple: [0x74],
  emptyDict: [0x7d],
  setitems: [0x75],
  reduce: [0x52],
  binpersid: [0x51],
  newfalse: [0x89],
  str: (s: string): number[] => {
    const b = enc.encode(s);
    return [0x58, ...u32le(b.length), ...b];
  },
  int: (n: number | bigint): number[] => {
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 256) return [0x4b, n];
    if (typeof n === 'number' && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return [0x4a, ...u32le(n)];
    return op.long1(twosComplement(BigInt(n)));
  },
  /** LONG1 / LONG4 with the given little-endian two's-complement bytes. */
  long1: (bytes: number[]): number[] => [0x8a, bytes.length, ...bytes],
  long4: (bytes: number[]): number[] => [0x8b, ...u32le(bytes.length), ...bytes],
  global: (module: string, name: string): number[] => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  tupleOf: (...items: number[][]): number[] => [0x28, ...items.flat(), 0x74],
};

/** Minimal little-endian two's complement, as Python's pickle writes LONG1. */
export function twosComplement(v: bigint): number[] {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n;
    if ((x === 0n && !(byte & 0x80)) || (x === -1n && byte & 0x80)) return out;
  }
}

export function pickleBytes(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

// ---- state dicts ----

/** One tensor entry: a float32 view (in elements) into the storage `data/<storage>`. */
export interface ViewSpec {
  name: string;
  storage: string;
  offset?: number;
  size: number[];
  stride: number[];
  /** Rebuild with _rebuild_tensor_v3 over an untyped storage, taking this `torch.<name>` as the dtype. */
  v3Dtype?: string;
}

export interface StorageSpec {
  key: string;
  /** float32 elements. */
  numel: number;
}

/** data.pkl for a plain dict of tensors, as torch.save lays it out. */
export function stateDictPickle(views: readonly ViewSpec[], storages: readonly StorageSpec[]): Uint8Array {
  const numelOf = new Map(storages.map((s) => [s.key, s.numel]));
  const entries = views.map((v) => {
    const numel = numelOf.get(v.storage) ?? 0;
    const storage = v.v3Dtype === undefined
      ? op.tupleOf(op.str('storage'), op.global('torch', 'FloatStorage'), op.str(v.storage), op.str('cpu'), op.int(numel))
      : op.tupleOf(op.str('storage'), op.global('torch', 'UntypedStorage'), op.str(v.storage), op.str('cpu'), op.int(numel * 4));
    const args = [
      [...storage, ...op.binpersid],
      op.int(v.offset ?? 0),
      op.tupleOf(...v.size.map((d) => op.int(d))),
      op.tupleOf(...v.stride.map((d) => op.int(d))),
      op.newfalse,
      op.emptyDict,
      ...(v.v3Dtype === undefined ? [] : [op.global('torch', v.v3Dtype)]),
    ];
    const rebuild = op.global('torch._utils', v.v3Dtype === undefined ? '_rebuild_tensor_v2' : '_rebuild_tensor_v3');
    return [...op.str(v.name), ...rebuild, ...op.tupleOf(...args), ...op.reduce];
  });
  return pickleBytes(op.proto, op.emptyDict, op.mark, ...entries, op.setitems, op.stop);
}

/** Float32 storage bytes 0, 1, 2, ... */
export function storageBytes(numel: number): Uint8Array {
  return new Uint8Array(Float32Array.from({ length: numel }, (_, i) => i).buffer);
}

// ---- zip (stored entries, as torch.save writes them) ----

export type ZipItem =
  | { name: string; data: Uint8Array }
  /** A central-directory entry only, pointing at the local header and bytes of `target`. */
  | { name: string; aliasOf: string }
  /** A local header whose extra field spans the next item's header, so its data is that item's data. */
  | { name: string; dataOf: string };

interface Written {
  name: string;
  headerOffset: number;
  crc: number;
  size: number;
}

function localHeader(name: Uint8Array, crc: number, size: number, extraLength: number): number[] {
  return [
    ...u32le(0x04034b50), 20, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ...u32le(crc), ...u32le(size), ...u32le(size),
    name.length & 0xff, name.length >> 8, extraLength & 0xff, extraLength >> 8,
    ...name,
  ];
}

function centralHeader(e: Written): number[] {
  const name = enc.encode(e.name);
  return [
    ...u32le(0x02014b50), 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ...u32le(e.crc), ...u32le(e.size), ...u32le(e.size),
    name.length & 0xff, name.length >> 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ...u32le(e.headerOffset), ...name,
  ];
}

/** Local extra bytes that put an entry's data on a 64-byte boundary, as torch.save does. */
function alignPad(headerAt: number, nameLength: number): number {
  return (64 - ((headerAt + 30 + nameLength) % 64)) % 64;
}

/** A zip archive of stored entries, in order, with the tricks `ZipItem` describes. */
export function storedZip(items: readonly ZipItem[]): Uint8Array {
  const dataOf = new Map<string, Uint8Array>();
  for (const it of items) if ('data' in it) dataOf.set(it.name, it.data);
  const chunks: Uint8Array[] = [];
  let at = 0;
  const push = (b: Uint8Array | number[]): void => {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    chunks.push(u);
    at += u.length;
  };
  const written: Written[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const name = enc.encode(it.name);
    if ('data' in it) {
      const pad = alignPad(at, name.length);
      written.push({ name: it.name, headerOffset: at, crc: zlib.crc32(it.data), size: it.data.length });
      push(localHeader(name, zlib.crc32(it.data), it.data.length, pad));
      push(new Uint8Array(pad));
      push(it.data);
    } else if ('aliasOf' in it) {
      const target = written.find((w) => w.name === it.aliasOf)!;
      written.push({ ...target, name: it.name });
    } else {
      // The next item must be a plain one: this header's extra field swallows its header (and padding).
      const next = items[i + 1] as { name: string; data: Uint8Array };
      const data = dataOf.get(it.dataOf)!;
      const nextAt = at + 30 + name.length;
      const nextName = enc.encode(next.name).length;
      const spanned = 30 + nextName + alignPad(nextAt, nextName);
      written.push({ name: it.name, headerOffset: at, crc: zlib.crc32(data), size: data.length });
      push(localHeader(name, zlib.crc32(data), data.length, spanned));
    }
  }
  const cdOffset = at;
  for (const w of written) push(centralHeader(w));
  const cdSize = at - cdOffset;
  const n = written.length;
  push([...u32le(0x06054b50), 0, 0, 0, 0, n & 0xff, n >> 8, n & 0xff, n >> 8, ...u32le(cdSize), ...u32le(cdOffset), 0, 0]);
  return Buffer.concat(chunks);
}

/** A .pth of float32 views over storages 0, 1, 2, ... (see `storageBytes`), its entries in the usual order. */
export function pthFile(views: readonly ViewSpec[], storages: readonly StorageSpec[], extra: readonly ZipItem[] = []): Uint8Array {
  return storedZip([
    { name: 'archive/data.pkl', data: stateDictPickle(views, storages) },
    ...storages.map((s) => ({ name: `archive/data/${s.key}`, data: storageBytes(s.numel) })),
    ...extra,
  ]);
}

import * as zlib from 'node:zlib';
import { SpotdiffError } from '../../util/errors.js';
import type { ByteSource } from './byte-source.js';

/**
 * A reader for the zip archives torch.save writes: the central directory is read once, then
 * each entry's bytes on demand. Only stored (uncompressed) entries are supported, as torch
 * writes; zip64 records (archives or entries past 4 GiB) are understood.
 */

export interface ZipEntry {
  readonly name: string;
  /** Uncompressed size. */
  readonly size: number;
  /** Size as stored in the archive (equal to `size` for stored entries). */
  readonly storedSize: number;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  /** Where the entry's local header starts. */
  readonly headerOffset: number;
  /** Where the next entry (or the central directory) starts: this entry's header and data end by then. */
  readonly spanEnd: number;
}

export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The bytes of one stored entry, CRC-checked. */
  read(entry: ZipEntry): Promise<Uint8Array>;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

function bad(what: string): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `broken zip archive: ${what}`);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('a zip64 size or offset is out of range');
  return Number(v);
}

export async function openZip(src: ByteSource): Promise<ZipArchive> {
  // The end-of-central-directory record sits in the last 22 + comment bytes.
  const tailLength = Math.min(src.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = src.size - tailLength;
  const tail = await src.read(tailStart, tailLength);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record (the file is truncated, or not a zip)');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);

  const locAt = eocd - 20;
  if (locAt >= 0 && tv.getUint32(locAt, true) === SIG_ZIP64_LOCATOR) {
    const z64At = u64(tv, locAt + 8);
    if (z64At + 56 > src.size) throw bad('the zip64 end record lies outside the file');
    const z64 = view(await src.read(z64At, 56));
    if (z64.getUint32(0, true) !== SIG_ZIP64_EOCD) throw bad('the zip64 end record is missing');
    count = u64(z64, 32);
    cdSize = u64(z64, 40);
    cdOffset = u64(z64, 48);
  }
  if (cdOffset + cdSize > src.size) throw bad('the central directory lies outside the file (truncated?)');
  const cd = await src.read(cdOffset, cdSize);
  const cv = view(cd);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries: Omit<ZipEntry, 'spanEnd'>[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cdSize || cv.getUint32(at, true) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is damaged`);
    const flags = cv.getUint16(at + 8, true);
    const method = cv.getUint16(at + 10, true);
    const crc32 = cv.getUint32(at + 16, true);
    let csize = cv.getUint32(at + 20, true);
    let usize = cv.getUint32(at + 24, true);
    const nameLen = cv.getUint16(at + 28, true);
    const extraLen = cv.getUint16(at + 30, true);
    const commentLen = cv.getUint16(at + 32, true);
    let headerOffset = cv.getUint32(at + 42, true);
    const next = at + 46 + nameLen + extraLen + commentLen;
    if (next > cdSize) throw bad(`central directory entry ${i} runs past the directory`);
    const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLen));
    // Zip64 extended information: only the fields whose 32-bit value is saturated, in this order.
    let x = at + 46 + nameLen;
    const extraEnd = x + extraLen;
    while (x + 4 <= extraEnd) {
      const id = cv.getUint16(x, true);
      const len = cv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let p = x + 4;
        const take = (): number => {
          if (p + 8 > x + 4 + len) throw bad(`zip64 field of "${name}" is short`);
          const v = u64(cv, p);
          p += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (headerOffset === 0xffffffff) headerOffset = take();
      }
      x += 4 + len;
    }
    if (method === 0 && csize !== usize) throw bad(`stored entry "${name}" has different stored and real sizes`);
    entries.push({ name, size: usize, storedSize: csize, method, flags, crc32, headerOffset });
    at = next;
  }

  return {
    entries: laidOut(entries, cdOffset),
    read: async (entry) => {
      if (entry.flags & 1) throw bad(`entry "${entry.name}" is encrypted`);
      if (entry.method !== 0) {
        throw new SpotdiffError(
          'ERR_BAD_CHECKPOINT',
          `zip entry "${entry.name}" is compressed (method ${entry.method}); torch.save writes stored entries, so this archive was re-packed by another tool: re-save it with torch.save`,
        );
      }
      if (entry.headerOffset + 30 > src.size) throw bad(`the local header of "${entry.name}" lies outside the file (truncated?)`);
      const lh = view(await src.read(entry.headerOffset, 30));
      if (lh.getUint32(0, true) !== SIG_LOCAL) throw bad(`the local header of "${entry.name}" is damaged`);
      // The local extra field may differ from the central one (torch pads it to align data to 64 bytes).
      const dataAt = entry.headerOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
      if (dataAt + entry.size > src.size) throw bad(`entry "${entry.name}" runs past the end of the file (truncated?)`);
      if (dataAt + entry.size > entry.spanEnd) throw bad(`the data of "${entry.name}" overlaps the entry after it`);
      const data = await src.read(dataAt, entry.size);
      if (zlib.crc32 !== undefined && zlib.crc32(data) !== entry.crc32) {
        throw bad(`entry "${entry.name}" fails its CRC check (the file is corrupt)`);
      }
      return data;
    },
  };
}

/**
 * The entries by name, each with the span it may occupy. Entries must not share bytes: zip
 * bombs point several directory entries at one region so that every read of it costs a fresh
 * buffer; with disjoint entries all reads together stay within the file's size. Here each
 * entry's header and data (at least 30 + stored size bytes) must end before the next entry
 * starts; `read` checks the exact end once the local header gives it.
 */
function laidOut(entries: readonly Omit<ZipEntry, 'spanEnd'>[], cdOffset: number): Map<string, ZipEntry> {
  const byOffset = [...entries].sort((a, b) => a.headerOffset - b.headerOffset);
  const out = new Map<string, ZipEntry>();
  for (let i = 0; i < byOffset.length; i++) {
    const e = byOffset[i]!;
    const next = byOffset[i + 1];
    const spanEnd = next?.headerOffset ?? cdOffset;
    if (e.headerOffset + 30 + e.storedSize > spanEnd) {
      throw bad(next ? `entries "${e.name}" and "${next.name}" overlap` : `entry "${e.name}" overlaps the central directory`);
    }
    if (out.has(e.name)) throw bad(`two entries named "${e.name}"`);
    out.set(e.name, { ...e, spanEnd });
  }
  // Keep the archive's own order for callers that list entries.
  return new Map(entries.map((e) => [e.name, out.get(e.name)!]));
}

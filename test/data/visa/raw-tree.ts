import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/**
 * Small raw VisA trees for the prepare and download tests: the official folder layout
 * (<object>/Data/Images/{Normal,Anomaly}, <object>/Data/Masks/Anomaly), class-id masks, an
 * image_anno.csv per object and split CSVs that follow the three protocols, with CRLF line ends
 * as the published files have.
 */

export type SplitTypeName = '1cls' | '2cls_highshot' | '2cls_fewshot';
export const SPLIT_TYPE_NAMES: readonly SplitTypeName[] = ['1cls', '2cls_highshot', '2cls_fewshot'];

export interface RawRow {
  object: string;
  split: 'train' | 'test';
  label: 'normal' | 'anomaly';
  image: string;
  mask: string;
}

export interface RawTree {
  root: string;
  rows: Record<SplitTypeName, RawRow[]>;
}

/** An 8×8 JPEG of one grey level. */
export async function tinyJpeg(value: number, size = 8): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: value, g: (value * 7) % 256, b: 255 - value } } }).jpeg().toBuffer();
}

/** A single-channel 8-bit PNG (class ids), or 16-bit with `wide`. */
export async function classIdPng(ids: ArrayLike<number>, width: number, height: number, wide = false): Promise<Buffer> {
  const data = wide ? Uint16Array.from(ids) : Uint8Array.from(ids);
  return sharp(data, { raw: { width, height, channels: 1 } }).toColourspace(wide ? 'grey16' : 'b-w').png().toBuffer();
}

/** An 8×8 class-id mask: `id` in the top-left quarter, `second` (if non-zero) in the last pixel. */
export function maskIds(id: number, second = 0, size = 8): Uint8Array {
  const ids = new Uint8Array(size * size);
  for (let y = 0; y < size / 2; y++) for (let x = 0; x < size / 2; x++) ids[y * size + x] = id;
  if (second !== 0) ids[size * size - 1] = second;
  return ids;
}

export async function writeBytes(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** CSV text with CRLF line ends, as the official split files. */
export function splitCsvText(rows: readonly RawRow[]): string {
  const lines = ['object,split,label,image,mask', ...rows.map((r) => [r.object, r.split, r.label, r.image, r.mask].join(','))];
  return lines.join('\r\n') + '\r\n';
}

/** Splits `items` into train/test with the first `fraction` (rounded) in train. */
function cut<T>(items: readonly T[], fraction: number): { train: T[]; test: T[] } {
  const n = Math.round(items.length * fraction);
  return { train: items.slice(0, n), test: items.slice(n) };
}

/**
 * Writes a raw tree: per object `normals` images NNNN.JPG and `anomalies` images NNN.JPG with
 * class-id masks (ids 1..3, some with a second id; the first anomaly of each object has a 16-bit
 * mask), image_anno.csv and split_csv/<type>.csv.
 */
export async function writeRawTree(root: string, options: { objects?: string[]; normals?: number; anomalies?: number } = {}): Promise<RawTree> {
  const objects = options.objects ?? ['candle', 'pcb1'];
  const normals = options.normals ?? 10;
  const anomalies = options.anomalies ?? 5;
  const rows: Record<SplitTypeName, RawRow[]> = { '1cls': [], '2cls_highshot': [], '2cls_fewshot': [] };
  let value = 0;
  for (const object of objects) {
    const normalPaths: string[] = [];
    const anomalyPairs: { image: string; mask: string }[] = [];
    const anno: string[] = ['image,label,mask'];
    for (let i = 0; i < normals; i++) {
      const image = `${object}/Data/Images/Normal/${String(i).padStart(4, '0')}.JPG`;
      await writeBytes(join(root, image), await tinyJpeg((value += 7) % 256));
      normalPaths.push(image);
      anno.push(`${image},normal,`);
    }
    for (let i = 0; i < anomalies; i++) {
      const name = String(i).padStart(3, '0');
      const image = `${object}/Data/Images/Anomaly/${name}.JPG`;
      const mask = `${object}/Data/Masks/Anomaly/${name}.png`;
      await writeBytes(join(root, image), await tinyJpeg((value += 7) % 256));
      await writeBytes(join(root, mask), await classIdPng(maskIds(1 + (i % 3), i % 2 === 1 ? 7 : 0), 8, 8, i === 0));
      anomalyPairs.push({ image, mask });
      anno.push(`${image},anomaly,${mask}`);
    }
    await writeBytes(join(root, object, 'image_anno.csv'), anno.join('\n') + '\n');
    const normalRow = (split: RawRow['split']) => (image: string): RawRow => ({ object, split, label: 'normal', image, mask: '' });
    const anomalyRow = (split: RawRow['split']) => (p: { image: string; mask: string }): RawRow => ({ object, split, label: 'anomaly', image: p.image, mask: p.mask });
    const one = cut(normalPaths, 0.9);
    rows['1cls'].push(...one.train.map(normalRow('train')), ...one.test.map(normalRow('test')), ...anomalyPairs.map(anomalyRow('test')));
    for (const [type, fraction] of [['2cls_highshot', 0.6], ['2cls_fewshot', 0.2]] as const) {
      const n = cut(normalPaths, fraction);
      const a = cut(anomalyPairs, fraction);
      rows[type].push(...n.train.map(normalRow('train')), ...a.train.map(anomalyRow('train')), ...n.test.map(normalRow('test')), ...a.test.map(anomalyRow('test')));
    }
  }
  for (const type of SPLIT_TYPE_NAMES) await writeBytes(join(root, 'split_csv', `${type}.csv`), splitCsvText(rows[type]));
  return { root, rows };
}

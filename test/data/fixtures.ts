import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

/** Writes a small solid-colour image (format from the extension); returns the path. */
export async function writeTinyImage(path: string, value = 128, size = 8): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const img = sharp({ create: { width: size, height: size, channels: 3, background: { r: value, g: value, b: value } } });
  const lower = path.toLowerCase();
  const buf = lower.endsWith('.jpg') || lower.endsWith('.jpeg') ? await img.jpeg().toBuffer() : await img.png().toBuffer();
  writeFileSync(path, buf);
  return path;
}

/** Writes a single-channel PNG mask with `value` in the top-left quarter. */
export async function writeTinyMask(path: string, value = 255, size = 8): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size / 2; y++) for (let x = 0; x < size / 2; x++) data[y * size + x] = value;
  writeFileSync(path, await sharp(data, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer());
  return path;
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

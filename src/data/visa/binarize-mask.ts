import sharp from 'sharp';

/**
 * Binarises a raw VisA mask the way the official prepare_data.py does (every non-zero pixel
 * becomes 255, zero stays 0) and encodes it as an 8-bit greyscale PNG.
 * Raw masks hold class ids (1, 2, ...), so 16-bit masks are read at 16 bits: sharp's default
 * 8-bit conversion would scale a small id down to 0. A pixel counts as non-zero when any colour
 * channel is; alpha is ignored. Palette PNGs are read through their colours (a black entry is
 * background), which matches the official script whenever palette entry 0 is black.
 * Throws sharp's error for an unreadable or truncated file; the caller names the file.
 */
export async function binarizeMaskPng(bytes: Uint8Array): Promise<{ png: Buffer; width: number; height: number; defectPixels: number }> {
  const options = { failOn: 'error' as const, ignoreIcc: true };
  const { wide, grey } = pngFormat(bytes) ?? (await sharpFormat(bytes));
  let pipeline = sharp(bytes, options).removeAlpha();
  if (wide) pipeline = pipeline.toColourspace(grey ? 'grey16' : 'rgb16');
  const { data, info } = await pipeline.raw(wide ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  const values = wide ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
  const n = info.width * info.height;
  const channels = info.channels;
  const out = new Uint8Array(n);
  let defectPixels = 0;
  for (let i = 0; i < n; i++) {
    let any = 0;
    for (let c = 0; c < channels; c++) any |= values[i * channels + c] as number;
    if (any !== 0) {
      out[i] = 255;
      defectPixels++;
    }
  }
  const png = await sharp(out, { raw: { width: info.width, height: info.height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  return { png, width: info.width, height: info.height, defectPixels };
}

/** Bit depth and colour type from a PNG's IHDR (saves a metadata pass per mask), or null. */
function pngFormat(bytes: Uint8Array): { wide: boolean; grey: boolean } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 26 || signature.some((b, i) => bytes[i] !== b)) return null;
  if (String.fromCharCode(bytes[12] as number, bytes[13] as number, bytes[14] as number, bytes[15] as number) !== 'IHDR') return null;
  const colourType = bytes[25] as number;
  return { wide: bytes[24] === 16, grey: colourType === 0 || colourType === 4 };
}

async function sharpFormat(bytes: Uint8Array): Promise<{ wide: boolean; grey: boolean }> {
  const meta = await sharp(bytes, { failOn: 'error', ignoreIcc: true }).metadata();
  return { wide: meta.depth === 'ushort', grey: (meta.channels ?? 1) <= 2 };
}

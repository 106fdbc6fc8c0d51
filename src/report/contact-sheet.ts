import sharp from 'sharp';
import { SpotdiffError } from '../util/errors.js';
import type { RgbImage } from '../data/image.js';

/** A tile: raw RGB, or encoded bytes sharp can read (PNG, JPEG...). */
export type SheetTile = RgbImage | Uint8Array;

export interface ContactSheetOptions {
  /** Tiles per row (default: ceil(sqrt(count))). */
  columns?: number;
  /** Each tile is shrunk or enlarged to fit a cell of this many pixels square (default 256), aspect kept. */
  cellSize?: number;
  /** Pixels between cells and around the sheet (default 4). */
  gap?: number;
  /** Background and letterbox colour (default dark grey, so bright and dark tiles both stand out). */
  background?: readonly [number, number, number];
}

function isRaw(tile: SheetTile): tile is RgbImage {
  return !(tile instanceof Uint8Array);
}

/**
 * Several images on one PNG, row by row, each centred in an equal square cell. No captions:
 * text in a raster depends on the fonts of the machine that draws it; the HTML report carries
 * names and scores beside its images instead.
 */
export async function contactSheetPng(tiles: readonly SheetTile[], options: ContactSheetOptions = {}): Promise<Uint8Array> {
  if (tiles.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'a contact sheet needs at least one image');
  const columns = options.columns ?? Math.ceil(Math.sqrt(tiles.length));
  const cell = options.cellSize ?? 256;
  const gap = options.gap ?? 4;
  if (!Number.isInteger(columns) || columns < 1) throw new SpotdiffError('ERR_BAD_INPUT', `columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(cell) || cell < 1) throw new SpotdiffError('ERR_BAD_INPUT', `cellSize must be a positive integer, got ${cell}`);
  if (!Number.isInteger(gap) || gap < 0) throw new SpotdiffError('ERR_BAD_INPUT', `gap must be a non-negative integer, got ${gap}`);
  const [r, g, b] = options.background ?? [40, 40, 40];
  const rows = Math.ceil(tiles.length / columns);
  const width = gap + columns * (cell + gap);
  const height = gap + rows * (cell + gap);

  const placed = await Promise.all(
    tiles.map(async (tile, i) => {
      const input = isRaw(tile)
        ? sharp(tile.data, { raw: { width: tile.width, height: tile.height, channels: 3 } })
        : sharp(tile);
      const { data, info } = await input
        .removeAlpha()
        .resize(cell, cell, { fit: 'contain', background: { r, g, b } })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const col = i % columns;
      const row = Math.floor(i / columns);
      return { input: data, raw: { width: info.width, height: info.height, channels: info.channels }, left: gap + col * (cell + gap), top: gap + row * (cell + gap) };
    }),
  );
  const png = await sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .composite(placed)
    .removeAlpha() // compositing adds an alpha channel; the sheet is opaque RGB
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

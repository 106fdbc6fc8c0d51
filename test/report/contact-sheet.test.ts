import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { contactSheetPng } from '../../src/report/contact-sheet.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import type { RgbImage } from '../../src/data/image.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

test('tiles sit row by row in equal cells, letterboxed, gaps in the background colour', async () => {
  const red = solid(10, 10, [255, 0, 0]);
  const wideGreen = solid(20, 10, [0, 255, 0]); // fits a 10-px cell as 10×5, centred
  const bluePng = new Uint8Array(await sharp(solid(10, 10, [0, 0, 255]).data, { raw: { width: 10, height: 10, channels: 3 } }).png().toBuffer());
  const png = await contactSheetPng([red, wideGreen, bluePng], { columns: 2, cellSize: 10, gap: 2, background: [9, 9, 9] });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  // 2 columns, 2 rows: 2 + 2·(10 + 2) = 26 square.
  assert.deepEqual([info.width, info.height, info.channels], [26, 26, 3]);
  const at = (x: number, y: number): number[] => [...data.subarray((y * 26 + x) * 3, (y * 26 + x) * 3 + 3)];
  assert.deepEqual(at(7, 7), [255, 0, 0]); // centre of cell (0, 0): x, y in [2, 12)
  assert.deepEqual(at(19, 7), [0, 255, 0]); // centre of cell (1, 0): x in [14, 24)
  assert.deepEqual(at(19, 2), [9, 9, 9]); // letterbox above the 10×5 green tile
  assert.deepEqual(at(7, 19), [0, 0, 255]); // cell (0, 1)
  assert.deepEqual(at(19, 19), [9, 9, 9]); // the empty fourth cell
  assert.deepEqual(at(1, 1), [9, 9, 9]); // outer gap
  assert.deepEqual(at(13, 7), [9, 9, 9]); // gap between columns
});

test('contact sheet: empty input and bad layout are clear errors', async () => {
  await assert.rejects(contactSheetPng([]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  await assert.rejects(contactSheetPng([solid(2, 2, [0, 0, 0])], { columns: 0 }), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /columns/.test(e.message));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutTiles, parseTileSpec, stitchTiles, tileLayout, tileStarts, tileWindow1d } from '../../../src/detect/common/tiling.js';
import { isSpotdiffError } from '../../../src/util/errors.js';

test('tile starts cover the side, start and end on the borders, and neighbours share at least the overlap', () => {
  for (const [length, size, overlap] of [[512, 256, 64], [300, 128, 32], [256, 256, 64], [257, 256, 0], [1000, 224, 56], [100, 10, 9]] as const) {
    const s = tileStarts(length, size, overlap);
    assert.equal(s[0], 0);
    assert.equal(s.at(-1), length - size, `${length}/${size}: the last tile ends on the border`);
    for (let i = 1; i < s.length; i++) {
      const shared = s[i - 1]! + size - s[i]!;
      assert.ok(shared >= overlap && shared < size, `${length}/${size}/${overlap}: tiles ${i - 1},${i} share ${shared} px`);
    }
    // As few tiles as that takes: one fewer, spread the same way, could not keep the overlap.
    if (s.length >= 3) assert.ok((length - size) / (s.length - 2) > size - overlap);
  }
  assert.deepEqual(tileStarts(512, 256, 64), [0, 128, 256], '2× the tile at 25% overlap: 3 tiles per side, 128 px apart');
  assert.deepEqual(tileStarts(448, 256, 64), [0, 192]);
  assert.throws(() => tileStarts(200, 256, 64), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /smaller than the 256 px tile/.test((e as Error).message));
  assert.equal(tileLayout(512, 448, { size: 256, overlap: 64 }).length, 6);
});

test('--tile SIZE[:OVERLAP] parsing: default 25%, px or percent, bad values are usage errors', () => {
  assert.deepEqual(parseTileSpec('256'), { size: 256, overlap: 64 });
  assert.deepEqual(parseTileSpec('224:32'), { size: 224, overlap: 32 });
  assert.deepEqual(parseTileSpec('200:50%'), { size: 200, overlap: 100 });
  for (const bad of ['', 'x', '256:', '256:256', '0', '256:-1', '256:1.5']) assert.throws(() => parseTileSpec(bad), (e) => isSpotdiffError(e, 'ERR_USAGE'), bad);
});

test('windows: 1 inside, a cross-fade over the shared pixels that sums to 1, never 0, no ramp on image borders', () => {
  const starts = [0, 48, 96];
  const w = starts.map((_, i) => tileWindow1d(starts, i, 64));
  assert.equal(w[0]![0], 1, 'the first tile keeps its left border (only it covers those pixels)');
  assert.equal(w[2]![63], 1);
  for (const x of w) assert.ok(x.every((v) => v > 0 && v <= 1));
  for (let k = 0; k < 16; k++) assert.ok(Math.abs(w[0]![48 + k]! + w[1]![k]! - 1) < 1e-12, 'neighbours cross-fade');
  assert.ok(w[1]![0]! < 0.01, 'a tile border inside the image counts least');
  assert.equal(w[1]![32], 1);
});

/** Per-tile maps from a function of image coordinates. */
function mapsOf(tiles: { y: number; x: number }[], size: number, f: (y: number, x: number, tile: number) => number): Float32Array[] {
  return tiles.map((t, i) => Float32Array.from({ length: size * size }, (_, k) => f(t.y + Math.floor(k / size), t.x + (k % size), i)));
}

test('stitching: constant maps stitch to the constant, and a map of the image stitches to that map', () => {
  const [h, w, size] = [100, 130, 48];
  const tiles = tileLayout(h, w, { size, overlap: 12 });
  const constant = stitchTiles(mapsOf(tiles, size, () => 2.5), tiles, h, w, size);
  assert.equal(constant.length, h * w);
  assert.ok(constant.every((v) => Math.abs(v - 2.5) < 1e-6));
  // Tiles that agree where they overlap (one underlying map) give that map back.
  const f = (y: number, x: number): number => Math.sin(y / 7) + x / 50;
  const stitched = stitchTiles(mapsOf(tiles, size, f), tiles, h, w, size);
  let worst = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) worst = Math.max(worst, Math.abs(stitched[y * w + x]! - f(y, x)));
  assert.ok(worst < 1e-5, `max diff ${worst}`);
});

test('stitching: a peak in one tile stays where it is; in an overlap it is cross-faded, not moved', () => {
  const [h, w, size] = [128, 128, 64];
  const tiles = tileLayout(h, w, { size, overlap: 16 }); // starts 0, 32, 64: every pixel is shared
  assert.equal(tiles.length, 9);
  const peakAt = (py: number, px: number, owner: number) => mapsOf(tiles, size, (y, x, i) => (i === owner ? 10 * Math.exp(-((y - py) ** 2 + (x - px) ** 2) / 8) : 0));
  const argmax = (m: Float32Array): [number, number] => {
    let best = 0;
    m.forEach((v, i) => (v > m[best]! ? (best = i) : 0));
    return [Math.floor(best / w), best % w];
  };
  // (5, 100): only the top-right tile (index 2) covers it, so the value is kept exactly.
  const corner = stitchTiles(peakAt(5, 100, 2), tiles, h, w, size);
  assert.deepEqual(argmax(corner), [5, 100]);
  assert.ok(Math.abs(corner[5 * w + 100]! - 10) < 1e-5);
  // (60, 60) is covered by four tiles; only the centre tile (index 4) sees a peak there.
  const centre = stitchTiles(peakAt(60, 60, 4), tiles, h, w, size);
  assert.deepEqual(argmax(centre), [60, 60]);
  assert.ok(centre[60 * w + 60]! > 0 && centre[60 * w + 60]! <= 10);
  // A peak that every tile covering it sees keeps its full height.
  const seenByAll = stitchTiles(mapsOf(tiles, size, (y, x) => 10 * Math.exp(-((y - 60) ** 2 + (x - 70) ** 2) / 8)), tiles, h, w, size);
  assert.deepEqual(argmax(seenByAll), [60, 70]);
  assert.ok(Math.abs(seenByAll[60 * w + 70]! - 10) < 1e-5);
});

test('cutTiles copies each tile\'s pixels, image by image, channel by channel', () => {
  const [n, c, h, w] = [2, 3, 10, 12];
  const images = Float32Array.from({ length: n * c * h * w }, (_, i) => i);
  const tiles = tileLayout(h, w, { size: 6, overlap: 2 });
  const out = cutTiles(images, [n, c, h, w], tiles, 6);
  assert.equal(out.length, n * tiles.length * c * 36);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (const t of tiles) {
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) assert.equal(out[k++], images[((i * c + ch) * h + t.y + y) * w + t.x + x]);
      }
    }
  }
});

test('stitching checks its inputs', () => {
  const tiles = tileLayout(8, 8, { size: 8, overlap: 0 });
  assert.throws(() => stitchTiles([], tiles, 8, 8, 8), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  assert.throws(() => stitchTiles([new Float32Array(10)], tiles, 8, 8, 8), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  assert.throws(() => stitchTiles([new Float32Array(64)], [{ y: 0, x: 0 }], 8, 9, 8), /covered by no tile/);
});

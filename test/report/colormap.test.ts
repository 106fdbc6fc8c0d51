import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colormapLut, lutHex, lutIndex, type ColormapName } from '../../src/report/colormap.js';
import { isSpotdiffError } from '../../src/util/errors.js';

const rgb = (lut: Uint8Array, i: number): number[] => [lut[3 * i] as number, lut[3 * i + 1] as number, lut[3 * i + 2] as number];

test('jet follows matplotlib segment data (hand-computed entries)', () => {
  const lut = colormapLut('jet');
  // x = 0: r 0, g 0, b 0.5 -> 127.5 rounds to 128.
  assert.deepEqual(rgb(lut, 0), [0, 0, 128]);
  // x = 1: r 0.5, g 0, b 0.
  assert.deepEqual(rgb(lut, 255), [128, 0, 0]);
  // x = 128/255 = 0.501961: r (x-0.35)/0.31 = 0.490196 -> 125.0; g 1 -> 255; b 1-(x-0.34)/0.31 = 0.477546 -> 121.8 -> 122.
  assert.deepEqual(rgb(lut, 128), [125, 255, 122]);
  // x = 100/255 = 0.392157: r (x-0.35)/0.31 = 0.135990 -> 34.7 -> 35; g 1 -> 255; b 1-(x-0.34)/0.31 = 0.831752 -> 212.1 -> 212.
  assert.deepEqual(rgb(lut, 100), [35, 255, 212]);
  // x = 200/255 = 0.784314: r 1 -> 255; g 1-(x-0.64)/0.27 = 0.465505 -> 118.7 -> 119; b 0.
  assert.deepEqual(rgb(lut, 200), [255, 119, 0]);
  // x = 20/255 = 0.078431: r 0; g 0; b 0.5 + 0.5*x/0.11 = 0.856506 -> 218.4 -> 218.
  assert.deepEqual(rgb(lut, 20), [0, 0, 218]);
});

test('turbo and inferno: ends and table stops are matplotlib entries', () => {
  // Every 5th entry is a stop, copied from matplotlib's 256-entry tables.
  const cases: [ColormapName, number, string][] = [
    ['turbo', 0, '#30123b'],
    ['turbo', 255, '#7a0403'],
    ['turbo', 125, '#9cfe40'], // stop 25
    ['inferno', 0, '#000004'],
    ['inferno', 255, '#fcffa4'],
    ['inferno', 100, '#902568'], // stop 20
  ];
  for (const [name, i, hex] of cases) assert.equal(lutHex(colormapLut(name), i), hex, `${name}[${i}]`);
  // Between stops: linear. turbo entries 0 (#30123b) and 5 (#36215f): entry 2 = 2/5 of the way.
  const t = colormapLut('turbo');
  assert.deepEqual(rgb(t, 2), [Math.round(0x30 + 0.4 * (0x36 - 0x30)), Math.round(0x12 + 0.4 * (0x21 - 0x12)), Math.round(0x3b + 0.4 * (0x5f - 0x3b))]);
});

test('turbo goes from dark blue through green to dark red; inferno brightens monotonically', () => {
  const t = colormapLut('turbo');
  const [r0, , b0] = rgb(t, 0);
  const [r1, , b1] = rgb(t, 255);
  assert.ok(b0 > r0 && r1 > b1);
  assert.ok((rgb(t, 128)[1] as number) > 200);
  const inf = colormapLut('inferno');
  // Rec. 601 luma as a stand-in for lightness.
  const luma = (i: number): number => {
    const [r, g, b] = rgb(inf, i) as [number, number, number];
    return 0.299 * r + 0.587 * g + 0.114 * b;
  };
  for (let i = 5; i < 256; i += 5) assert.ok(luma(i) > luma(i - 5), `inferno luma at ${i}`);
});

test('lutIndex clamps and rounds to the nearest of 256 entries', () => {
  const range = { vmin: -1, vmax: 3 };
  assert.equal(lutIndex(-5, range), 0);
  assert.equal(lutIndex(-1, range), 0);
  assert.equal(lutIndex(3, range), 255);
  assert.equal(lutIndex(99, range), 255);
  assert.equal(lutIndex(1, range), 128); // t = 0.5 -> 127.5 -> 128
  assert.equal(lutIndex(0, range), 64); // t = 0.25 -> 63.75 -> 64
});

test('an unknown colormap is a clear error', () => {
  assert.throws(() => colormapLut('rainbow' as ColormapName), (e) => isSpotdiffError(e, 'ERR_USAGE') && /turbo, inferno, jet/.test(e.message));
});

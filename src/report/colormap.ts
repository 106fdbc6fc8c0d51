import { SpotdiffError } from '../util/errors.js';

/**
 * Colormaps as 256-entry RGB lookup tables, built once from piecewise-linear definitions.
 * - turbo (default): a rainbow that is smooth in lightness, so it neither hides nor invents
 *   edges the way jet does; the hot end reads as "defect" at a glance.
 * - inferno: perceptually uniform and monotone in lightness; survives greyscale printing and
 *   colour-blind viewing.
 * - jet: what the PaDiM/PatchCore reference code shows (cv2.COLORMAP_JET), for side-by-side
 *   comparison with their figures.
 * turbo and inferno are given by every 5th entry of matplotlib's 256-entry tables (turbo:
 * Apache-2.0, Google; inferno: CC0) and interpolated linearly in between: measured against the
 * full tables, no 8-bit channel is off by more than 1. jet is matplotlib's exact segment data.
 */
export type ColormapName = 'turbo' | 'inferno' | 'jet';

export const COLORMAP_NAMES: readonly ColormapName[] = ['turbo', 'inferno', 'jet'];

/** (position in [0, 1], channel value in [0, 1]) anchors, positions increasing, 0 and 1 included. */
type Anchors = readonly (readonly [number, number])[];

const TURBO_STOPS =
  '30123b 36215f 3b2f80 3f3e9c 424bb5 4559cb 4666dd 4773eb 4680f6 458cfd 4099ff 38a5fb 2fb2f4 27bee9 1fc9dd 1ad4d0 ' +
  '18ddc2 1ae4b6 22ebaa 2ff19b 3ff68a 52fa7a 65fd69 79fe59 8bff4b 9cfe40 a9fb39 b7f735 c3f134 d0ea34 dbe236 e5d938 ' +
  'eecf3a f5c53a faba39 fdae35 fea130 fe932a fc8423 f9751d f46617 ef5811 e84b0c e14109 d83706 ce2d04 c32503 b71d02 ' +
  'a91601 9b0f01 8b0902 7a0403';

const INFERNO_STOPS =
  '000004 02020c 050417 0a0722 10092d 160b39 1e0c45 260c51 2f0a5b 380962 400a67 490b6a 510e6c 59106e 61136e 69166e ' +
  '71196e 781c6d 801f6c 88226a 902568 982766 a02a63 a82e5f b0315b b73557 bf3952 c63d4d cc4248 d34743 d94d3d df5337 ' +
  'e45a31 e9612b ed6925 f1711f f47918 f78212 f98b0b fa9407 fb9d07 fca60c fcb014 fbba1f fac42a f8cd37 f6d746 f4e156 ' +
  'f2ea69 f2f27d f5f992 fcffa4';

/** Evenly spaced hex stops -> per-channel anchors. */
function fromHexStops(stops: string): [Anchors, Anchors, Anchors] {
  const colours = stops.split(' ');
  const last = colours.length - 1;
  const channel = (c: number): Anchors => colours.map((hex, i) => [i / last, parseInt(hex.slice(2 * c, 2 * c + 2), 16) / 255] as const);
  return [channel(0), channel(1), channel(2)];
}

// matplotlib's _jet_data: each channel its own breakpoints.
const JET: [Anchors, Anchors, Anchors] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

function interpolate(anchors: Anchors, x: number): number {
  for (let i = 1; i < anchors.length; i++) {
    const [x1, y1] = anchors[i] as readonly [number, number];
    if (x <= x1) {
      const [x0, y0] = anchors[i - 1] as readonly [number, number];
      return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return (anchors[anchors.length - 1] as readonly [number, number])[1];
}

function buildLut(channels: [Anchors, Anchors, Anchors]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(interpolate(channels[c] as Anchors, i / 255) * 255);
  }
  return lut;
}

const luts = new Map<ColormapName, Uint8Array>();

/** The colormap's table: entry i (RGB at [3i, 3i+3)) is the colour of position i / 255. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = luts.get(name);
  if (lut === undefined) {
    if (name === 'turbo') lut = buildLut(fromHexStops(TURBO_STOPS));
    else if (name === 'inferno') lut = buildLut(fromHexStops(INFERNO_STOPS));
    else if (name === 'jet') lut = buildLut(JET);
    else throw new SpotdiffError('ERR_USAGE', `unknown colormap "${String(name)}"; choose one of ${COLORMAP_NAMES.join(', ')}`);
    luts.set(name, lut);
  }
  return lut;
}

/** A value range that maps to the colormap's ends; values outside are clamped. */
export interface ValueRange {
  vmin: number;
  vmax: number;
}

export function checkRange(range: ValueRange): void {
  if (!Number.isFinite(range.vmin) || !Number.isFinite(range.vmax) || !(range.vmax > range.vmin)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `colour range must have finite vmin < vmax, got [${range.vmin}, ${range.vmax}]`);
  }
}

/** The table index of a value: its position in [vmin, vmax], clamped, to the nearest of 256 entries. */
export function lutIndex(value: number, range: ValueRange): number {
  const t = (value - range.vmin) / (range.vmax - range.vmin);
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

/** '#rrggbb' of entry i, for SVG colour bars. */
export function lutHex(lut: Uint8Array, i: number): string {
  const hex = (v: number): string => v.toString(16).padStart(2, '0');
  return `#${hex(lut[i * 3] as number)}${hex(lut[i * 3 + 1] as number)}${hex(lut[i * 3 + 2] as number)}`;
}

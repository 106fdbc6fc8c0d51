import { Random } from '../../../util/random.js';

/**
 * The layout of the synthetic circuit board, in board units (the board spans about
 * ±0.44 × ±0.34 of the image side). One design per dataset: every image shows the same product.
 */

export type ComponentKind = 'qfp' | 'soic' | 'resistor' | 'capacitor' | 'electrolytic' | 'header' | 'crystal' | 'led';

export interface Component {
  kind: ComponentKind;
  x: number;
  y: number;
  /** Rotation in radians (0 or π/2 in the design). */
  angle: number;
  /** Half width and half height of the body before rotation (radius for electrolytics). */
  hw: number;
  hh: number;
  /** Small parts can go missing or be misplaced; large ones are not chosen for those defects. */
  removable: boolean;
  /** Silkscreen label strokes, in component-relative units. */
  label: [number, number, number, number][];
}

export interface Pad {
  x: number;
  y: number;
  hw: number;
  hh: number;
  angle: number;
}

export interface BoardDesign {
  halfWidth: number;
  halfHeight: number;
  components: Component[];
  pads: Pad[];
  traces: [number, number][][];
  vias: [number, number][];
  holes: [number, number][];
}

const PASSIVE_HW = 0.026;
const PASSIVE_HH = 0.013;

function labelStrokes(rng: Random): [number, number, number, number][] {
  // two or three glyph-like marks made of short strokes (x0, y0, x1, y1), 0.012 units tall
  const strokes: [number, number, number, number][] = [];
  const glyphs = rng.intBetween(2, 3);
  for (let g = 0; g < glyphs; g++) {
    const gx = g * 0.011;
    const n = rng.intBetween(2, 3);
    for (let i = 0; i < n; i++) {
      const kind = rng.int(3);
      if (kind === 0) strokes.push([gx, 0, gx, 0.012]);
      else if (kind === 1) strokes.push([gx, rng.pick([0, 0.006, 0.012]), gx + 0.007, rng.pick([0, 0.006, 0.012])]);
      else strokes.push([gx + 0.007, 0, gx + 0.007, 0.012]);
    }
  }
  return strokes;
}

/** Pads of a component, where its leads are soldered. */
export function componentPads(c: Component): Pad[] {
  const cos = Math.cos(c.angle);
  const sin = Math.sin(c.angle);
  const at = (u: number, v: number, hw: number, hh: number): Pad => ({ x: c.x + u * cos - v * sin, y: c.y + u * sin + v * cos, hw, hh, angle: c.angle });
  switch (c.kind) {
    case 'resistor':
    case 'capacitor':
      return [at(-c.hw * 0.95, 0, 0.011, 0.016), at(c.hw * 0.95, 0, 0.011, 0.016)];
    case 'crystal':
      return [at(-c.hw * 0.9, 0, 0.012, 0.022), at(c.hw * 0.9, 0, 0.012, 0.022)];
    case 'led':
      return [at(-c.hw * 0.85, 0, 0.01, 0.014), at(c.hw * 0.85, 0, 0.01, 0.014)];
    case 'electrolytic':
      return [at(-c.hw * 0.55, 0, 0.012, 0.02), at(c.hw * 0.55, 0, 0.012, 0.02)];
    case 'soic': {
      const pads: Pad[] = [];
      for (let i = 0; i < 5; i++) {
        const u = -c.hw + (c.hw * 2 * (i + 0.5)) / 5;
        pads.push(at(u, -c.hh - 0.014, 0.006, 0.012), at(u, c.hh + 0.014, 0.006, 0.012));
      }
      return pads;
    }
    case 'qfp': {
      const pads: Pad[] = [];
      for (let i = 0; i < 9; i++) {
        const t = -c.hw + (c.hw * 2 * (i + 0.5)) / 9;
        pads.push(at(t, -c.hh - 0.016, 0.005, 0.012), at(t, c.hh + 0.016, 0.005, 0.012));
        pads.push(at(-c.hw - 0.016, t, 0.012, 0.005), at(c.hw + 0.016, t, 0.012, 0.005));
      }
      return pads;
    }
    case 'header':
      return [];
  }
}

export function makeBoardDesign(seed: number): BoardDesign {
  const rng = Random.derive(seed, 'board-layout');
  const part = (kind: ComponentKind, x: number, y: number, angle: number, hw: number, hh: number, removable: boolean): Component => ({
    kind,
    x,
    y,
    angle,
    hw,
    hh,
    removable,
    label: labelStrokes(rng),
  });
  const V = Math.PI / 2;
  const passive = (x: number, y: number, angle: number): Component =>
    part(rng.chance(0.5) ? 'resistor' : 'capacitor', x, y, angle, PASSIVE_HW, PASSIVE_HH, true);
  const components: Component[] = [
    part('qfp', -0.13, -0.04, 0, 0.095, 0.095, false),
    part('soic', 0.2, -0.19, 0, 0.07, 0.034, false),
    part('soic', 0.2, -0.01, 0, 0.07, 0.034, false),
    part('electrolytic', 0.33, 0.2, 0, 0.055, 0.055, true),
    part('electrolytic', -0.35, 0.06, 0, 0.045, 0.045, true),
    part('header', -0.19, 0.25, 0, 0.125, 0.035, false),
    part('crystal', 0.03, -0.26, 0, 0.045, 0.018, true),
    part('led', -0.37, -0.24, 0, 0.02, 0.02, true),
    passive(0.02, 0.12, 0),
    passive(0.1, 0.12, 0),
    passive(0.18, 0.12, 0),
    passive(0.02, 0.2, 0),
    passive(0.1, 0.2, 0),
    passive(0.39, -0.2, V),
    passive(0.39, -0.09, V),
    passive(0.05, -0.12, V),
    passive(0.05, 0.02, V),
    passive(-0.3, -0.1, V),
    passive(-0.13, 0.12, 0),
  ];
  const pads = components.flatMap(componentPads);
  // traces: L-shaped routes with a 45° corner between pads of different parts
  const traces: [number, number][][] = [];
  const vias: [number, number][] = [];
  const ends = components.filter((c) => c.kind !== 'header').map((c) => componentPads(c));
  for (let t = 0; t < 26; t++) {
    const a = rng.pick(rng.pick(ends));
    const b = rng.pick(rng.pick(ends));
    if (Math.hypot(a.x - b.x, a.y - b.y) < 0.08) continue;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const c = Math.min(Math.abs(dx), Math.abs(dy)) * 0.5;
    const mid: [number, number] = [b.x - Math.sign(dx) * c, a.y];
    const mid2: [number, number] = [b.x, a.y + Math.sign(dy) * c];
    traces.push([[a.x, a.y], mid, mid2, [b.x, b.y]]);
    if (rng.chance(0.35)) vias.push([(mid[0] + a.x) / 2, a.y]);
  }
  // a few buses along the board edges
  for (let i = 0; i < 3; i++) {
    const y = -0.31 + i * 0.018;
    traces.push([[-0.3, y], [0.25, y], [0.3, y + 0.05]]);
  }
  const holes: [number, number][] = [[-0.4, -0.3], [0.4, -0.3], [-0.4, 0.3], [0.4, 0.3]];
  return { halfWidth: 0.44, halfHeight: 0.34, components, pads, traces, vias, holes };
}

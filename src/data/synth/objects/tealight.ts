import type { Random } from '../../../util/random.js';
import { textureWindow } from '../noise.js';
import { Canvas, circle, grow, intersect, polygon, polyline, ring, shift, subtract, type Rgb, type Shape } from '../raster.js';
import { blob, curve, jagged, skewSmall, type Point } from '../shapes.js';
import type { Scene, SceneContext, SynthObject } from '../types.js';

/**
 * "tealight": the single-instance domain (like VisA's candle, cashew, chewing gum). One tealight
 * seen from above, roughly centred: an aluminium cup, white wax with a little texture, a wick.
 * Normal images vary in position, size, wick position (a little) and light.
 */

const DEFECTS = ['chunk of wax missing', 'crack', 'colour spot', 'foreign particle', 'scratch', 'misplaced wick'] as const;

interface Layout {
  cx: number;
  cy: number;
  cup: number;
  wax: number;
  wickX: number;
  wickY: number;
  lightAngle: number;
}

type Defect =
  | { kind: 'chunk'; cx: number; cy: number; r: number }
  | { kind: 'crack'; points: Point[]; width: number }
  | { kind: 'spot'; outline: Point[]; color: Rgb; opacity: number }
  | { kind: 'particle'; shapes: Shape[]; color: Rgb }
  | { kind: 'scratch'; points: Point[]; width: number; opacity: number }
  | { kind: 'wick'; x: number; y: number };

function smoothstep(a: number, b: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}

function pointInWax(rng: Random, l: Layout, maxFrac: number): [number, number] {
  const a = rng.uniform(0, 2 * Math.PI);
  const d = Math.sqrt(rng.float()) * l.wax * maxFrac;
  return [l.cx + Math.cos(a) * d, l.cy + Math.sin(a) * d];
}

function sampleDefect(rng: Random, id: number, l: Layout, size: number): Defect {
  switch (DEFECTS[id - 1]) {
    case 'chunk of wax missing': {
      const a = rng.uniform(0, 2 * Math.PI);
      const r = skewSmall(rng, 0.035, 0.1) * size;
      const d = l.wax + r * rng.uniform(0.05, 0.45);
      return { kind: 'chunk', cx: l.cx + Math.cos(a) * d, cy: l.cy + Math.sin(a) * d, r };
    }
    case 'crack': {
      const a = rng.uniform(0, 2 * Math.PI);
      const x = l.cx + Math.cos(a) * l.wax;
      const y = l.cy + Math.sin(a) * l.wax;
      const length = skewSmall(rng, 0.06, 0.2) * size;
      return { kind: 'crack', points: jagged(rng, x, y, a + Math.PI + rng.uniform(-0.4, 0.4), length, 0.6, 8), width: size * rng.uniform(0.003, 0.005) };
    }
    case 'colour spot': {
      const [x, y] = pointInWax(rng, l, 0.85);
      const colors: Rgb[] = [[0.62, 0.26, 0.16], [0.35, 0.4, 0.58], [0.82, 0.66, 0.28], [0.45, 0.42, 0.4]];
      return { kind: 'spot', outline: blob(rng, x, y, skewSmall(rng, 0.01, 0.035) * size, 0.3), color: rng.pick(colors), opacity: rng.uniform(0.45, 0.8) };
    }
    case 'foreign particle': {
      const [x, y] = pointInWax(rng, l, 0.88);
      if (rng.chance(0.35)) {
        const pts = curve(rng, x, y, rng.uniform(0, 2 * Math.PI), skewSmall(rng, 0.05, 0.18) * size, 2, 12);
        return { kind: 'particle', shapes: [polyline(pts, size * rng.uniform(0.0025, 0.004))], color: [0.08, 0.06, 0.05] };
      }
      const n = rng.intBetween(1, 3);
      const shapes: Shape[] = [];
      for (let i = 0; i < n; i++) {
        const px = x + rng.uniform(-0.02, 0.02) * size;
        const py = y + rng.uniform(-0.02, 0.02) * size;
        shapes.push(polygon(blob(rng, px, py, skewSmall(rng, 0.006, 0.015) * size, 0.5)));
      }
      return { kind: 'particle', shapes, color: rng.chance(0.6) ? [0.07, 0.06, 0.05] : [0.36, 0.26, 0.18] };
    }
    case 'scratch': {
      const [x, y] = pointInWax(rng, l, 0.7);
      const pts = curve(rng, x, y, rng.uniform(0, 2 * Math.PI), skewSmall(rng, 0.06, 0.22) * size, 0.6, 10);
      return { kind: 'scratch', points: pts, width: size * rng.uniform(0.003, 0.005), opacity: rng.uniform(0.5, 0.75) };
    }
    case 'misplaced wick': {
      const a = rng.uniform(0, 2 * Math.PI);
      const d = rng.uniform(0.06, 0.15) * size;
      return { kind: 'wick', x: l.cx + Math.cos(a) * d, y: l.cy + Math.sin(a) * d };
    }
    default:
      throw new Error(`tealight has no defect class ${id}`);
  }
}

function render(size: number, l: Layout, tex: { cloth: Float32Array; wax: Float32Array; grain: Float32Array }, crimpPhase: number, defects: readonly Defect[]): Canvas {
  const canvas = new Canvas(size, size);
  const at = (f: Float32Array, x: number, y: number): number => f[Math.min(size - 1, Math.floor(y)) * size + Math.min(size - 1, Math.floor(x))] as number;
  canvas.fill((x, y, out) => {
    const t = 1 + 0.1 * at(tex.cloth, x, y) + 0.06 * at(tex.grain, x, y);
    out[0] = 0.2 * t;
    out[1] = 0.19 * t;
    out[2] = 0.18 * t;
  });
  const cup = circle(l.cx, l.cy, l.cup);
  const wax = circle(l.cx, l.cy, l.wax);
  canvas.paint(shift(cup, size * 0.012, size * 0.018), [0, 0, 0], { opacity: 0.6, soft: size * 0.04 });
  // aluminium cup: anisotropic sheen and crimped wall (only the rim shows: the wax covers the rest)
  canvas.paint(subtract(cup, grow(wax, -2)), (x, y, out) => {
    const dx = x - l.cx;
    const dy = y - l.cy;
    const th = Math.atan2(dy, dx);
    const rho = Math.sqrt(dx * dx + dy * dy) / l.cup;
    const crimp = 0.07 * Math.cos(th * 56 + crimpPhase) * smoothstep(0.9, 0.96, rho);
    const lip = 0.18 * Math.exp(-(((rho - 0.975) / 0.012) ** 2));
    const v = 0.5 + 0.22 * Math.cos(2 * (th - l.lightAngle)) + crimp + lip;
    out[0] = 0.8 * v;
    out[1] = 0.82 * v;
    out[2] = 0.86 * v;
  });
  const wick = defects.find((d): d is Extract<Defect, { kind: 'wick' }> => d.kind === 'wick') ?? { x: l.wickX, y: l.wickY };
  // wax: soft texture, darker towards the cup wall, a faint gradient from the light
  canvas.paint(wax, (x, y, out) => {
    const dx = x - l.cx;
    const dy = y - l.cy;
    const rho = Math.sqrt(dx * dx + dy * dy) / l.wax;
    const light = 0.03 * ((dx * Math.cos(l.lightAngle) + dy * Math.sin(l.lightAngle)) / l.wax);
    const k = (1 + 0.035 * at(tex.wax, x, y) + 0.015 * at(tex.grain, x, y) + light) * (1 - 0.2 * smoothstep(0.82, 1, rho));
    out[0] = 0.94 * k;
    out[1] = 0.92 * k;
    out[2] = 0.86 * k;
  });
  // the wick tab shows faintly through the wax, the melt ring around the wick, the wick
  canvas.paint(circle(wick.x, wick.y, size * 0.04), [0.55, 0.55, 0.55], { opacity: 0.16, soft: 3 });
  canvas.paint(ring(wick.x, wick.y, size * 0.022, size * 0.008), [0.8, 0.76, 0.68], { opacity: 0.35, soft: 2 });
  canvas.paint(circle(wick.x, wick.y, size * 0.013), [0.13, 0.1, 0.08]);
  canvas.paint(circle(wick.x - size * 0.004, wick.y - size * 0.004, size * 0.004), [0.4, 0.36, 0.32], { opacity: 0.7 });

  const inWax = grow(wax, -1);
  for (const d of defects) {
    switch (d.kind) {
      case 'chunk': {
        const hole = intersect(wax, circle(d.cx, d.cy, d.r));
        canvas.paint(hole, (x, y, out) => {
          const depth = 1 - Math.hypot(x - d.cx, y - d.cy) / d.r;
          const k = 0.7 - 0.15 * depth;
          out[0] = 0.9 * k;
          out[1] = 0.88 * k;
          out[2] = 0.82 * k;
        });
        canvas.paint(intersect(wax, ring(d.cx, d.cy, d.r, size * 0.006)), [1, 0.98, 0.94], { opacity: 0.55 });
        break;
      }
      case 'crack':
        canvas.paint(intersect(polyline(d.points, d.width), inWax), [0.42, 0.39, 0.35], { opacity: 0.85 });
        break;
      case 'spot':
        canvas.paint(intersect(polygon(d.outline), inWax), d.color, { opacity: d.opacity, soft: 2 });
        break;
      case 'particle':
        for (const s of d.shapes) canvas.paint(s, d.color, { opacity: 0.95 });
        break;
      case 'scratch': {
        const line = polyline(d.points, d.width);
        canvas.paint(intersect(line, inWax), [0.7, 0.68, 0.63], { opacity: d.opacity });
        canvas.paint(intersect(shift(polyline(d.points, d.width * 0.5), -1, -1), inWax), [1, 1, 0.97], { opacity: d.opacity * 0.6 });
        break;
      }
      case 'wick':
        break; // drawn above in its new place
    }
  }
  return canvas;
}

export const tealight: SynthObject = {
  name: 'tealight',
  domain: 'single instance',
  defectClasses: DEFECTS,
  scene(ctx: SceneContext): Scene {
    const { rng, size } = ctx;
    const cup = size * 0.4 * rng.uniform(0.985, 1.015);
    const l: Layout = {
      cx: size * (0.5 + rng.uniform(-0.02, 0.02)),
      cy: size * (0.5 + rng.uniform(-0.02, 0.02)),
      cup,
      wax: cup * 0.9,
      wickX: 0,
      wickY: 0,
      lightAngle: rng.uniform(-2.6, -1.9),
    };
    l.wickX = l.cx + rng.uniform(-0.006, 0.006) * size;
    l.wickY = l.cy + rng.uniform(-0.006, 0.006) * size;
    const pick = (): number => rng.float();
    const tex = {
      cloth: textureWindow(size, ctx.designSeed, size * 0.3, 4, 4, pick),
      wax: textureWindow(size, ctx.designSeed + 1, size * 0.12, 3, 2, pick),
      grain: textureWindow(size, ctx.designSeed + 2, 3, 1, 1, pick),
    };
    const crimpPhase = rng.uniform(0, 2 * Math.PI);
    const defects = ctx.defects.map((id) => sampleDefect(rng, id, l, size));
    return { render: (k) => render(size, l, tex, crimpPhase, defects.slice(0, k)) };
  },
};

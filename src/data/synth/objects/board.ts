import type { Random } from '../../../util/random.js';
import { textureWindow } from '../noise.js';
import { Canvas, box, capsule, circle, intersect, polygon, polyline, ring, shift, union, type Rgb, type Shader, type Shape } from '../raster.js';
import { shade } from '../lighting.js';
import { blob, curve, skewSmall, type Point } from '../shapes.js';
import type { Scene, SceneContext, SynthObject } from '../types.js';
import { makeBoardDesign, type BoardDesign, type Component } from './board-design.js';

/**
 * "board": the complex-structure domain (like VisA's pcb1-4). A populated circuit board: ICs,
 * passives, capacitors, a header, traces, vias, pads and silkscreen, on a dark fixture. Every
 * image shows the same design; normal images vary in position, a small rotation and the light.
 */

const DEFECTS = ['scratch', 'missing component', 'misplaced component', 'contamination', 'stain'] as const;

const MASK_GREEN: Rgb = [0.09, 0.35, 0.19];
const TRACE_GREEN: Rgb = [0.17, 0.5, 0.27];
const SILK: Rgb = [0.9, 0.9, 0.86];
const TIN: Rgb = [0.78, 0.78, 0.75];
const GOLD: Rgb = [0.86, 0.7, 0.32];

/** Board units -> pixels: a small rotation and shift of the whole board. */
interface Pose {
  cx: number;
  cy: number;
  angle: number;
  k: number;
}

type Defect =
  | { kind: 'scratch'; points: Point[]; width: number; opacity: number }
  | { kind: 'missing'; component: number }
  | { kind: 'misplaced'; component: number; du: number; dv: number; dAngle: number }
  | { kind: 'contamination'; shape: Shape; color: Rgb; shiny: boolean }
  | { kind: 'stain'; outline: Point[]; color: Rgb; opacity: number };

function toWorld(p: Pose, x: number, y: number): [number, number] {
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  return [p.cx + p.k * (x * c - y * s), p.cy + p.k * (x * s + y * c)];
}

/** The segments of a polyline as separate capsules (for Canvas.paintUnion). */
function segments(points: readonly (readonly [number, number])[], width: number): Shape[] {
  const out: Shape[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as readonly [number, number];
    const b = points[i] as readonly [number, number];
    out.push(capsule(a[0], a[1], b[0], b[1], width / 2));
  }
  return out;
}

/** A line drawing of a shape's outline (silkscreen). */
function outline(shape: Shape, width: number): Shape {
  const b = shape.bounds;
  return { bounds: { x0: b.x0 - width, y0: b.y0 - width, x1: b.x1 + width, y1: b.y1 + width }, sd: (x, y) => Math.abs(shape.sd(x, y)) - width / 2 };
}

/** Places a component (optionally moved): local (u, v) in board units around its centre -> pixels. */
function placer(p: Pose, c: Component, du = 0, dv = 0, dAngle = 0) {
  const a = c.angle + dAngle;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cx = c.x + du;
  const cy = c.y + dv;
  return {
    pt: (u: number, v: number): [number, number] => toWorld(p, cx + u * cos - v * sin, cy + u * sin + v * cos),
    angle: a + p.angle,
    len: (l: number): number => l * p.k,
  };
}

type Placer = ReturnType<typeof placer>;

function rect(pl: Placer, u: number, v: number, hw: number, hh: number, radius = 0): Shape {
  const [x, y] = pl.pt(u, v);
  return box(x, y, pl.len(hw), pl.len(hh), pl.angle, pl.len(radius));
}

function bodyOutline(pl: Placer, c: Component): Shape {
  if (c.kind === 'electrolytic') {
    const [x, y] = pl.pt(0, 0);
    return circle(x, y, pl.len(c.hw));
  }
  return rect(pl, 0, 0, c.hw, c.hh, 0.003);
}

/** Flat colour with a gentle sheen across the part, brighter towards the light. */
function sheen(base: Rgb, x0: number, y0: number, size: number, amount: number): Shader {
  return (x, y, out) => {
    const k = 1 + amount * (-(x - x0) - (y - y0)) / size;
    out[0] = base[0] * k;
    out[1] = base[1] * k;
    out[2] = base[2] * k;
  };
}

function metal(base: Rgb, cx: number, cy: number, r: number): Shader {
  return (x, y, out) => {
    const { diffuse, specular } = shade(((x - cx) / r) * 0.6, ((y - cy) / r) * 0.6, 20);
    const k = 0.55 + 0.45 * diffuse;
    out[0] = base[0] * k + 0.3 * specular;
    out[1] = base[1] * k + 0.3 * specular;
    out[2] = base[2] * k + 0.3 * specular;
  };
}

function drawComponent(canvas: Canvas, pl: Placer, c: Component, size: number): void {
  const body = bodyOutline(pl, c);
  canvas.paint(shift(body, size * 0.004, size * 0.006), [0, 0, 0], { opacity: 0.5, soft: size * 0.008 });
  const [bx, by] = pl.pt(0, 0);
  switch (c.kind) {
    case 'resistor':
    case 'capacitor': {
      const color: Rgb = c.kind === 'resistor' ? [0.08, 0.08, 0.08] : [0.7, 0.57, 0.42];
      canvas.paint(body, sheen(color, bx, by, size, 1.5));
      for (const side of [-1, 1]) {
        const cap = rect(pl, side * c.hw * 0.82, 0, c.hw * 0.18, c.hh, 0.002);
        canvas.paint(cap, metal(TIN, ...pl.pt(side * c.hw * 0.82, 0), pl.len(c.hh)));
      }
      if (c.kind === 'resistor') canvas.paint(rect(pl, 0, 0, c.hw * 0.35, c.hh * 0.28), [0.75, 0.75, 0.72], { opacity: 0.8 });
      break;
    }
    case 'crystal':
      canvas.paint(body, metal([0.8, 0.8, 0.82], bx, by, pl.len(c.hw)));
      canvas.paint(outline(rect(pl, 0, 0, c.hw * 0.8, c.hh * 0.6, 0.004), pl.len(0.003)), [0.45, 0.45, 0.47], { opacity: 0.7 });
      break;
    case 'led': {
      canvas.paint(body, sheen([0.9, 0.9, 0.85], bx, by, size, 1));
      canvas.paint(circle(bx, by, pl.len(c.hw * 0.62)), metal([0.98, 0.86, 0.35], bx, by, pl.len(c.hw * 0.62)));
      canvas.paint(rect(pl, -c.hw * 0.85, 0, c.hw * 0.08, c.hh * 0.9), [0.2, 0.55, 0.3]);
      break;
    }
    case 'electrolytic': {
      const r = pl.len(c.hw);
      canvas.paint(body, (x, y, out) => {
        const { diffuse } = shade((x - bx) / r, (y - by) / r);
        const k = 0.5 + 0.5 * diffuse;
        out[0] = 0.12 * k;
        out[1] = 0.16 * k;
        out[2] = 0.38 * k;
      });
      const [sx, sy] = pl.pt(-c.hw * 0.9, 0);
      canvas.paint(intersect(ring(bx, by, r * 0.9, r * 0.16), circle(sx, sy, r * 0.55)), [0.78, 0.8, 0.84], { opacity: 0.9 });
      canvas.paint(circle(bx, by, r * 0.8), metal([0.8, 0.81, 0.82], bx, by, r * 0.8));
      const arm = r * 0.55;
      const a = pl.angle;
      const w = Math.max(1, r * 0.06);
      const cross = union(
        polyline([[bx - Math.cos(a) * arm, by - Math.sin(a) * arm], [bx + Math.cos(a) * arm, by + Math.sin(a) * arm]], w),
        polyline([[bx + Math.sin(a) * arm, by - Math.cos(a) * arm], [bx - Math.sin(a) * arm, by + Math.cos(a) * arm]], w),
      );
      canvas.paint(cross, [0.45, 0.46, 0.48], { opacity: 0.8 });
      break;
    }
    case 'soic':
    case 'qfp': {
      const pinLen = 0.02;
      const sides = c.kind === 'qfp' ? 4 : 2;
      const n = c.kind === 'qfp' ? 9 : 5;
      for (let s = 0; s < sides; s++) {
        for (let i = 0; i < n; i++) {
          const t = -c.hw + (c.hw * 2 * (i + 0.5)) / n;
          const [u, v, hw, hh] =
            s === 0 ? [t, -c.hh - pinLen / 2, 0.0035, pinLen / 2] : s === 1 ? [t, c.hh + pinLen / 2, 0.0035, pinLen / 2] : s === 2 ? [-c.hw - pinLen / 2, t, pinLen / 2, 0.0035] : [c.hw + pinLen / 2, t, pinLen / 2, 0.0035];
          canvas.paint(rect(pl, u, v, hw, hh), metal([0.82, 0.82, 0.8], ...pl.pt(u, v), pl.len(0.01)));
        }
      }
      canvas.paint(body, sheen([0.1, 0.1, 0.11], bx, by, size, 1.2));
      const [dx, dy] = pl.pt(-c.hw * 0.72, -c.hh * 0.6);
      canvas.paint(circle(dx, dy, pl.len(0.008)), [0.05, 0.05, 0.05]);
      const marks = c.label.map(([x0, y0, x1, y1]) => polyline([pl.pt(x0 - 0.015, y0 - 0.006), pl.pt(x1 - 0.015, y1 - 0.006)], Math.max(0.8, pl.len(0.0025))));
      canvas.paint(union(...marks), [0.55, 0.55, 0.55], { opacity: 0.7 });
      break;
    }
    case 'header': {
      canvas.paint(body, sheen([0.07, 0.07, 0.075], bx, by, size, 1));
      for (let row = 0; row < 2; row++) {
        for (let i = 0; i < 5; i++) {
          const u = -c.hw + (c.hw * 2 * (i + 0.5)) / 5;
          const v = (row - 0.5) * c.hh;
          canvas.paint(rect(pl, u, v, 0.012, 0.012, 0.002), metal(GOLD, ...pl.pt(u, v), pl.len(0.014)));
          canvas.paint(rect(pl, u, v, 0.004, 0.004), [0.55, 0.45, 0.2]);
        }
      }
      break;
    }
  }
}

function sampleDefect(rng: Random, id: number, design: BoardDesign, pose: Pose, size: number): Defect {
  const onBoard = (margin: number): [number, number] =>
    toWorld(pose, rng.uniform(-design.halfWidth + margin, design.halfWidth - margin), rng.uniform(-design.halfHeight + margin, design.halfHeight - margin));
  const removable = design.components.map((c, i) => (c.removable ? i : -1)).filter((i) => i >= 0);
  switch (DEFECTS[id - 1]) {
    case 'scratch': {
      const [x, y] = onBoard(0.05);
      const pts = curve(rng, x, y, rng.uniform(0, 2 * Math.PI), skewSmall(rng, 0.06, 0.3) * size, 0.5, 12);
      return { kind: 'scratch', points: pts, width: size * rng.uniform(0.003, 0.006), opacity: rng.uniform(0.55, 0.85) };
    }
    case 'missing component':
      return { kind: 'missing', component: rng.pick(removable) };
    case 'misplaced component': {
      const a = rng.uniform(0, 2 * Math.PI);
      const d = rng.uniform(0.012, 0.035);
      const turn = rng.chance(0.7) ? (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.2, 0.7) : 0;
      return { kind: 'misplaced', component: rng.pick(removable), du: Math.cos(a) * d, dv: Math.sin(a) * d, dAngle: turn };
    }
    case 'contamination': {
      const [x, y] = onBoard(0.03);
      const pick = rng.int(3);
      if (pick === 0) {
        const pts = curve(rng, x, y, rng.uniform(0, 2 * Math.PI), skewSmall(rng, 0.05, 0.2) * size, 2, 14);
        return { kind: 'contamination', shape: polyline(pts, size * rng.uniform(0.0025, 0.004)), color: rng.chance(0.5) ? [0.06, 0.05, 0.05] : [0.85, 0.83, 0.78], shiny: false };
      }
      if (pick === 1) return { kind: 'contamination', shape: polygon(blob(rng, x, y, skewSmall(rng, 0.008, 0.028) * size, 0.55)), color: [0.38, 0.3, 0.22], shiny: false };
      return { kind: 'contamination', shape: circle(x, y, skewSmall(rng, 0.007, 0.014) * size), color: TIN, shiny: true };
    }
    case 'stain': {
      const [x, y] = onBoard(0.06);
      return { kind: 'stain', outline: blob(rng, x, y, skewSmall(rng, 0.02, 0.07) * size, 0.4, 18), color: rng.chance(0.6) ? [0.72, 0.58, 0.22] : [0.3, 0.22, 0.12], opacity: rng.uniform(0.3, 0.5) };
    }
    default:
      throw new Error(`board has no defect class ${id}`);
  }
}

interface Textures {
  fixture: Float32Array;
  board: Float32Array;
  grain: Float32Array;
}

function render(size: number, design: BoardDesign, pose: Pose, tex: Textures, defects: readonly Defect[]): Canvas {
  const canvas = new Canvas(size, size);
  const at = (f: Float32Array, x: number, y: number): number => f[Math.min(size - 1, Math.floor(y)) * size + Math.min(size - 1, Math.floor(x))] as number;
  canvas.fill((x, y, out) => {
    const t = 1 + 0.12 * at(tex.fixture, x, y) + 0.05 * at(tex.grain, x, y);
    out[0] = 0.12 * t;
    out[1] = 0.12 * t;
    out[2] = 0.13 * t;
  });
  const [bx, by] = toWorld(pose, 0, 0);
  const boardShape = box(bx, by, design.halfWidth * pose.k, design.halfHeight * pose.k, pose.angle, 0.012 * pose.k);
  canvas.paint(shift(boardShape, size * 0.008, size * 0.012), [0, 0, 0], { opacity: 0.6, soft: size * 0.02 });
  canvas.paint(boardShape, (x, y, out) => {
    const t = 1 + 0.06 * at(tex.board, x, y) + 0.025 * at(tex.grain, x, y);
    out[0] = MASK_GREEN[0] * t;
    out[1] = MASK_GREEN[1] * t;
    out[2] = MASK_GREEN[2] * t;
  });
  canvas.paint(outline(boardShape, size * 0.004), [0.55, 0.6, 0.45], { opacity: 0.5 });
  const pt = (x: number, y: number): [number, number] => toWorld(pose, x, y);
  canvas.paintUnion(design.traces.flatMap((t) => segments(t.map(([x, y]) => pt(x, y)), 0.009 * pose.k)), TRACE_GREEN, { opacity: 0.8 });

  const missing = new Set(defects.filter((d): d is Extract<Defect, { kind: 'missing' }> => d.kind === 'missing').map((d) => d.component));
  const moved = new Map(defects.filter((d): d is Extract<Defect, { kind: 'misplaced' }> => d.kind === 'misplaced').map((d) => [d.component, d]));

  // silkscreen: outlines and reference labels
  const silk: Shape[] = [];
  for (const c of design.components) {
    const pl = placer(pose, c);
    if (c.kind === 'electrolytic') silk.push(ring(...pl.pt(0, 0), pl.len(c.hw + 0.012), pl.len(0.004)));
    else silk.push(outline(rect(pl, 0, 0, c.hw + 0.014, c.hh + (c.kind === 'soic' || c.kind === 'qfp' ? 0.034 : 0.012)), pl.len(0.004)));
    const lx = c.x - c.hw;
    const ly = c.y - c.hh - (c.kind === 'soic' || c.kind === 'qfp' ? 0.06 : 0.035);
    for (const [x0, y0, x1, y1] of c.label) silk.push(capsule(...pt(lx + x0, ly + y0), ...pt(lx + x1, ly + y1), Math.max(0.4, 0.0015 * pose.k)));
  }
  canvas.paintUnion(silk, SILK, { opacity: 0.85 });

  for (const p of design.pads) {
    const [x, y] = pt(p.x, p.y);
    canvas.paint(box(x, y, p.hw * pose.k, p.hh * pose.k, p.angle + pose.angle), metal(TIN, x, y, Math.max(p.hw, p.hh) * pose.k));
  }
  for (const [vx, vy] of design.vias) {
    const [x, y] = pt(vx, vy);
    canvas.paint(circle(x, y, 0.011 * pose.k), metal(TIN, x, y, 0.011 * pose.k));
    canvas.paint(circle(x, y, 0.0045 * pose.k), [0.05, 0.05, 0.05]);
  }
  for (const [hx, hy] of design.holes) {
    const [x, y] = pt(hx, hy);
    canvas.paint(circle(x, y, 0.03 * pose.k), metal(TIN, x, y, 0.03 * pose.k));
    canvas.paint(circle(x, y, 0.019 * pose.k), [0.03, 0.03, 0.035]);
  }
  design.components.forEach((c, i) => {
    if (missing.has(i)) return;
    const m = moved.get(i);
    drawComponent(canvas, m ? placer(pose, c, m.du, m.dv, m.dAngle) : placer(pose, c), c, size);
  });

  for (const d of defects) {
    if (d.kind === 'scratch') {
      canvas.paint(intersect(polyline(d.points, d.width), boardShape), [0.72, 0.8, 0.64], { opacity: d.opacity });
    } else if (d.kind === 'contamination') {
      const b = d.shape.bounds;
      canvas.paint(d.shape, d.shiny ? metal(d.color, (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, (b.x1 - b.x0) / 2) : d.color, { opacity: 0.95 });
    } else if (d.kind === 'stain') {
      const s = intersect(polygon(d.outline), boardShape);
      canvas.paint(s, d.color, { opacity: d.opacity, soft: 3 });
      canvas.paint(intersect(outline(polygon(d.outline), size * 0.004), boardShape), d.color, { opacity: d.opacity * 0.8, soft: 1 });
    }
  }
  return canvas;
}

const designs = new Map<number, BoardDesign>();

export const board: SynthObject = {
  name: 'board',
  domain: 'complex structure',
  defectClasses: DEFECTS,
  scene(ctx: SceneContext): Scene {
    const { rng, size } = ctx;
    let design = designs.get(ctx.designSeed);
    if (!design) {
      design = makeBoardDesign(ctx.designSeed);
      designs.set(ctx.designSeed, design);
    }
    const pose: Pose = {
      cx: size * (0.5 + rng.uniform(-0.015, 0.015)),
      cy: size * (0.5 + rng.uniform(-0.015, 0.015)),
      angle: rng.uniform(-0.025, 0.025),
      k: size * 1.05 * rng.uniform(0.99, 1.01),
    };
    const pick = (): number => rng.float();
    const tex: Textures = {
      fixture: textureWindow(size, ctx.designSeed, size * 0.3, 4, 4, pick),
      board: textureWindow(size, ctx.designSeed + 1, size * 0.15, 3, 2, pick),
      grain: textureWindow(size, ctx.designSeed + 2, 3, 1, 1, pick),
    };
    const d = design;
    const defects = ctx.defects.map((id) => sampleDefect(rng, id, d, pose, size));
    return { render: (k) => render(size, d, pose, tex, defects.slice(0, k)) };
  },
};

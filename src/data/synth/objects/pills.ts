import type { Random } from '../../../util/random.js';
import { textureWindow } from '../noise.js';
import { Canvas, capsule, circle, grow, intersect, polygon, polyline, shift, subtract, union, type Rgb, type Shape } from '../raster.js';
import { shade } from '../lighting.js';
import { blob, curve, jagged, skewSmall, type Point } from '../shapes.js';
import type { Scene, SceneContext, SynthObject } from '../types.js';

/**
 * "pills": the multiple-instances domain (like VisA's capsules and macaroni). Six two-tone hard
 * capsules lie on a dark tray at random positions and orientations, lit from the upper left.
 */

const DEFECTS = ['crack', 'discoloured spot', 'broken end', 'foreign particle', 'misshape'] as const;
const COUNT = 6;
const BODY: Rgb = [0.93, 0.92, 0.87];
const CAP: Rgb = [0.84, 0.3, 0.13];

interface Pill {
  x: number;
  y: number;
  angle: number;
  /** Half length of the axis segment (the round ends add r beyond it). */
  half: number;
  r: number;
}

type PillDefect =
  | { kind: 'crack'; pill: number; points: Point[]; width: number }
  | { kind: 'spot'; pill: number; shape: Point[]; color: Rgb; opacity: number }
  | { kind: 'broken'; pill: number; cx: number; cy: number; radius: number }
  | { kind: 'particle'; shape: Shape; color: Rgb }
  | { kind: 'misshape'; pill: number; bend: number };

function segmentDistance(p: Pill, bend: number): { a: [number, number]; b: [number, number] } {
  // The axis runs from end a (body) through the centre to end b (cap); `bend` kinks the cap half.
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  const cb = Math.cos(p.angle + bend);
  const sb = Math.sin(p.angle + bend);
  return { a: [p.x - c * p.half, p.y - s * p.half], b: [p.x + cb * p.half, p.y + sb * p.half] };
}

/** A capsule half from the centre to `end`, shaded as a rounded solid. */
function halfShader(cx: number, cy: number, ex: number, ey: number, r: number, base: Rgb) {
  const dx = ex - cx;
  const dy = ey - cy;
  const len2 = dx * dx + dy * dy;
  return (x: number, y: number, out: Float64Array): void => {
    let t = ((x - cx) * dx + (y - cy) * dy) / len2;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const nx = (x - (cx + t * dx)) / r;
    const ny = (y - (cy + t * dy)) / r;
    const { diffuse, specular } = shade(nx, ny, 25);
    const k = 0.28 + 0.8 * diffuse;
    out[0] = base[0] * k + 0.45 * specular;
    out[1] = base[1] * k + 0.45 * specular;
    out[2] = base[2] * k + 0.45 * specular;
  };
}

function pillHalves(p: Pill, bend: number): { body: Shape; cap: Shape; a: [number, number]; b: [number, number] } {
  const { a, b } = segmentDistance(p, bend);
  return { body: capsule(p.x, p.y, a[0], a[1], p.r), cap: capsule(p.x, p.y, b[0], b[1], p.r * 1.05), a, b };
}

function placePills(rng: Random, size: number): Pill[] {
  const pills: Pill[] = [];
  const r0 = 0.05 * size;
  const half0 = 0.06 * size;
  const margin = 0.03 * size;
  for (let tries = 0; pills.length < COUNT && tries < 5000; tries++) {
    const r = r0 * rng.uniform(0.96, 1.04);
    const half = half0 * rng.uniform(0.96, 1.04);
    const reach = half + r + margin;
    const p: Pill = { x: rng.uniform(reach, size - reach), y: rng.uniform(reach, size - reach), angle: rng.uniform(0, Math.PI), half, r };
    const clear = pills.every((q) => {
      const sp = segmentDistance(p, 0);
      const sq = segmentDistance(q, 0);
      // distance between the two axis segments, sampled
      let d = Infinity;
      for (let i = 0; i <= 8; i++) {
        const t = i / 8;
        const x = sp.a[0] + (sp.b[0] - sp.a[0]) * t;
        const y = sp.a[1] + (sp.b[1] - sp.a[1]) * t;
        d = Math.min(d, capsule(sq.a[0], sq.a[1], sq.b[0], sq.b[1], 0).sd(x, y));
      }
      return d > p.r + q.r + 0.06 * size;
    });
    if (clear) pills.push(p);
  }
  return pills;
}

function sampleDefect(rng: Random, id: number, pills: Pill[], size: number): PillDefect {
  const pill = rng.int(pills.length);
  const p = pills[pill] as Pill;
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  const local = (u: number, v: number): [number, number] => [p.x + u * c - v * s, p.y + u * s + v * c];
  switch (DEFECTS[id - 1]) {
    case 'crack': {
      const u = rng.uniform(-0.8, 0.8) * p.half;
      const side = rng.chance(0.5) ? 1 : -1;
      const [x, y] = local(u, side * p.r * 1.1);
      const length = p.r * rng.uniform(0.9, 2.0);
      return { kind: 'crack', pill, points: jagged(rng, x, y, p.angle - (side * Math.PI) / 2 + rng.uniform(-0.5, 0.5), length, 0.7, 6), width: size * rng.uniform(0.004, 0.007) };
    }
    case 'discoloured spot': {
      const [x, y] = local(rng.uniform(-1, 1) * p.half, rng.uniform(-0.5, 0.5) * p.r);
      const radius = skewSmall(rng, 0.01, 0.03) * size;
      const color: Rgb = rng.chance(0.5) ? [0.42, 0.27, 0.12] : [0.3, 0.32, 0.2];
      return { kind: 'spot', pill, shape: blob(rng, x, y, radius, 0.3), color, opacity: rng.uniform(0.55, 0.85) };
    }
    case 'broken end': {
      const end = rng.chance(0.5) ? 1 : -1;
      const [x, y] = local(end * (p.half + p.r * rng.uniform(0.5, 0.9)), rng.uniform(-0.6, 0.6) * p.r);
      return { kind: 'broken', pill, cx: x, cy: y, radius: p.r * rng.uniform(0.45, 0.9) };
    }
    case 'foreign particle': {
      const onPill = rng.chance(0.5);
      const [x, y] = onPill ? local(rng.uniform(-1, 1) * p.half, rng.uniform(-0.5, 0.5) * p.r) : [rng.uniform(0.1, 0.9) * size, rng.uniform(0.1, 0.9) * size];
      if (rng.chance(0.4)) {
        const pts = curve(rng, x, y, rng.uniform(0, 2 * Math.PI), skewSmall(rng, 0.06, 0.2) * size, 1.5, 12);
        return { kind: 'particle', shape: polyline(pts, size * rng.uniform(0.003, 0.005)), color: [0.05, 0.04, 0.04] };
      }
      return { kind: 'particle', shape: polygon(blob(rng, x, y, skewSmall(rng, 0.008, 0.02) * size, 0.5)), color: rng.chance(0.5) ? [0.08, 0.07, 0.06] : [0.45, 0.38, 0.3] };
    }
    case 'misshape':
      return { kind: 'misshape', pill, bend: (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.3, 0.55) };
    default:
      throw new Error(`pills has no defect class ${id}`);
  }
}

function render(size: number, pills: Pill[], tray: Float32Array, shadow: [number, number], defects: readonly PillDefect[]): Canvas {
  const canvas = new Canvas(size, size);
  canvas.fill((x, y, out) => {
    const t = 1 + (tray[Math.floor(y) * size + Math.floor(x)] as number);
    out[0] = 0.2 * t;
    out[1] = 0.22 * t;
    out[2] = 0.25 * t;
  });
  const bendOf = (i: number): number => defects.reduce((b, d) => (d.kind === 'misshape' && d.pill === i ? d.bend : b), 0);
  const chipsOf = (i: number): Shape[] => defects.filter((d): d is Extract<PillDefect, { kind: 'broken' }> => d.kind === 'broken' && d.pill === i).map((d) => circle(d.cx, d.cy, d.radius));
  const outline = (i: number): Shape => {
    const h = pillHalves(pills[i] as Pill, bendOf(i));
    const chips = chipsOf(i);
    const whole = union(h.body, h.cap);
    return chips.length ? subtract(whole, union(...chips)) : whole;
  };
  pills.forEach((_, i) => canvas.paint(shift(outline(i), shadow[0], shadow[1]), [0, 0, 0], { opacity: 0.5, soft: size * 0.025 }));
  pills.forEach((p, i) => {
    const h = pillHalves(p, bendOf(i));
    const chips = chipsOf(i);
    const cut = (s: Shape): Shape => (chips.length ? subtract(s, union(...chips)) : s);
    canvas.paint(cut(h.body), halfShader(p.x, p.y, h.a[0], h.a[1], p.r, BODY));
    canvas.paint(cut(h.cap), halfShader(p.x, p.y, h.b[0], h.b[1], p.r * 1.05, CAP));
    for (const chip of chips) {
      // the broken wall: a dark rim along the break, and the hollow inside
      canvas.paint(intersect(union(h.body, h.cap), grow(chip, size * 0.007)), [0.12, 0.1, 0.09], { opacity: 0.65 });
    }
  });
  for (const d of defects) {
    if (d.kind === 'crack') {
      const p = pills[d.pill] as Pill;
      const h = pillHalves(p, bendOf(d.pill));
      canvas.paint(intersect(polyline(d.points, d.width), grow(union(h.body, h.cap), -1)), [0.16, 0.12, 0.1], { opacity: 0.85 });
    } else if (d.kind === 'spot') {
      const h = pillHalves(pills[d.pill] as Pill, bendOf(d.pill));
      canvas.paint(intersect(polygon(d.shape), grow(union(h.body, h.cap), -1)), d.color, { opacity: d.opacity, soft: 1.5 });
    } else if (d.kind === 'particle') {
      canvas.paint(d.shape, d.color, { opacity: 0.92 });
    }
  }
  return canvas;
}

export const pills: SynthObject = {
  name: 'pills',
  domain: 'multiple instances',
  defectClasses: DEFECTS,
  scene(ctx: SceneContext): Scene {
    const { rng, size } = ctx;
    const placed = placePills(rng, size);
    const pick = (): number => rng.float();
    const coarse = textureWindow(size, ctx.designSeed, size * 0.25, 4, 4, pick);
    const fine = textureWindow(size, ctx.designSeed + 7, 6, 2, 2, pick);
    const tray = coarse.map((v, i) => 0.07 * v + 0.03 * (fine[i] as number));
    const shadow: [number, number] = [size * rng.uniform(0.008, 0.014), size * rng.uniform(0.012, 0.018)];
    const defects = ctx.defects.map((id) => sampleDefect(rng, id, placed, size));
    return { render: (k) => render(size, placed, tray, shadow, defects.slice(0, k)) };
  },
};

/**
 * A small antialiased rasteriser for the synthetic dataset: shapes are signed distance functions
 * (negative inside, in pixels), painted with one pixel of analytic antialiasing into a float RGB
 * canvas. Chosen over SVG through sharp/librsvg: about the same time per 256-px image (measured
 * ~70 ms each under load, for an SVG simpler than the board), but shaders give per-pixel lighting
 * and textures, drawing runs in worker threads, and the float canvas of a defect-free twin can be
 * compared exactly with the defective one.
 */

export type Rgb = readonly [number, number, number];

/** Writes the colour of pixel (x, y) (pixel-centre coordinates) into out[0..2]. */
export type Shader = (x: number, y: number, out: Float64Array) => void;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Shape {
  bounds: Box;
  sd(x: number, y: number): number;
}

const hypot = (x: number, y: number): number => Math.sqrt(x * x + y * y);

export function circle(cx: number, cy: number, r: number): Shape {
  return { bounds: { x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r }, sd: (x, y) => hypot(x - cx, y - cy) - r };
}

/** A rotated ellipse (approximate distance, exact on the axes; fine for antialiasing). */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0): Shape {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const m = Math.max(rx, ry);
  const k = Math.min(rx, ry);
  return {
    bounds: { x0: cx - m, y0: cy - m, x1: cx + m, y1: cy + m },
    sd: (x, y) => {
      const dx = x - cx;
      const dy = y - cy;
      const u = (dx * c + dy * s) / rx;
      const v = (-dx * s + dy * c) / ry;
      return (hypot(u, v) - 1) * k;
    },
  };
}

/** A rectangle of half-size hw × hh centred at (cx, cy), rotated by angle, with rounded corners. */
export function box(cx: number, cy: number, hw: number, hh: number, angle = 0, radius = 0): Shape {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const ext = Math.abs(hw * c) + Math.abs(hh * s);
  const eyt = Math.abs(hw * s) + Math.abs(hh * c);
  const r = Math.min(radius, hw, hh);
  return {
    bounds: { x0: cx - ext, y0: cy - eyt, x1: cx + ext, y1: cy + eyt },
    sd: (x, y) => {
      const dx = x - cx;
      const dy = y - cy;
      const u = Math.abs(dx * c + dy * s) - (hw - r);
      const v = Math.abs(-dx * s + dy * c) - (hh - r);
      const ou = u > 0 ? u : 0;
      const ov = v > 0 ? v : 0;
      return hypot(ou, ov) + Math.min(Math.max(u, v), 0) - r;
    },
  };
}

/** A segment from a to b thickened to radius r (round ends). */
export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Shape {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  return {
    bounds: { x0: Math.min(ax, bx) - r, y0: Math.min(ay, by) - r, x1: Math.max(ax, bx) + r, y1: Math.max(ay, by) + r },
    sd: (x, y) => {
      const px = x - ax;
      const py = y - ay;
      let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      return hypot(px - t * dx, py - t * dy) - r;
    },
  };
}

/** A polyline of the given width (round joints). */
export function polyline(points: readonly (readonly [number, number])[], width: number): Shape {
  const parts: Shape[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as readonly [number, number];
    const b = points[i] as readonly [number, number];
    parts.push(capsule(a[0], a[1], b[0], b[1], width / 2));
  }
  return union(...parts);
}

/** A simple polygon (exact signed distance; even-odd inside test). */
export function polygon(points: readonly (readonly [number, number])[]): Shape {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  const n = points.length;
  return {
    bounds: { x0, y0, x1, y1 },
    sd: (x, y) => {
      let d = Infinity;
      let inside = false;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const [xi, yi] = points[i] as readonly [number, number];
        const [xj, yj] = points[j] as readonly [number, number];
        const ex = xj - xi;
        const ey = yj - yi;
        const wx = x - xi;
        const wy = y - yi;
        const l2 = ex * ex + ey * ey;
        let t = l2 > 0 ? (wx * ex + wy * ey) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const dd = hypot(wx - ex * t, wy - ey * t);
        if (dd < d) d = dd;
        if (yi > y !== yj > y && x < (ex * (y - yi)) / ey + xi) inside = !inside;
      }
      return inside ? -d : d;
    },
  };
}

export function ring(cx: number, cy: number, r: number, thickness: number): Shape {
  const outer = r + thickness / 2;
  return { bounds: { x0: cx - outer, y0: cy - outer, x1: cx + outer, y1: cy + outer }, sd: (x, y) => Math.abs(hypot(x - cx, y - cy) - r) - thickness / 2 };
}

export function union(...shapes: Shape[]): Shape {
  if (shapes.length === 1) return shapes[0] as Shape;
  return {
    bounds: {
      x0: Math.min(...shapes.map((s) => s.bounds.x0)),
      y0: Math.min(...shapes.map((s) => s.bounds.y0)),
      x1: Math.max(...shapes.map((s) => s.bounds.x1)),
      y1: Math.max(...shapes.map((s) => s.bounds.y1)),
    },
    sd: (x, y) => {
      let d = Infinity;
      for (const s of shapes) {
        // A shape's distance is at least the distance to its bounding box: skip far ones.
        const b = s.bounds;
        const ox = x < b.x0 ? b.x0 - x : x > b.x1 ? x - b.x1 : 0;
        const oy = y < b.y0 ? b.y0 - y : y > b.y1 ? y - b.y1 : 0;
        if ((ox > 0 || oy > 0) && Math.sqrt(ox * ox + oy * oy) >= d) continue;
        const v = s.sd(x, y);
        if (v < d) d = v;
      }
      return d;
    },
  };
}

export function intersect(a: Shape, b: Shape): Shape {
  return {
    bounds: { x0: Math.max(a.bounds.x0, b.bounds.x0), y0: Math.max(a.bounds.y0, b.bounds.y0), x1: Math.min(a.bounds.x1, b.bounds.x1), y1: Math.min(a.bounds.y1, b.bounds.y1) },
    sd: (x, y) => Math.max(a.sd(x, y), b.sd(x, y)),
  };
}

export function subtract(a: Shape, b: Shape): Shape {
  return { bounds: a.bounds, sd: (x, y) => Math.max(a.sd(x, y), -b.sd(x, y)) };
}

/** The same shape grown by d pixels (shrunk when d < 0). */
export function grow(shape: Shape, d: number): Shape {
  const b = shape.bounds;
  return { bounds: { x0: b.x0 - d, y0: b.y0 - d, x1: b.x1 + d, y1: b.y1 + d }, sd: (x, y) => shape.sd(x, y) - d };
}

/** The same shape moved by (dx, dy). */
export function shift(shape: Shape, dx: number, dy: number): Shape {
  const b = shape.bounds;
  return { bounds: { x0: b.x0 + dx, y0: b.y0 + dy, x1: b.x1 + dx, y1: b.y1 + dy }, sd: (x, y) => shape.sd(x - dx, y - dy) };
}

export interface PaintOptions {
  /** Overall opacity (0..1). */
  opacity?: number;
  /** Width of the edge ramp in pixels beyond the 1-pixel antialiasing (soft shadows, stains). */
  soft?: number;
  /** 'over' blends towards the colour; 'multiply' multiplies by it (shadows, tints). */
  mode?: 'over' | 'multiply';
}

/** Float RGB image, interleaved, values nominally in [0, 1]. */
export class Canvas {
  readonly data: Float32Array;
  private readonly tmp = new Float64Array(3);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  clone(): Canvas {
    const c = new Canvas(this.width, this.height);
    c.data.set(this.data);
    return c;
  }

  /** Sets every pixel from a shader. */
  fill(color: Rgb | Shader): void {
    const out = this.tmp;
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const i = (y * this.width + x) * 3;
        if (typeof color === 'function') color(x + 0.5, y + 0.5, out);
        else out.set(color);
        this.data[i] = out[0] as number;
        this.data[i + 1] = out[1] as number;
        this.data[i + 2] = out[2] as number;
      }
    }
  }

  /** Paints a shape with a colour or shader; returns the number of pixels touched. */
  paint(shape: Shape, color: Rgb | Shader, options: PaintOptions = {}): number {
    const opacity = options.opacity ?? 1;
    const soft = options.soft ?? 0;
    const multiply = options.mode === 'multiply';
    const reach = soft / 2 + 1;
    const b = shape.bounds;
    const xa = Math.max(0, Math.floor(b.x0 - reach));
    const ya = Math.max(0, Math.floor(b.y0 - reach));
    const xb = Math.min(this.width - 1, Math.ceil(b.x1 + reach));
    const yb = Math.min(this.height - 1, Math.ceil(b.y1 + reach));
    const out = this.tmp;
    const isShader = typeof color === 'function';
    if (!isShader) out.set(color);
    let touched = 0;
    for (let y = ya; y <= yb; y++) {
      const py = y + 0.5;
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5;
        const d = shape.sd(px, py);
        let cov = (0.5 + soft / 2 - d) / (1 + soft);
        if (cov <= 0) continue;
        if (cov > 1) cov = 1;
        const a = cov * opacity;
        // Negligible coverage leaves the pixel untouched, so a defect's mask is not padded by
        // a fringe no one could see.
        if (a < 1 / 1024) continue;
        if (isShader) color(px, py, out);
        const i = (y * this.width + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = this.data[i + c] as number;
          const t = out[c] as number;
          this.data[i + c] = multiply ? v * (1 - a + a * t) : v + (t - v) * a;
        }
        touched++;
      }
    }
    return touched;
  }

  /**
   * Paints the union of many shapes at once (traces, silkscreen): each shape is evaluated only
   * inside its own bounds, and overlaps are blended once, as one shape would be.
   */
  paintUnion(shapes: readonly Shape[], color: Rgb, options: PaintOptions = {}): void {
    const opacity = options.opacity ?? 1;
    const soft = options.soft ?? 0;
    const reach = soft / 2 + 1;
    const cover = new Float32Array(this.width * this.height);
    let xa = this.width;
    let ya = this.height;
    let xb = -1;
    let yb = -1;
    for (const shape of shapes) {
      const b = shape.bounds;
      const x0 = Math.max(0, Math.floor(b.x0 - reach));
      const y0 = Math.max(0, Math.floor(b.y0 - reach));
      const x1 = Math.min(this.width - 1, Math.ceil(b.x1 + reach));
      const y1 = Math.min(this.height - 1, Math.ceil(b.y1 + reach));
      xa = Math.min(xa, x0);
      ya = Math.min(ya, y0);
      xb = Math.max(xb, x1);
      yb = Math.max(yb, y1);
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const cov = (0.5 + soft / 2 - shape.sd(x + 0.5, y + 0.5)) / (1 + soft);
          const i = y * this.width + x;
          if (cov > (cover[i] as number)) cover[i] = cov > 1 ? 1 : cov;
        }
      }
    }
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const a = (cover[y * this.width + x] as number) * opacity;
        if (a < 1 / 1024) continue;
        const i = (y * this.width + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = this.data[i + c] as number;
          this.data[i + c] = v + ((color[c] as number) - v) * a;
        }
      }
    }
  }

  /** Reads pixel (x, y) into out (clamped to the canvas). */
  sample(x: number, y: number, out: Float64Array): void {
    const xi = Math.min(this.width - 1, Math.max(0, Math.floor(x)));
    const yi = Math.min(this.height - 1, Math.max(0, Math.floor(y)));
    const i = (yi * this.width + xi) * 3;
    out[0] = this.data[i] as number;
    out[1] = this.data[i + 1] as number;
    out[2] = this.data[i + 2] as number;
  }
}

/**
 * Connected components of a binary mask (non-zero = foreground), as scipy.ndimage.label does:
 * 8-connectivity is label(mask, structure=np.ones((3, 3))), which the official MVTec AD
 * evaluation code uses for PRO regions; 4-connectivity is scipy's default structure.
 */
export type Connectivity = 4 | 8;

export interface Components {
  /** Per pixel: 0 for background, 1..count for the component it belongs to. */
  labels: Int32Array;
  /** Pixel count of each component; sizes[0] is unused (0). */
  sizes: Int32Array;
  count: number;
}

function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    const up = parent[parent[x] as number] as number;
    parent[x] = up; // path halving
    x = up;
  }
  return x;
}

function union(parent: Int32Array, a: number, b: number): number {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return ra;
  if (ra < rb) {
    parent[rb] = ra;
    return ra;
  }
  parent[ra] = rb;
  return rb;
}

/** Joins a neighbour's provisional label `other` (0: none) into the current pixel's label `l`. */
function merge(parent: Int32Array, l: number, other: number): number {
  if (other === 0) return l;
  return l === 0 ? find(parent, other) : union(parent, l, other);
}

/** Two-pass union-find labelling; components are numbered in raster order of their first pixel. */
export function labelComponents(mask: ArrayLike<number>, width: number, height: number, connectivity: Connectivity = 8): Components {
  const labels = new Int32Array(width * height);
  // A new provisional label starts only where the left neighbour is background: at most every
  // other pixel of a row.
  const parent = new Int32Array(height * Math.ceil(width / 2) + 2);
  let next = 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (mask[i] === 0) continue;
      // Join the neighbours already visited: left, and above (three of them for 8-connectivity).
      let l = 0;
      if (x > 0) l = merge(parent, l, labels[i - 1] as number);
      if (y > 0) {
        l = merge(parent, l, labels[i - width] as number);
        if (connectivity === 8) {
          if (x > 0) l = merge(parent, l, labels[i - width - 1] as number);
          if (x + 1 < width) l = merge(parent, l, labels[i - width + 1] as number);
        }
      }
      if (l === 0) {
        l = next++;
        parent[l] = l;
      }
      labels[i] = l;
    }
  }
  // Final labels, numbered by first appearance in raster order.
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) {
    const r = find(parent, l);
    if (final[r] === 0) final[r] = ++count;
    final[l] = final[r] as number;
  }
  const sizes = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l !== 0) {
      const f = final[l] as number;
      labels[i] = f;
      sizes[f] = (sizes[f] as number) + 1;
    }
  }
  return { labels, sizes, count };
}

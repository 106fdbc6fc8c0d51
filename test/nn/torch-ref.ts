import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { runPython } from '../helpers/python.js';
import { PY_REFERENCE_THREADS } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

// Helpers for comparing nn code with PyTorch on the same inputs: tensors cross to Python as
// JSON (shortest round-trip decimal, so every float32/float64 value arrives exactly).

export interface Packed {
  shape: number[];
  dtype: string;
  values: number[];
}

export function pack(t: T.Tensor): Packed {
  const d = t.data();
  const values = d instanceof BigInt64Array ? Array.from(d, (v) => Number(v)) : Array.from(d as ArrayLike<number>);
  return { shape: [...t.shape], dtype: t.dtype, values };
}

/** Python source that defines `tensor(packed)` and `flat(t)` and reads the JSON file named by argv[1] into `payload`. */
export const PY_PRELUDE = `
import json, sys, math
import torch
import torch.nn.functional as F
${PY_REFERENCE_THREADS}
def tensor(p):
    return torch.tensor(p['values'], dtype=getattr(torch, p['dtype'])).reshape(p['shape'])
def flat(t):
    return t.detach().reshape(-1).tolist()
payload = json.load(open(sys.argv[1]))
`;

/** Runs PY_PRELUDE + body with `payload` available; the body prints one JSON value. */
export function torchJson<R>(body: string, payload: unknown): R {
  const dir = tempDir('spotdiff-nn-');
  const file = join(dir, 'payload.json');
  writeFileSync(file, JSON.stringify(payload));
  return JSON.parse(runPython(PY_PRELUDE + body, [file])) as R;
}

/** The largest |a − e| / (1 + |e|): an absolute error for small values, relative for large. */
export function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i]!;
    const err = Math.abs(actual[i]! - e) / (1 + Math.abs(e));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

/** The values of a tensor as plain numbers. */
export function values(t: T.Tensor): number[] {
  return pack(t).values;
}

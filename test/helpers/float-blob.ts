import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as T from '../../src/tensor/index.js';
import { runPython } from './python.js';
import { PY_REFERENCE_THREADS } from './threads.js';
import { tempDir } from './tmp.js';

/**
 * Ships weights and inputs to a PyTorch reference as one float32 file read in order: the
 * Python side gets `meta` (the JSON the test passed), `take(shape)` (the next values as a
 * tensor), `torch`, `torchvision`, `F`, this process's thread counts (./threads.ts), and `OUT`,
 * a path it may write float32 results to.
 */
const PRELUDE = String.raw`
import json, sys
import torch, torchvision
import torch.nn.functional as F
${PY_REFERENCE_THREADS}
meta = json.load(open(sys.argv[1]))
raw = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
OUT = sys.argv[3]
offset = 0
def take(shape):
    global offset
    n = 1
    for s in shape: n *= s
    t = raw[offset:offset + n].reshape(shape).clone()
    offset += n
    return t
`;

/** Appends every tensor of a state dict to `parts`; returns the names and shapes for `meta`. */
export function shipState(state: ReadonlyMap<string, T.Tensor>, parts: Float32Array[]): [string, number[]][] {
  const names: [string, number[]][] = [];
  for (const [name, v] of state) {
    names.push([name, [...v.shape]]);
    parts.push(v.toFloat32());
  }
  return names;
}

/** Runs `body` after the prelude; returns its stdout and what it wrote to OUT (empty if nothing). */
export function runWithFloats(body: string, meta: unknown, parts: readonly Float32Array[], prefix: string): { stdout: string; out: Float32Array } {
  const raw = new Float32Array(parts.reduce((n, c) => n + c.length, 0));
  parts.reduce((o, c) => (raw.set(c, o), o + c.length), 0);
  const dir = tempDir(prefix);
  writeFileSync(join(dir, 'in.f32'), raw);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  const outPath = join(dir, 'out.f32');
  const stdout = runPython(PRELUDE + body, [join(dir, 'meta.json'), join(dir, 'in.f32'), outPath]);
  const out = existsSync(outPath) ? new Float32Array(readFileSync(outPath).buffer.slice(0)) : new Float32Array(0);
  return { stdout, out };
}

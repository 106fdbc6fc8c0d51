import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPython } from './python.js';
import { tempDir } from './tmp.js';
import * as T from '../../src/tensor/index.js';

/**
 * Batches many PyTorch reference computations into ONE Python run (startup + `import torch`
 * costs ~2-3 s, so a test file pays it once). Inputs are spotdiff tensors, shipped as raw
 * bytes; each case is Python code evaluated with `torch`, `F` and the named inputs in scope
 * (fresh clones per case, so in-place cases do not leak into others). A case is either one
 * expression or statements that assign `out`. Its value may be a tensor, a number, a bool or
 * a tuple/list of those; a case that raises records the error message instead.
 */
export interface RefTensor {
  shape: number[];
  /** torch's dtype, spotdiff-spelled ('float32', 'int64', 'bool', ...). */
  dtype: string;
  /** Values widened for JS: floats as float64, integers as bigint-free numbers, bools as 0/1. */
  values: Float64Array;
}

export type RefResult = { ok: true; outputs: RefTensor[] } | { ok: false; error: string };

interface InputSpec {
  name: string;
  dtype: string;
  wire: string;
  shape: readonly number[];
  offset: number;
  bytes: number;
}

const PROGRAM = String.raw`
import json, sys, traceback
import torch
import torch.nn.functional as F
spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec['threads'])
raw = open(sys.argv[2], 'rb').read()
DT = {'float32': torch.float32, 'float64': torch.float64, 'float16': torch.float16, 'bfloat16': torch.bfloat16,
      'int64': torch.int64, 'int32': torch.int32, 'int16': torch.int16, 'int8': torch.int8, 'uint8': torch.uint8,
      'bool': torch.bool}
NAME = {v: k for k, v in DT.items()}
inputs = {}
for s in spec['inputs']:
    buf = bytearray(raw[s['offset']:s['offset'] + s['bytes']])
    t = torch.frombuffer(buf, dtype=DT[s['wire']]) if s['bytes'] else torch.empty(0, dtype=DT[s['wire']])
    inputs[s['name']] = t.reshape(s['shape']).to(DT[s['dtype']])
out_chunks, results, pos = [], {}, 0
def flat(v):
    if isinstance(v, (tuple, list)):
        r = []
        for e in v: r += flat(e)
        return r
    if isinstance(v, torch.Tensor): return [v]
    if isinstance(v, bool): return [torch.tensor(v)]
    if isinstance(v, int): return [torch.tensor(v, dtype=torch.int64)]
    if isinstance(v, float): return [torch.tensor(v, dtype=torch.float64)]
    raise TypeError('case produced a ' + type(v).__name__)
for c in spec['cases']:
    ns = {'torch': torch, 'F': F, 'math': __import__('math')}
    for k, v in inputs.items(): ns[k] = v.clone()
    try:
        try:
            code = compile(c['code'], c['name'], 'eval')
            value = eval(code, ns)
        except SyntaxError:
            exec(compile(c['code'], c['name'], 'exec'), ns)
            value = ns['out']
        outs = []
        for t in flat(value):
            t = t.detach().cpu().contiguous()
            wide = t.to(torch.float64)
            b = wide.numpy().tobytes()
            outs.append({'shape': list(t.shape), 'dtype': NAME.get(t.dtype, str(t.dtype)), 'offset': pos, 'bytes': len(b)})
            out_chunks.append(b)
            pos += len(b)
        results[c['name']] = {'ok': True, 'outputs': outs}
    except Exception as e:
        results[c['name']] = {'ok': False, 'error': type(e).__name__ + ': ' + str(e)}
open(sys.argv[3], 'wb').write(b''.join(out_chunks))
print(json.dumps(results))
`;

export class TorchReference {
  readonly #inputs: InputSpec[] = [];
  readonly #chunks: Buffer[] = [];
  readonly #cases = new Map<string, string>();
  #bytes = 0;

  /** Ships a tensor's current values to Python under `name` (same dtype and shape). */
  input(name: string, t: T.Tensor): T.Tensor {
    if (this.#inputs.some((i) => i.name === name)) throw new Error(`input ${name} given twice`);
    const data = t.data();
    // float16/bfloat16 read back widened to float32 (exactly), bool as uint8: Python narrows again.
    const wire = t.dtype === 'float16' || t.dtype === 'bfloat16' ? 'float32' : t.dtype === 'bool' ? 'uint8' : t.dtype;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.#inputs.push({ name, dtype: t.dtype, wire, shape: t.shape, offset: this.#bytes, bytes: buf.length });
    this.#chunks.push(Buffer.from(buf));
    this.#bytes += buf.length;
    return t;
  }

  /** Registers Python code for one case (an expression, or statements assigning `out`). */
  case(name: string, code: string): void {
    if (this.#cases.has(name)) throw new Error(`case ${name} given twice`);
    this.#cases.set(name, code);
  }

  /** Runs every case in one Python process. */
  run(): Map<string, RefResult> {
    const dir = tempDir('spotdiff-torchref-');
    const specPath = join(dir, 'spec.json');
    const inPath = join(dir, 'in.bin');
    const outPath = join(dir, 'out.bin');
    const cases = [...this.#cases].map(([name, code]) => ({ name, code }));
    writeFileSync(specPath, JSON.stringify({ threads: T.getNumThreads(), inputs: this.#inputs, cases }));
    writeFileSync(inPath, Buffer.concat(this.#chunks));
    const manifest = JSON.parse(runPython(PROGRAM, [specPath, inPath, outPath])) as Record<
      string,
      { ok: true; outputs: { shape: number[]; dtype: string; offset: number; bytes: number }[] } | { ok: false; error: string }
    >;
    const raw = readFileSync(outPath);
    const results = new Map<string, RefResult>();
    for (const [name, r] of Object.entries(manifest)) {
      if (!r.ok) {
        results.set(name, r);
        continue;
      }
      const outputs = r.outputs.map((o) => {
        const copy = new Float64Array(o.bytes / 8);
        Buffer.from(copy.buffer).set(raw.subarray(o.offset, o.offset + o.bytes));
        return { shape: o.shape, dtype: o.dtype, values: copy };
      });
      results.set(name, { ok: true, outputs });
    }
    return results;
  }
}

/** The outputs of a case that must have succeeded in Python. */
export function refOutputs(results: Map<string, RefResult>, name: string): RefTensor[] {
  const r = results.get(name);
  if (r === undefined) throw new Error(`no reference case ${name}`);
  if (!r.ok) throw new Error(`reference case ${name} failed in PyTorch: ${r.error}`);
  return r.outputs;
}

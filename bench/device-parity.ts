// CPU-vs-device parity of every op family: the ops of bench/lib/parity-cases.ts run on the CPU
// and on --device with the same inputs, and each family's worst difference is reported,
// relative to the largest value of the CPU result (so one tolerance fits any scale). Random
// ops compare moments of large draws (each device has its own generator).
//
// Tolerances on CUDA: 1e-5 for exact-arithmetic families; 1e-4 for linalg (other LAPACK/cuSOLVER
// algorithms); 5e-3 for convolutions (nn, memory-format, autograd: cuDNN computes them in TF32
// by default, as PyTorch does); 1e-2 for random moments (2e5 draws). --device cpu runs both sides
// on the CPU, the same seed before each run: every difference must be exactly 0 (a check of the
// plumbing). Exit code 1 when a family is out of tolerance.
//
// usage: node dist/bench/device-parity.js [--device cpu|cuda] [--json]   (default cpu: the plumbing check)
import { parseArgs } from 'node:util';
import * as T from '../src/tensor/index.js';
import { benchDevice, useDevice } from './lib/device.js';
import { makeInputs, PARITY_CASES, type InputName, type ParityCase } from './lib/parity-cases.js';

interface FamilyResult {
  family: string;
  cases: number;
  worstAbs: number;
  worstRel: number;
  worstCase: string;
  tolerance: number;
  pass: boolean;
}

const { values: opts } = parseArgs({ options: { device: { type: 'string', default: 'cpu' }, json: { type: 'boolean', default: false } } });
const device = benchDevice(opts.device);

const CUDA_TOLERANCE: Record<string, number> = { linalg: 1e-4, nn: 5e-3, 'memory-format': 5e-3, autograd: 5e-3, random: 1e-2 };
const tolerance = (family: string): number => (device === 'cpu' ? 0 : (CUDA_TOLERANCE[family] ?? 1e-5));

/** One case's outputs on `on`, read back to the host as float32 with their shapes. */
function runOn(c: ParityCase, inputs: Map<InputName, T.Tensor>, on: string): { shape: readonly number[]; values: Float32Array }[] {
  return T.tidy(() => {
    T.manualSeed(1);
    const x = (name: InputName): T.Tensor => (on === 'cpu' ? inputs.get(name)! : T.toDevice(inputs.get(name)!, on));
    return c.run(x, on).map((t) => ({ shape: t.shape, values: T.toDevice(t, 'cpu').toFloat32() }));
  });
}

/** Largest |a - b| and that over the largest |a|; a shape or NaN mismatch is Infinity. */
function difference(a: { shape: readonly number[]; values: Float32Array }, b: { shape: readonly number[]; values: Float32Array }): { abs: number; rel: number } {
  if (a.shape.join() !== b.shape.join()) return { abs: Infinity, rel: Infinity };
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.values.length; i++) {
    const u = a.values[i]!;
    const v = b.values[i]!;
    if (Number.isNaN(u) !== Number.isNaN(v)) return { abs: Infinity, rel: Infinity };
    if (!Number.isNaN(u)) abs = Math.max(abs, Math.abs(u - v));
    scale = Math.max(scale, Math.abs(u));
  }
  return { abs, rel: abs === 0 ? 0 : abs / Math.max(scale, 1e-12) };
}

function compareFamilies(): FamilyResult[] {
  const inputs = makeInputs();
  const results = new Map<string, FamilyResult>();
  for (const c of PARITY_CASES) {
    const r = results.get(c.family) ?? { family: c.family, cases: 0, worstAbs: 0, worstRel: 0, worstCase: '-', tolerance: tolerance(c.family), pass: true };
    const ref = runOn(c, inputs, 'cpu');
    const got = runOn(c, inputs, device);
    r.cases++;
    ref.forEach((out, i) => {
      const d = difference(out, got[i]!);
      if (d.rel > r.worstRel || (d.rel === r.worstRel && d.abs > r.worstAbs)) Object.assign(r, { worstAbs: d.abs, worstRel: d.rel, worstCase: `${c.name} #${i}` });
    });
    r.pass = r.worstRel <= r.tolerance;
    results.set(c.family, r);
  }
  for (const t of inputs.values()) t.dispose();
  return [...results.values()];
}

function report(results: readonly FamilyResult[]): void {
  const e = (v: number): string => (v === 0 ? '0' : v.toExponential(2)).padStart(10);
  const lines = [
    `op-family parity, cpu vs ${device} (libtorch ${T.engineInfo().torchVersion}): worst difference relative to the CPU result's largest value`,
    `${'family'.padEnd(15)}${'cases'.padStart(6)}${'worst abs'.padStart(10)}${'worst rel'.padStart(10)}${'tolerance'.padStart(10)}  verdict  worst case`,
    ...results.map((r) => `${r.family.padEnd(15)}${String(r.cases).padStart(6)}${e(r.worstAbs)}${e(r.worstRel)}${e(r.tolerance)}  ${r.pass ? 'pass   ' : 'FAIL   '}  ${r.worstCase}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

useDevice(device);
T.setDefaultDevice('cpu');
const results = compareFamilies();
if (opts.json) process.stdout.write(JSON.stringify({ device, families: results }) + '\n');
else report(results);
process.exitCode = results.every((r) => r.pass) ? 0 : 1;

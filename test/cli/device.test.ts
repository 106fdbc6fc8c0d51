import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

// --device for fit, eval, predict and benchmark: cpu is the default's exact result, a device
// that is not there is a usage error before any work, and (with CUDA) CUDA agrees with the CPU.
const dir = tempDir();
let data = '';
let testImages: string[] = [];

before(async () => {
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', '--normal', '10', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  data = join(dir, 'prep', '1cls');
  const bad = join(data, 'pills', 'test', 'bad');
  testImages = readdirSync(bad).map((f) => join(bad, f));
});

async function fit(method: string, out: string, extra: string[] = []): Promise<{ threshold: unknown }> {
  const r = await runCli(['fit', '--method', method, '--data', data, '--backbone', 'resnet18', '--size', '64', '--out', out, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { threshold: unknown };
}

async function evalMetrics(model: string, extra: string[] = []): Promise<Record<string, number>> {
  const r = await runCli(['eval', '--model', model, '--data', data, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { metrics: Record<string, number> }).metrics;
}

async function predictScores(model: string, out: string, extra: string[] = []): Promise<number[]> {
  const r = await runCli(['predict', '--model', model, ...testImages, '--out', out, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { images: { score: number }[] }).images.map((i) => i.score);
}

const weightsBytes = (model: string): Buffer => readFileSync(join(model, 'weights.safetensors'));

for (const method of ['padim', 'patchcore']) {
  test(`${method}: --device cpu gives the default's model bytes, threshold, metrics and scores`, async () => {
    const plain = join(dir, `${method}-default`);
    const cpu = join(dir, `${method}-cpu`);
    const a = await fit(method, plain);
    const b = await fit(method, cpu, ['--device', 'cpu']);
    assert.deepEqual(b.threshold, a.threshold);
    assert.ok(weightsBytes(cpu).equals(weightsBytes(plain)), 'same weights.safetensors bytes');
    assert.deepEqual(await evalMetrics(plain, ['--device', 'cpu']), await evalMetrics(plain));
    assert.deepEqual(await predictScores(plain, join(dir, `${method}-p1`), ['--device', 'cpu']), await predictScores(plain, join(dir, `${method}-p0`)));
  });
}

test('benchmark --device cpu prints the default\'s table', async () => {
  const run = async (models: string, extra: string[]) => {
    const r = await runCli(['benchmark', '--data', data, '--method', 'padim', '--size', '64', '--models', join(dir, models), '--json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { table: unknown }).table;
  };
  assert.deepEqual(await run('bench-cpu', ['--device', 'cpu']), await run('bench-default', []));
});

test('--device with a device that is not there, or not a device: exit 2 before any work', async (t) => {
  const missing = join(dir, 'no-such-data');
  const out = join(dir, 'never-written');
  const commands = [
    ['fit', '--method', 'padim', '--data', missing, '--backbone', 'resnet18', '--out', out],
    ['eval', '--model', join(dir, 'no-such-model'), '--data', missing],
    ['predict', '--model', join(dir, 'no-such-model'), join(dir, 'no-such.png'), '--out', out],
    ['benchmark', '--data', missing, '--method', 'padim', '--models', out],
  ];
  for (const args of commands) {
    const bogus = await runCli([...args, '--device', 'tpu']);
    assert.equal(bogus.code, 2, `${args[0]}: ${bogus.stderr}`);
    assert.match(bogus.stderr, /--device must be cpu, cuda, cuda:N or auto, got "tpu"/);
    if (T.cudaAvailable()) continue;
    const cuda = await runCli([...args, '--device', 'cuda']);
    assert.equal(cuda.code, 2, `${args[0]}: ${cuda.stderr}`);
    assert.match(cuda.stderr, /--device cuda: no usable CUDA here .*use --device cpu or auto/);
  }
  assert.equal(existsSync(out), false, 'nothing was written');
  if (T.cudaAvailable()) t.diagnostic('CUDA is available here: the "no usable CUDA" refusal was not exercised');
});

test('CUDA scores equal the CPU scores within float tolerance (needs a CUDA device)', async (t) => {
  if (!T.cudaAvailable()) {
    t.diagnostic('no CUDA on this machine: the CPU-vs-CUDA comparison did not run (it needs the hardware)');
    return;
  }
  for (const method of ['padim', 'patchcore']) {
    const cpuModel = join(dir, `${method}-cmp-cpu`);
    const cudaModel = join(dir, `${method}-cmp-cuda`);
    await fit(method, cpuModel, ['--device', 'cpu']);
    await fit(method, cudaModel, ['--device', 'cuda']);
    const reference = await predictScores(cpuModel, join(dir, `${method}-cmp-0`), ['--device', 'cpu']);
    const close = (got: number[], what: string) => got.forEach((s, i) => assert.ok(Math.abs(s - reference[i]!) <= 1e-3 * Math.max(1, Math.abs(reference[i]!)), `${method} ${what}: image ${i} ${s} vs ${reference[i]}`));
    close(await predictScores(cpuModel, join(dir, `${method}-cmp-1`), ['--device', 'cuda']), 'CPU-fitted model scored on CUDA');
    close(await predictScores(cudaModel, join(dir, `${method}-cmp-2`), ['--device', 'cpu']), 'CUDA-fitted model scored on the CPU');
    close(await predictScores(cudaModel, join(dir, `${method}-cmp-3`), ['--device', 'cuda']), 'CUDA-fitted model scored on CUDA');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { tempDir } from '../helpers/tmp.js';
import { bytesOf, fitTinyModel } from '../serve/fixture.js';
import { runCli, type CliResult } from './run-cli.js';

/** `spotdiff serve ARGS --port 0` in a child process, once it prints its address. */
async function startServe(args: string[]): Promise<{ url: string; child: ChildProcess; done: Promise<CliResult> }> {
  let child!: ChildProcess;
  let address!: Promise<string>;
  const done = runCli(['serve', ...args, '--port', '0'], (c) => {
    child = c;
    address = new Promise((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      c.on('close', () => reject(new Error(`serve exited before listening: ${out}`)));
    });
  });
  return { url: await address, child, done };
}

/** Whether libtorch is mapped into a running process (null where /proc is not there). */
function libtorchMapped(pid: number): boolean | null {
  const maps = `/proc/${pid}/maps`;
  return existsSync(maps) ? /libtorch/.test(readFileSync(maps, 'utf8')) : null;
}

async function scoreOne(url: string, image: string): Promise<{ score: number; anomalous: boolean }> {
  const res = await fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytesOf(image) });
  assert.equal(res.status, 200);
  return (await res.json()) as { score: number; anomalous: boolean };
}

async function stop(child: ChildProcess, done: Promise<CliResult>): Promise<void> {
  child.kill('SIGTERM');
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /SIGTERM: finishing accepted requests/);
  assert.match(result.stderr, /stopped/);
}

test('spotdiff serve starts, answers /v1/health and scores as predict does, and stops with exit code 0 on SIGTERM', async () => {
  const dir = tempDir();
  const tiny = await fitTinyModel(dir);
  const image = tiny.images[0]!;
  const pr = await runCli(['predict', '--model', tiny.model, image, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = (JSON.parse(pr.stdout) as { images: { score: number; anomalous: boolean }[] }).images[0]!;

  const { url, child, done } = await startServe(['--model', tiny.model, '--max-batch', '2']);
  const health = (await (await fetch(`${url}/v1/health`)).json()) as { status: string; method: string; engine: string; queue: { maxBatch: number } };
  assert.deepEqual([health.status, health.method, health.engine, health.queue.maxBatch], ['ok', 'padim', 'libtorch', 2]);
  const scored = await scoreOne(url, image);
  assert.equal(scored.score, predicted.score);
  assert.equal(scored.anomalous, predicted.anomalous);
  // The control for the onnx engine's check below: this server does map libtorch.
  assert.notEqual(libtorchMapped(child.pid!), false);
  await stop(child, done);
});

test('spotdiff serve --engine onnx on a folder with model.onnx: scores as predict --engine onnx, reports engine onnx, never loads libtorch', async () => {
  const dir = tempDir();
  const tiny = await fitTinyModel(dir);
  const ex = await runCli(['export', '--model', tiny.model, '--out', join(tiny.model, 'model.onnx')]);
  assert.equal(ex.code, 0, ex.stderr);
  const pr = await runCli(['predict', '--engine', 'onnx', '--model', tiny.model, ...tiny.images, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = (JSON.parse(pr.stdout) as { images: { score: number; anomalous: boolean }[] }).images;

  const { url, child, done } = await startServe(['--engine', 'onnx', '--model', tiny.model]);
  const scored = await Promise.all(tiny.images.map((image) => scoreOne(url, image)));
  // Concurrent requests form batches as they arrive (predict scores 8 at a time): ONNX Runtime may round differently per batch.
  for (const [i, s] of scored.entries()) {
    const p = predicted[i]!;
    assert.ok(Math.abs(s.score - p.score) <= 1e-6 * Math.max(1, Math.abs(p.score)), `image ${i}: ${s.score} vs ${p.score}`);
    assert.equal(s.anomalous, p.anomalous);
  }
  const model = (await (await fetch(`${url}/v1/model`)).json()) as { model: string; engine: string; device: string; method: string };
  assert.deepEqual([model.model, model.engine, model.device, model.method], ['model', 'onnx', 'cpu', 'padim']);
  const page = await fetch(`${url}/v1/model.onnx`);
  assert.deepEqual(Buffer.from(await page.arrayBuffer()), readFileSync(join(tiny.model, 'model.onnx')));
  // After scoring and serving the graph: nothing of libtorch in the server's process.
  assert.notEqual(libtorchMapped(child.pid!), true);
  await stop(child, done);
});

test('spotdiff serve: bad flags are usage errors before any model loads', async () => {
  const port = await runCli(['serve', '--model', 'no-such-model', '--port', '70000']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be an integer >= 0 and <= 65535/);
  const batch = await runCli(['serve', '--model', 'no-such-model', '--max-batch', '0']);
  assert.equal(batch.code, 2);
  assert.match(batch.stderr, /--max-batch must be an integer >= 1/);
  const missing = await runCli(['serve', '--port', '0']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--model is required/);
  const notAModel = await runCli(['serve', '--model', tempDir(), '--port', '0']);
  assert.equal(notAModel.code, 1);
  assert.match(notAModel.stderr, /is not a model folder/);
  const engine = await runCli(['serve', '--engine', 'tensorflow', '--model', 'no-such-model']);
  assert.equal(engine.code, 2);
  assert.match(engine.stderr, /--engine must be libtorch or onnx, got "tensorflow"/);
  const device = await runCli(['serve', '--engine', 'onnx', '--device', 'cpu', '--model', 'no-such-model']);
  assert.equal(device.code, 2);
  assert.match(device.stderr, /--device is for --engine libtorch/);
  const noOnnx = await runCli(['serve', '--engine', 'onnx', '--model', tempDir(), '--port', '0']);
  assert.equal(noOnnx.code, 1);
  assert.match(noOnnx.stderr, /holds no model\.onnx; write one with spotdiff export/);
});

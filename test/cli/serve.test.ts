import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { tempDir } from '../helpers/tmp.js';
import { bytesOf, fitTinyModel } from '../serve/fixture.js';
import { runCli } from './run-cli.js';

test('spotdiff serve starts, answers /v1/health and scores as predict does, and stops with exit code 0 on SIGTERM', async () => {
  const dir = tempDir();
  const tiny = await fitTinyModel(dir);
  const image = tiny.images[0]!;
  const pr = await runCli(['predict', '--model', tiny.model, image, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = (JSON.parse(pr.stdout) as { images: { score: number; anomalous: boolean }[] }).images[0]!;

  let child!: ChildProcess;
  let address!: Promise<string>;
  const done = runCli(['serve', '--model', tiny.model, '--port', '0', '--max-batch', '2'], (c) => {
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
  const url = await address;
  const health = (await (await fetch(`${url}/v1/health`)).json()) as { status: string; method: string; queue: { maxBatch: number } };
  assert.deepEqual([health.status, health.method, health.queue.maxBatch], ['ok', 'padim', 2]);
  const res = await fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytesOf(image) });
  assert.equal(res.status, 200);
  const scored = (await res.json()) as { score: number; anomalous: boolean };
  assert.equal(scored.score, predicted.score);
  assert.equal(scored.anomalous, predicted.anomalous);

  child.kill('SIGTERM');
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /SIGTERM: finishing accepted requests/);
  assert.match(result.stderr, /stopped/);
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
});

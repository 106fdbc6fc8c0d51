import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

test('spotdiff demo runs synth -> prepare -> fit PatchCore and PaDiM -> eval -> report end to end on a tiny config', async () => {
  const out = join(tempDir(), 'demo');
  const r = await runCli(['demo', '--out', out, '--normal', '20', '--anomalous', '6', '--size', '64', '--seed', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { methods: { method: string; model: string; report: string; metrics: Record<string, number> }[] };
  assert.deepEqual(result.methods.map((m) => m.method), ['patchcore', 'padim']);
  for (const m of result.methods) {
    assert.ok(existsSync(join(m.model, 'model.json')) && existsSync(join(m.model, 'weights.safetensors')));
    const html = readFileSync(m.report, 'utf8');
    assert.match(html, /<table/);
    for (const k of ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc', 'pixel.aupro']) {
      const v = m.metrics[k];
      assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${m.method} ${k} = ${v}`);
    }
  }
  // The text form says where the reports are and that the weights are random.
  const text = await runCli(['demo', '--out', join(out, 'again'), '--normal', '20', '--anomalous', '6', '--size', '64', '--methods', 'padim', '--quiet']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /RANDOM init/);
  assert.match(text.stdout, /report \(padim\): .*index\.html/);
});

test('spotdiff demo replaces its own earlier output (no stale images from a bigger run) and refuses a folder it did not write', async () => {
  const out = join(tempDir(), 'demo-rerun');
  const files = (dir: string): number => readdirSync(dir, { recursive: true }).filter((f) => /\.(JPG|png)$/.test(String(f))).length;
  const first = await runCli(['demo', '--out', out, '--normal', '10', '--anomalous', '4', '--size', '64', '--methods', 'padim', '--quiet']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(files(join(out, 'prepared')), 10 + 4 + 4, '10 images + 4 anomalous with 4 masks');
  const second = await runCli(['demo', '--out', out, '--normal', '6', '--anomalous', '2', '--size', '64', '--methods', 'padim', '--quiet']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(files(join(out, 'prepared')), 6 + 2 + 2);
  const foreign = join(tempDir(), 'user-folder');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const refused = await runCli(['demo', '--out', foreign, '--quiet']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /no spotdiff demo wrote/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');
});

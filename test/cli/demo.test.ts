import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

test('spotdiff demo runs synth -> prepare -> fit PatchCore and PaDiM -> eval -> report end to end on a tiny config', async () => {
  const out = join(tempDir(), 'demo');
  const started = Date.now();
  const r = await runCli(['demo', '--out', out, '--normal', '20', '--anomalous', '6', '--size', '64', '--seed', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const seconds = (Date.now() - started) / 1000;
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
  assert.ok(seconds < 120, `demo took ${seconds} s`);
  // The text form says where the reports are and that the weights are random.
  const text = await runCli(['demo', '--out', join(out, 'again'), '--normal', '20', '--anomalous', '6', '--size', '64', '--methods', 'padim', '--quiet']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /RANDOM init/);
  assert.match(text.stdout, /report \(padim\): .*index\.html/);
});

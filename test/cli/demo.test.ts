import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/tmp.js';

test('the interim demo draws an image and prints labelled ResNet-18 layer2/layer3 feature shapes and statistics', () => {
  const cli = join(repoRoot, 'dist/src/cli/main.js');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, 'demo', ...args], { encoding: 'utf8', env: { ...process.env, SPOTDIFF_THREADS: '1' } });
  const json = run(['--json', '--size', '64', '--seed', '2']);
  assert.equal(json.status, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { demo: string; layers: Record<string, { shape: number[]; mean: number; std: number; min: number; max: number }> };
  assert.equal(out.demo, 'interim');
  assert.deepEqual(out.layers['layer2']!.shape, [1, 128, 8, 8]);
  assert.deepEqual(out.layers['layer3']!.shape, [1, 256, 4, 4]);
  for (const s of Object.values(out.layers)) {
    assert.ok(s.min >= 0 && s.max > s.min && s.std > 0 && Number.isFinite(s.mean), 'post-ReLU features, not constant');
  }
  const text = run(['--size', '64', '--seed', '2']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /INTERIM DEMO/);
  assert.match(text.stdout, /RANDOM weights/);
  assert.match(text.stdout, /layer2 +\[1, 128, 8, 8\]/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/tmp.js';

const main = join(repoRoot, 'dist/src/cli/main.js');
const spotdiff = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });

test('spotdiff synth writes a dataset and reports it as JSON', () => {
  const out = join(tempDir(), 'synth');
  const r = spotdiff('synth', '--out', out, '--objects', 'tealight,pills', '--normal', '5', '--anomalous', '3', '--size', '80', '--seed', '4', '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { images: number; seed: number; objects: { name: string; domain: string }[] };
  assert.equal(summary.images, 16);
  assert.equal(summary.seed, 4);
  assert.deepEqual(summary.objects.map((o) => o.name), ['tealight', 'pills']);
  for (const f of ['split_csv/1cls.csv', 'split_csv/2cls_highshot.csv', 'split_csv/2cls_fewshot.csv', 'defect_classes.json', 'tealight/image_anno.csv', 'pills/Data/Images/Normal/0004.JPG', 'pills/Data/Masks/Anomaly/002.png']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  assert.equal(readFileSync(join(out, 'split_csv/1cls.csv'), 'utf8').trim().split('\n').length, 1 + 16);
});

test('spotdiff synth: usage errors exit 2, a refused --out exits 1, --help exits 0', () => {
  const dir = tempDir();
  const missing = spotdiff('synth');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--out is required/);
  const unknown = spotdiff('synth', '--out', join(dir, 'x'), '--objects', 'toaster');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /toaster/);
  assert.equal(spotdiff('synth', '--out', join(dir, 'x'), '--size', 'big').status, 2);
  const refused = spotdiff('synth', '--out', repoRoot, '--normal', '1');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /refusing to replace/);
  const help = spotdiff('synth', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /single instance/);
});

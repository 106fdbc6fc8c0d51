import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';
import type { AblationResult } from '../../src/pretrain/ablation.js';

// One intra-op thread in the child processes (the machine's 2 cores are shared).
process.env.SPOTDIFF_THREADS = '1';

test('spotdiff --help lists ablation; usage errors exit 2 before any work', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {2}ablation {2,}\S/m);
  const usage = await runCli(['ablation', '--help']);
  assert.equal(usage.code, 0);
  assert.match(usage.stdout, /--eval-data/);
  assert.match(usage.stdout, /--eta/);
  const dir = tempDir();
  const ok = ['--method', 'simsiam', '--data', dir, '--epochs', '1', '--batch-size', '2', '--eval-data', dir, '--out', join(dir, 'out')];
  const cases: [string[], RegExp][] = [
    [['ablation', ...ok.slice(2)], /--method is required/],
    [['ablation', ...ok, '--method', 'byol'], /--method must be one of/],
    [['ablation', ...ok, '--eta', '0'], /--eta must be a number > 0/],
    [['ablation', ...ok, '--detector', 'knn'], /--detector must be/],
    [['ablation', ...ok, '--detector', 'classifier'], /--detector must be padim or patchcore/],
    [['ablation', ...ok, '--backbone', 'vgg16'], /unknown backbone/],
    [['ablation', ...ok.filter((a, i) => a !== '--eval-data' && ok[i - 1] !== '--eval-data')], /--eval-data is required/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.ok(!existsSync(join(dir, 'out')), 'nothing written');
});

test('spotdiff ablation: w/o and w/ SPD rows per object and the mean; a rerun reuses the finished runs and evaluations with the same numbers', async (t) => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills,tealight', '--normal', '10', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  const data = join(dir, 'prep', '1cls');
  const out = join(dir, 'ablation');
  const args = ['ablation', '--method', 'simsiam', '--data', data, '--epochs', '1', '--batch-size', '4', '--size', '64', '--seed', '2', '--eval-data', data, '--out', out];

  // An unknown object is refused before any pre-training.
  const wrong = await runCli([...args, '--objects', 'pills,candle', '--quiet']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /candle/);
  assert.ok(!existsSync(join(out, 'no-spd')), 'no pre-training started');

  let started = Date.now();
  const first = await runCli(args);
  const firstSeconds = (Date.now() - started) / 1000;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /ablation: w\/o SPD: pre-training simsiam \(η 0\)/);
  assert.match(first.stderr, /ablation: w\/ SPD: pre-training simsiam \(η 0\.1\)/);
  // The text table: a header, then per object and for the mean a w/o SPD line and a w/ SPD line with gaps.
  const lines = first.stdout.split('\n');
  const header = lines.findIndex((l) => /^object\s+pre-training\s+image AU-PR\s+image AU-ROC\s+pixel AU-PR\s+pixel AU-ROC$/.test(l));
  assert.ok(header >= 0, first.stdout);
  const gap = /\d+\.\d \([+-]\d+\.\d\)/;
  ['pills', 'tealight', 'mean'].forEach((name, i) => {
    const without = lines[header + 1 + 2 * i]!;
    const withSpd = lines[header + 2 + 2 * i]!;
    assert.match(without, new RegExp(`^${name}\\s+w/o SPD(\\s+\\d+\\.\\d){4}$`), first.stdout);
    assert.match(withSpd, new RegExp(`^\\s+w/ SPD(\\s+${gap.source}){4}$`), first.stdout);
  });

  const saved = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8')) as AblationResult;
  assert.deepEqual(saved.rows!.map((r) => r.object), ['pills', 'tealight', 'mean']);
  for (const row of saved.rows!) {
    for (const arm of ['withoutSpd', 'withSpd'] as const) {
      assert.deepEqual(Object.keys(row[arm]), ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'], `${row.object} ${arm}`);
      for (const v of Object.values(row[arm])) assert.ok(v >= 0 && v <= 1);
    }
  }
  const mean = saved.rows![2]!;
  for (const arm of ['withoutSpd', 'withSpd'] as const) {
    assert.ok(Math.abs(mean[arm]['pixel.auroc']! - (saved.rows![0]![arm]['pixel.auroc']! + saved.rows![1]![arm]['pixel.auroc']!) / 2) < 1e-12);
  }
  // Same seed and data, only η differs: both runs made the same number of steps, and SPD changed the backbone.
  assert.equal(saved.arms.withoutSpd.pretraining.steps, saved.arms.withSpd.pretraining.steps);
  assert.notEqual(saved.arms.withoutSpd.backboneSha256, saved.arms.withSpd.backboneSha256);
  const md = readFileSync(join(out, 'ablation.md'), 'utf8');
  for (const name of ['pills', 'tealight', '\\*\\*mean\\*\\*']) {
    assert.match(md, new RegExp(`^\\| ${name} \\| w/o SPD \\|`, 'm'));
    assert.match(md, new RegExp(`^\\| ${name} \\| w/ SPD \\| ${gap.source}`, 'm'));
  }
  for (const arm of ['no-spd', 'spd-eta0.1']) {
    assert.ok(existsSync(join(out, arm, 'backbone.safetensors')) && existsSync(join(out, arm, 'checkpoint.safetensors')));
    assert.deepEqual(readdirSync(join(out, arm, 'eval')).sort(), ['pills.json', 'tealight.json'], 'model folders removed, metrics kept');
  }

  // The rerun, with one evaluation lost (as if interrupted before it was saved).
  const logBefore = readFileSync(join(out, 'no-spd', 'log.jsonl'), 'utf8');
  const keptEval = statSync(join(out, 'no-spd', 'eval', 'pills.json')).mtimeMs;
  rmSync(join(out, 'spd-eta0.1', 'eval', 'tealight.json'));
  started = Date.now();
  const second = await runCli([...args, '--json']);
  const secondSeconds = (Date.now() - started) / 1000;
  assert.equal(second.code, 0, second.stderr);
  const again = JSON.parse(second.stdout) as AblationResult;
  for (const arm of ['withoutSpd', 'withSpd'] as const) {
    assert.equal(again.arms[arm].pretraining.stepsThisCall, 0, `${arm}: the finished run is reused`);
    assert.equal(again.arms[arm].backboneSha256, saved.arms[arm].backboneSha256);
  }
  assert.deepEqual(
    [...again.arms.withoutSpd.evaluations, ...again.arms.withSpd.evaluations].map((e) => `${e.object}:${e.reused}`),
    ['pills:true', 'tealight:true', 'pills:true', 'tealight:false'],
  );
  assert.deepEqual(again.rows, saved.rows, 'same numbers (the recomputed evaluation included)');
  assert.equal(readFileSync(join(out, 'no-spd', 'log.jsonl'), 'utf8'), logBefore);
  assert.equal(statSync(join(out, 'no-spd', 'eval', 'pills.json')).mtimeMs, keptEval);
  t.diagnostic(`first run ${firstSeconds.toFixed(1)} s, rerun ${secondSeconds.toFixed(1)} s`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { paperResultsFile } from '../../src/data/visa/facts.js';
import { runCli } from './run-cli.js';
import { paperFigures } from '../../src/benchmark/paper-figures.js';

test('paperFigures: the VisA per-object PaDiM figures and means from paper_results.json; null off VisA or without the file', () => {
  const file = paperResultsFile;
  assert.ok(existsSync(file), `${file} is part of the VisA facts shipped in data/visa/`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, number[]> & { columns: string[] }>;
  const p = paperFigures(file, 'padim', ['candle', 'pcb1']);
  assert.ok(p !== null);
  const t7 = json['table7_1class_cls_padim_per_object']!;
  const t8 = json['table8_1class_seg_padim_per_object']!;
  const t2 = json['table2_1class_padim_resnet50']!;
  assert.equal(p.rows['pcb1']!['image.aupr'], t7['pcb1']![t7.columns.indexOf('supervised_aupr')]! / 100);
  assert.equal(p.rows['candle']!['pixel.auroc'], t8['candle']![t8.columns.indexOf('supervised_auroc')]! / 100);
  assert.equal(p.rows['mean']!['image.auroc'], t2['supervised']![t2.columns.indexOf('visa_cls_auroc')]! / 100);
  const pc = paperFigures(file, 'patchcore', ['candle']);
  assert.deepEqual(Object.keys(pc!.rows), ['mean']);
  assert.equal(paperFigures(file, 'padim', ['pills']), null);
  assert.equal(paperFigures(join(tempDir(), 'absent.json'), 'padim', ['candle']), null);
});

test('spotdiff benchmark fits and evaluates every object and prints per-object and mean rows', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills,tealight', '--normal', '12', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  const r = await runCli(['benchmark', '--data', join(dir, 'prep', '1cls'), '--method', 'padim', '--size', '64', '--models', join(dir, 'models'), '--report', join(dir, 'report'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { table: { rows: { name: string; metrics: Record<string, { mean: number }> }[] }; paper: unknown; report: string };
  assert.deepEqual(out.table.rows.map((row) => row.name), ['pills', 'tealight', 'mean']);
  for (const row of out.table.rows) assert.deepEqual(Object.keys(row.metrics), ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc']);
  const mean = out.table.rows[2]!.metrics['image.auroc']!.mean;
  assert.ok(Math.abs(mean - (out.table.rows[0]!.metrics['image.auroc']!.mean + out.table.rows[1]!.metrics['image.auroc']!.mean) / 2) < 1e-12);
  assert.equal(out.paper, null, 'synthetic objects are not VisA');
  assert.ok(existsSync(out.report) && existsSync(join(dir, 'models', 'tealight', 'model.json')));
});

test('spotdiff benchmark --protocol 1cls: one row per --weights, the +spd row\'s gain in brackets, models under <protocol>/<row>/<object>', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills,tealight', '--normal', '12', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  const args = ['benchmark', '--protocol', '1cls', '--method', 'padim', '--data', join(dir, 'prep'), '--weights', 'random,random', '--names', 'supervised,supervised+spd', '--size', '64', '--models', join(dir, 'models')];
  const r = await runCli([...args, '--json', '--report', join(dir, 'report')]);
  assert.equal(r.code, 0, r.stderr);
  type Cell = { mean: number; std: number | null; gain: number | null };
  const out = JSON.parse(r.stdout) as { protocol: string; methods: string[]; rows: { name: string; base: string | null; weights: string | null; cells: Record<string, Cell>; perObject: { rows: { name: string; metrics: Record<string, { mean: number }> }[] } }[]; paper: unknown; report: string };
  assert.equal(out.protocol, '1cls');
  assert.deepEqual(out.methods, ['padim']);
  assert.deepEqual(out.rows.map((row) => [row.name, row.base, row.weights]), [['supervised', null, null], ['supervised+spd', 'supervised', null]]);
  const [base, spd] = out.rows as [(typeof out.rows)[number], (typeof out.rows)[number]];
  assert.deepEqual(base.perObject.rows.map((row) => row.name), ['pills', 'tealight', 'mean']);
  for (const m of ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc']) {
    const per = base.perObject.rows.map((row) => row.metrics[m]!.mean);
    assert.ok(Math.abs(base.cells[m]!.mean - (per[0]! + per[1]!) / 2) < 1e-12, m);
    assert.equal(base.cells[m]!.gain, null);
    // Same seed, same random init: the two rows are the same model, so the gain is exactly 0.
    assert.equal(spd.cells[m]!.gain, 0, m);
  }
  assert.equal(out.paper, null, 'synthetic objects are not VisA');
  assert.ok(existsSync(out.report));
  for (const row of ['supervised', 'supervised+spd']) for (const o of ['pills', 'tealight']) assert.ok(existsSync(join(dir, 'models', '1cls', row, o, 'model.json')), `${row}/${o}`);
  // Again into the same models folder (an earlier benchmark's), as text, from the split folder itself, with
  // the objects renamed to VisA's: the paper's Table 2 rows of the same names sit under ours.
  renameSync(join(dir, 'prep', '1cls', 'pills'), join(dir, 'prep', '1cls', 'candle'));
  renameSync(join(dir, 'prep', '1cls', 'tealight'), join(dir, 'prep', '1cls', 'pcb1'));
  const t = await runCli([...args.map((a) => (a === join(dir, 'prep') ? join(dir, 'prep', '1cls') : a)), '--quiet']);
  assert.equal(t.code, 0, t.stderr);
  const lines = t.stdout.split('\n');
  const head = lines.findIndex((l) => /^initialisation\s+cls AU-PR\s+cls AU-ROC\s+seg AU-PR\s+seg AU-ROC$/.test(l));
  assert.ok(head > 0, t.stdout);
  assert.match(lines[head + 1]!, /^supervised(\s+\d+\.\d){4}$/);
  assert.match(lines[head + 2]!, /^  paper\s+88\.2\s+87\.8\s+11\.4\s+93\.1$/);
  assert.match(lines[head + 3]!, /^supervised\+spd(\s+\d+\.\d \(\+0\.0\)){4}$/);
  assert.match(lines[head + 4]!, /^  paper\s+88\.6 \(\+0\.4\)\s+87\.8 \(\+0\.0\)\s+12\.0 \(\+0\.6\)\s+93\.8 \(\+0\.7\)$/);
  assert.match(lines[head + 5]!, /^paper: Zou et al\., ECCV 2022, Table 2 \(PaDiM, ResNet-50\); means over the 12 VisA objects \(this run: 2\)$/);
  for (const o of ['candle', 'pills']) assert.ok(existsSync(join(dir, 'models', '1cls', 'supervised', o, 'model.json')), o);
});

test('spotdiff benchmark --protocol: a split the data lacks, --method with a 2-class protocol and protocol flags without --protocol are usage errors', async () => {
  const dir = tempDir();
  const prep = join(dir, 'prep');
  (await import('node:fs')).mkdirSync(join(prep, '1cls'), { recursive: true });
  const missing = await runCli(['benchmark', '--protocol', '2cls-highshot', '--data', prep, '--weights', 'random']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /not the 2cls_highshot split/);
  const method = await runCli(['benchmark', '--protocol', '2cls-5shot', '--method', 'padim', '--data', prep]);
  assert.equal(method.code, 2);
  assert.match(method.stderr, /--method applies to --protocol 1cls/);
  const runs = await runCli(['benchmark', '--method', 'padim', '--data', prep, '--runs', '2']);
  assert.equal(runs.code, 2);
  assert.match(runs.stderr, /--runs applies with --protocol only/);
  const epochs = await runCli(['benchmark', '--protocol', '2cls-5shot', '--data', prep, '--epochs', '2']);
  assert.equal(epochs.code, 2);
  assert.match(epochs.stderr, /give --iterations, not --epochs/);
});

test('spotdiff benchmark --protocol 2cls-5shot: classifier columns from the classifier, segmenter columns from the segmenter, mean ± std over the k-shot runs', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills,tealight', '--normal', '30', '--anomalous', '30', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '2cls_fewshot', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep'), '--quiet'])).code, 0);
  const models = join(dir, 'models');
  const r = await runCli(['benchmark', '--protocol', '2cls-5shot', '--data', join(dir, 'prep'), '--weights', 'random', '--names', 'moco', '--runs', '2', '--iterations', '2', '--size', '64', '--models', models, '--json']);
  assert.equal(r.code, 0, r.stderr);
  type Cell = { mean: number; std: number | null; runs: number };
  const out = JSON.parse(r.stdout) as { methods: string[]; runs: number; rows: { name: string; cells: Record<string, Cell>; perObject: { rows: { name: string; metrics: Record<string, Cell> }[] } }[] };
  assert.deepEqual(out.methods, ['classifier', 'segmenter']);
  const row = out.rows[0]!;
  for (const m of ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc']) assert.ok(row.cells[m]!.runs === 2 && row.cells[m]!.std !== null, m);
  // Each column against spotdiff eval of the saved run folders: the per-object cell is the mean over runs.
  const evalOf = async (method: string, run: number): Promise<Record<string, number>> => {
    const e = await runCli(['eval', '--model', join(models, '2cls-5shot', 'moco', 'pills', method, `run-${run}`), '--data', join(dir, 'prep', '2cls_fewshot'), '--json']);
    assert.equal(e.code, 0, e.stderr);
    return (JSON.parse(e.stdout) as { metrics: Record<string, number> }).metrics;
  };
  const pills = row.perObject.rows.find((x) => x.name === 'pills')!.metrics;
  const [c0, c1, s0, s1] = [await evalOf('classifier', 0), await evalOf('classifier', 1), await evalOf('segmenter', 0), await evalOf('segmenter', 1)];
  assert.ok(Math.abs(pills['image.aupr']!.mean - (c0['image.aupr']! + c1['image.aupr']!) / 2) < 1e-12);
  assert.ok(Math.abs(pills['image.aupr']!.std! - Math.abs(c0['image.aupr']! - c1['image.aupr']!) / 2) < 1e-12, 'population std of two runs');
  assert.ok(Math.abs(pills['pixel.auroc']!.mean - (s0['pixel.auroc']! + s1['pixel.auroc']!) / 2) < 1e-12);
  assert.equal(c0['pixel.auroc'], undefined, 'the classifier has no pixel metrics: they come from the segmenter');
  for (const o of ['pills', 'tealight']) for (const m of ['classifier', 'segmenter']) for (const run of [0, 1]) assert.ok(existsSync(join(models, '2cls-5shot', 'moco', o, m, `run-${run}`, 'model.json')), `${o}/${m}/run-${run}`);
});

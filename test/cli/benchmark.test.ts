import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable, type MetricRecord } from '../../src/metrics/table.js';
import { summaryRows, renderSummaryText } from '../../src/benchmark/summary.js';
import { benchmarkInits } from '../../src/benchmark/inits.js';
import { paperMeans } from '../../src/benchmark/paper-figures.js';
import { benchmarkProtocol } from '../../src/benchmark/protocol.js';

const rec = (object: string, run: number, a: number, b: number, c: number, d: number): MetricRecord => ({
  object, run, metrics: { 'image.aupr': a, 'image.auroc': b, 'pixel.aupr': c, 'pixel.auroc': d },
});

test('summaryRows: the mean over objects per row, the +SPD row\'s gain over its base, none for an unpaired row', () => {
  const inits = benchmarkInits(['random', 'random', 'random'], ['supervised', 'supervised+spd', 'other']);
  const tables = {
    supervised: buildTable([rec('a', 0, 0.8, 0.9, 0.1, 0.95), rec('b', 0, 0.9, 0.7, 0.3, 0.85)], { meanRow: true }),
    'supervised+spd': buildTable([rec('a', 0, 0.86, 0.9, 0.2, 0.95), rec('b', 0, 0.9, 0.6, 0.3, 0.85)], { meanRow: true }),
    other: buildTable([rec('a', 0, 0.5, 0.5, 0.5, 0.5), rec('b', 0, 0.5, 0.5, 0.5, 0.5)], { meanRow: true }),
  };
  const rows = summaryRows(inits, tables);
  assert.ok(Math.abs(rows[0]!.cells['image.aupr']!.mean - 0.85) < 1e-12);
  assert.equal(rows[0]!.cells['image.aupr']!.gain, null);
  assert.ok(Math.abs(rows[1]!.cells['image.aupr']!.gain! - 0.03) < 1e-12);
  assert.ok(Math.abs(rows[1]!.cells['image.auroc']!.gain! - -0.05) < 1e-12);
  assert.equal(rows[2]!.cells['pixel.auroc']!.gain, null);
  assert.deepEqual(rows.map((r) => r.paper), [null, null, null], 'synthetic objects are not VisA');
  const lines = renderSummaryText(rows).split('\n');
  assert.match(lines[0]!, /^initialisation\s+cls AU-PR\s+cls AU-ROC\s+seg AU-PR\s+seg AU-ROC$/);
  assert.match(lines[1]!, /^supervised\s+85\.0\s+80\.0\s+20\.0\s+90\.0$/);
  assert.match(lines[2]!, /^supervised\+spd\s+88\.0 \(\+3\.0\)\s+75\.0 \(-5\.0\)\s+25\.0 \(\+5\.0\)\s+90\.0 \(\+0\.0\)$/);
  assert.match(lines[3]!, /^other\s+50\.0\s+50\.0\s+50\.0\s+50\.0$/);
});

test('summaryRows: over several runs, mean ± population std of the per-run means over objects; gains between the shown means', () => {
  const inits = benchmarkInits(['random', 'random'], ['moco', 'moco+spd']);
  // moco run means over objects: 0.7, 0.8 → 75.0 ± 5.0; moco+spd 0.7014 vs 0.7235 shows 70.1 → 72.4 (+2.3, unrounded 2.21).
  const tables = {
    moco: buildTable([rec('a', 0, 0.8, 0.7014, 0.5, 0.5), rec('b', 0, 0.6, 0.7014, 0.5, 0.5), rec('a', 1, 0.9, 0.7014, 0.5, 0.5), rec('b', 1, 0.7, 0.7014, 0.5, 0.5)], { meanRow: true }),
    'moco+spd': buildTable([rec('a', 0, 0.7, 0.7235, 0.5, 0.5), rec('b', 0, 0.7, 0.7235, 0.5, 0.5), rec('a', 1, 0.7, 0.7235, 0.5, 0.5), rec('b', 1, 0.7, 0.7235, 0.5, 0.5)], { meanRow: true }),
  };
  const rows = summaryRows(inits, tables);
  const c = rows[0]!.cells['image.aupr']!;
  assert.ok(Math.abs(c.mean - 0.75) < 1e-12 && Math.abs(c.std! - 0.05) < 1e-12 && c.runs === 2);
  const text = renderSummaryText(rows).split('\n');
  assert.match(text[1]!, /^moco\s+75\.0 ± 5\.0\s+70\.1 ± 0\.0/);
  assert.match(text[2]!, /^moco\+spd\s+70\.0 ± 0\.0 \(-5\.0\)\s+72\.4 ± 0\.0 \(\+2\.3\)/);
});

test('summaryRows: on VisA the paper\'s row sits under ours with the paper\'s own gain', () => {
  const inits = benchmarkInits(['random', 'random', 'random'], ['supervised', 'supervised+spd', 'mine']);
  const t = buildTable([rec('candle', 0, 0.9, 0.9, 0.6, 0.9)], { meanRow: true });
  const paper = paperMeans(undefined, benchmarkProtocol('2cls-highshot').paper(''), inits.map((i) => i.name), ['candle']);
  const rows = summaryRows(inits, { supervised: t, 'supervised+spd': t, mine: t }, paper);
  assert.equal(rows[2]!.paper, null);
  assert.ok(Math.abs(rows[1]!.paper!['image.aupr']!.value - 0.983) < 1e-12);
  const lines = renderSummaryText(rows).split('\n');
  // Table 3: supervised 97.5 99.5 65.1 97.3; supervised+spd 98.3 99.7 71.9 98.5.
  assert.match(lines[2]!, /^  paper\s+97\.5\s+99\.5\s+65\.1\s+97\.3$/);
  assert.match(lines[3]!, /^supervised\+spd\s+90\.0 \(\+0\.0\)/);
  assert.match(lines[4]!, /^  paper\s+98\.3 \(\+0\.8\)\s+99\.7 \(\+0\.2\)\s+71\.9 \(\+6\.8\)\s+98\.5 \(\+1\.2\)$/);
  assert.match(lines[5]!, /^mine\s/);
  assert.equal(lines.length, 6);
});

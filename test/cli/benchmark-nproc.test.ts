import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli, type CliResult } from './run-cli.js';
import { distributedBackends } from '../../src/distributed/index.js';

/**
 * `benchmark --nproc N`: the fits shared across processes give the one-process table, every
 * fit run once, one writer per results file, and an interrupted job resumed whatever its
 * number of processes. One intra-op thread in every process, so the numbers match exactly.
 */

process.env.SPOTDIFF_THREADS = '1';
const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';
const OBJECTS = ['board', 'pills', 'tealight'];

const shared = tempDir();
let preparedOnce: Promise<string> | null = null;
/** One synthetic 1cls dataset of three objects for every test here. */
function prepared(): Promise<string> {
  preparedOnce ??= (async () => {
    const dir = shared;
    assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', OBJECTS.join(','), '--normal', '12', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
    assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep'), '--quiet'])).code, 0);
    return join(dir, 'prep');
  })();
  return preparedOnce;
}

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, r.stderr);
  return r;
};

/** The progress lines of each rank: [rank, line] pairs. */
function rankLines(stderr: string): [number, string][] {
  return [...stderr.matchAll(/^\[rank (\d+)\] (.*)$/gm)].map((m) => [Number(m[1]), m[2]!]);
}

let oneProcessOnce: Promise<CliResult> | null = null;
/** The protocol benchmark below as one process runs it. */
function oneProcess(prep: string): Promise<CliResult> {
  oneProcessOnce ??= runCli(protocolArgs(prep, join(shared, 'one-process'))).then(ok);
  return oneProcessOnce;
}

const protocolArgs = (prep: string, models: string): string[] =>
  ['benchmark', '--protocol', '1cls', '--method', 'padim', '--data', prep, '--weights', 'random,random', '--names', 'a,a+spd', '--size', '64', '--models', models];

test('benchmark --nproc 2 (Table 2 mode): the one-process table, each object fitted once by one of the two processes', { skip }, async () => {
  const prep = await prepared();
  const dir = tempDir();
  const args = (models: string): string[] => ['benchmark', '--data', join(prep, '1cls'), '--method', 'padim', '--size', '64', '--models', models];
  const one = ok(await runCli(args(join(dir, 'one'))));
  // With a report, whose heatmaps of the objects rank 1 fitted rank 0 scores again.
  const two = ok(await runCli([...args(join(dir, 'two')), '--nproc', '2', '--report', join(dir, 'report')]));
  assert.match(one.stdout, /^mean(\s+\d+\.\d){4}$/m);
  const reportLine = /^report: (.*)\n/m.exec(two.stdout);
  assert.ok(reportLine !== null, two.stdout);
  assert.equal(two.stdout.replace(reportLine[0], ''), one.stdout);
  const html = readFileSync(reportLine[1]!, 'utf8');
  for (const o of OBJECTS) assert.ok(html.includes(o), o);
  const lines = rankLines(two.stderr);
  assert.deepEqual(lines.map(([, l]) => l).sort(), OBJECTS.map((o) => `benchmark: ${o}`));
  assert.ok(lines.every(([rank]) => rank === 0 || rank === 1), two.stderr);
  assert.equal(two.stderr.match(/no --weights given/g)?.length, 1, 'the launcher warns, not each process');
  for (const o of OBJECTS) assert.deepEqual(readdirSync(join(dir, 'two', o)).sort(), ['model.json', 'weights.safetensors'], o);
});

test('benchmark --protocol 1cls --nproc 2: the one-process tables and record; --resume reads the rank files of an interrupted job of any size', { skip }, async () => {
  const prep = await prepared();
  const dir = tempDir();
  const one = await oneProcess(prep);
  const models = join(dir, 'two');
  const two = ok(await runCli([...protocolArgs(prep, models), '--nproc', '2']));
  assert.equal(two.stdout, one.stdout);
  const units = rankLines(two.stderr).map(([, l]) => l.replace(/^benchmark \[\d\/6\]: /, '')).sort();
  assert.deepEqual(units, ['a', 'a+spd'].flatMap((row) => OBJECTS.map((o) => `${row} ${o} padim`)).sort());
  const protocolDir = join(models, '1cls');
  const record = join(protocolDir, 'results.jsonl');
  const lines = readFileSync(record, 'utf8').trim().split('\n');
  assert.equal(lines.length, 6, 'every rank\'s results folded into the one record');
  assert.deepEqual(readdirSync(protocolDir).sort(), ['a', 'a+spd', 'results.jsonl']);

  // As a 3-process job leaves it when killed: two lines in the record, two in rank 1's file (the
  // second torn), one in rank 2's; the last fit's model never saved, the fifth's result never recorded.
  const key = (l: string): string => { const j = JSON.parse(l) as { row: string; object: string }; return `${j.row} ${j.object}`; };
  const byKey = new Map(lines.map((l) => [key(l), l]));
  writeFileSync(record, `${byKey.get('a board')}\n${byKey.get('a pills')}\n`);
  writeFileSync(join(protocolDir, 'results.rank-1.jsonl'), `${byKey.get('a tealight')}\n${byKey.get('a+spd board')!.slice(0, 40)}`);
  writeFileSync(join(protocolDir, 'results.rank-2.jsonl'), `${byKey.get('a+spd board')}\n`);
  rmSync(join(protocolDir, 'a+spd', 'tealight'), { recursive: true });
  const resumed = ok(await runCli([...protocolArgs(prep, models), '--resume', '--nproc', '2']));
  assert.equal(resumed.stdout, one.stdout);
  assert.match(resumed.stderr, /results\.rank-1\.jsonl: the last line was cut short/);
  const how = new Map(rankLines(resumed.stderr).map(([rank, l]) => [l.replace(/^benchmark \[\d\/6\]: /, ''), { rank, l }]));
  for (const u of ['a board', 'a pills', 'a tealight', 'a+spd board']) {
    assert.match(how.get(`${u} padim (recorded result)`)?.l ?? '', /recorded result/, `${u}: ${resumed.stderr}`);
    assert.equal(how.get(`${u} padim (recorded result)`)!.rank, 0, 'the first process takes the recorded results');
  }
  assert.ok(how.has('a+spd pills padim (saved model: evaluating)'), resumed.stderr);
  assert.ok(how.has('a+spd tealight padim'), resumed.stderr);
  assert.deepEqual(readdirSync(protocolDir).sort(), ['a', 'a+spd', 'results.jsonl']);
  assert.deepEqual(new Set(readFileSync(record, 'utf8').trim().split('\n').map(key)), new Set(byKey.keys()));

  // A one-process --resume reads a rank file too (here rank 3's, of a 4-process job): nothing to fit.
  const recordLines = readFileSync(record, 'utf8').trim().split('\n');
  writeFileSync(record, recordLines.filter((l) => key(l) !== 'a board').join('\n') + '\n');
  writeFileSync(join(protocolDir, 'results.rank-3.jsonl'), `${recordLines.find((l) => key(l) === 'a board')}\n`);
  const single = ok(await runCli([...protocolArgs(prep, models), '--resume']));
  assert.equal(single.stdout, one.stdout);
  assert.equal(single.stderr.match(/\(recorded result\)/g)?.length, 6, single.stderr);
  assert.deepEqual(readdirSync(protocolDir).sort(), ['a', 'a+spd', 'results.jsonl']);
});

test('benchmark --nproc 2: a killed process stops the job (exit 1, naming its rank), saved models stay, --resume finishes with the same table', { skip }, async () => {
  const prep = await prepared();
  const dir = tempDir();
  const models = join(dir, 'models');
  let killed = false;
  const run = await runCli([...protocolArgs(prep, models), '--nproc', '2'], (launcher) => {
    let err = '';
    launcher.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      // Rank 0 starting its second fit: its first model is saved, this one is not.
      if (killed || (err.match(/^\[rank 0\] benchmark /gm)?.length ?? 0) < 2) return;
      killed = true;
      // The launcher's youngest child is rank 1.
      const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
      process.kill(pids.at(-1)!, 'SIGKILL');
    });
  });
  assert.ok(killed, `the run ended before a process could be killed: ${run.stderr}`);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /spotdiff: rank 1 was killed by SIGKILL; the other processes on this machine were stopped/);
  const saved = ['a', 'a+spd'].flatMap((row) => OBJECTS.filter((o) => existsSync(join(models, '1cls', row, o, 'model.json'))));
  assert.ok(saved.length >= 1 && saved.length < 6, `${saved.length} models saved`);
  const resumed = ok(await runCli([...protocolArgs(prep, models), '--resume', '--nproc', '2']));
  assert.equal(resumed.stdout, (await oneProcess(prep)).stdout);
  assert.equal(readFileSync(join(models, '1cls', 'results.jsonl'), 'utf8').trim().split('\n').length >= 6, true);
});

test('benchmark --nproc: a models folder of the user\'s is refused by the launcher before any process starts (usage error)', { skip }, async () => {
  const prep = await prepared();
  const dir = tempDir();
  const models = join(dir, 'models');
  (await import('node:fs')).mkdirSync(models);
  writeFileSync(join(models, 'notes.txt'), 'mine');
  const r = await runCli([...protocolArgs(prep, models), '--nproc', '2']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /refusing to write models under/);
  assert.doesNotMatch(r.stderr, /\[rank/);
  assert.equal(readFileSync(join(models, 'notes.txt'), 'utf8'), 'mine');
});

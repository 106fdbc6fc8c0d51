import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli, type CliResult } from '../cli/run-cli.js';

/**
 * An interrupted benchmark resumed with --resume: nothing finished is fitted again, the
 * results record carries what was evaluated, and the final table is the uninterrupted run's.
 */

async function prepared(splitType: '1cls' | '2cls_fewshot', normal: number, anomalous: number): Promise<string> {
  const dir = tempDir();
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills,tealight', '--normal', String(normal), '--anomalous', String(anomalous), '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', splitType, '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep'), '--quiet'])).code, 0);
  return dir;
}

type Rows = { rows: unknown[] };

/** Runs the CLI and SIGKILLs it as soon as its stderr shows `marker` (a crash, not a clean exit). */
function runUntil(args: string[], marker: RegExp): Promise<CliResult> {
  return runCli(args, (child) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (marker.test(err)) child.kill('SIGKILL');
    });
  });
}

const fileState = (path: string): { bytes: string; mtimeMs: number } => ({ bytes: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs });

test('benchmark --resume (1cls, padim): killed after the first model, resumed: that model is not refitted, the table equals an uninterrupted run\'s', async () => {
  const dir = await prepared('1cls', 12, 3);
  const base = ['benchmark', '--protocol', '1cls', '--method', 'padim', '--data', join(dir, 'prep'), '--weights', 'random', '--names', 'r', '--size', '64'];
  const whole = await runCli([...base, '--models', join(dir, 'whole'), '--json']);
  assert.equal(whole.code, 0, whole.stderr);
  const models = join(dir, 'models');
  const killed = await runUntil([...base, '--models', models], /benchmark \[2\/2\]/);
  assert.equal(killed.signal, 'SIGKILL', `the run ended before it was killed: ${killed.stderr}`);
  const record = join(models, '1cls', 'results.jsonl');
  const first = JSON.parse(readFileSync(record, 'utf8').split('\n')[0]!) as { row: string; object: string; run: number; method: string; model: string; metrics: Record<string, number> };
  assert.deepEqual([first.row, first.object, first.run, first.method, first.model], ['r', 'pills', 0, 'padim', join('r', 'pills')]);
  const pillsJson = join(models, '1cls', 'r', 'pills', 'model.json');
  const before = fileState(pillsJson);
  appendFileSync(record, '{"version":1,"row":"r","obj'); // a write cut short by the crash
  const resumed = await runCli([...base, '--models', models, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /results\.jsonl: the last line was cut short .* dropped/);
  assert.match(resumed.stderr, /benchmark \[1\/2\]: r pills padim \(recorded result\)/);
  assert.deepEqual(fileState(pillsJson), before, 'the finished model was not fitted again');
  // The table from the record alone (every result recorded now) is the uninterrupted run's, to the last bit.
  const table = async (): Promise<unknown[]> => {
    const r = await runCli([...base, '--models', models, '--resume', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Rows).rows;
  };
  assert.deepEqual(await table(), (JSON.parse(whole.stdout) as Rows).rows);
  const lines = readFileSync(record, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the record ends with a whole line');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { object: string }).object).sort(), ['pills', 'tealight'], 'one line per evaluation, the torn one gone');

  // Without the record, resume evaluates the saved models again (same numbers, nothing refitted).
  rmSync(record);
  const tealightJson = join(models, '1cls', 'r', 'tealight', 'model.json');
  const tealight = fileState(tealightJson);
  const again = await runCli([...base, '--models', models, '--resume']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /r pills padim \(saved model: evaluating\)[\s\S]*r tealight padim \(saved model: evaluating\)/);
  assert.deepEqual([fileState(pillsJson), fileState(tealightJson)], [before, tealight]);
  assert.deepEqual(await table(), (JSON.parse(whole.stdout) as Rows).rows);
  // An HTML report needs the scored maps, which the record lacks: those models are evaluated again, the same numbers.
  const reported = await runCli([...base, '--models', models, '--resume', '--json', '--report', join(dir, 'report')]);
  assert.equal(reported.code, 0, reported.stderr);
  const rep = JSON.parse(reported.stdout) as Rows & { report: string };
  assert.deepEqual(rep.rows, (JSON.parse(whole.stdout) as Rows).rows);
  assert.ok(existsSync(rep.report));

  // A request the saved models were not fitted by: an error naming the folder and each difference; nothing is touched.
  const other = await runCli([...base.map((a) => (a === '64' ? '96' : a)), '--seed', '1', '--models', models, '--resume']);
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /cannot resume: \S*pills holds a model fitted by another request \(seed: 0 in model\.json, 1 requested; size: \[64,64\] in model\.json, \[96,96\] requested\)/);
  const otherMethod = await runCli([...base.map((a) => (a === 'padim' ? 'patchcore' : a)), '--models', models, '--resume']);
  assert.equal(otherMethod.code, 2, otherMethod.stderr);
  assert.match(otherMethod.stderr, /method: "padim" in model\.json, "patchcore" requested/);
  assert.deepEqual([fileState(pillsJson), fileState(tealightJson)], [before, tealight]);
});

test('benchmark (2cls): a work folder holding a checkpoint is refused without --resume, and one holding files of the user\'s always', async () => {
  const dir = await prepared('2cls_fewshot', 12, 12);
  const models = join(dir, 'models');
  const work = join(models, '2cls-5shot', 'r', 'pills', 'classifier', 'run-0.work');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'checkpoint.safetensors'), 'an interrupted fit');
  const args = ['benchmark', '--protocol', '2cls-5shot', '--data', join(dir, 'prep'), '--weights', 'random', '--names', 'r', '--objects', 'pills', '--runs', '1', '--iterations', '2', '--size', '64', '--models', models, '--quiet'];
  const fresh = await runCli(args);
  assert.equal(fresh.code, 2, fresh.stderr);
  assert.match(fresh.stderr, /run-0\.work holds the checkpoint of an interrupted fit/);
  writeFileSync(join(work, 'notes.txt'), 'mine');
  const foreign = await runCli([...args, '--resume']);
  assert.equal(foreign.code, 2, foreign.stderr);
  assert.match(foreign.stderr, /refusing to use \S*run-0\.work as a work folder: it holds files the trainer does not write \(notes\.txt\)/);
  assert.ok(existsSync(join(work, 'checkpoint.safetensors')) && existsSync(join(work, 'notes.txt')), 'nothing was removed');
});

test('benchmark --resume (2cls-5shot): a fit interrupted after its checkpoint continues from it and saves the uninterrupted fit\'s weights', async () => {
  const dir = await prepared('2cls_fewshot', 30, 30);
  const split = join(dir, 'prep', '2cls_fewshot');
  // The classifier of run 0 as the benchmark fits it, by spotdiff fit, keeping its work folder (checkpoint of the last step).
  const work = join(dir, 'work');
  const fit = await runCli(['fit', '--method', 'classifier', '--data', split, '--object', 'pills', '--backbone', 'resnet18', '--size', '64', '--protocol', 'few-shot', '--shots', '5', '--run', '0', '--iterations', '2', '--seed', '0', '--work', work, '--out', join(dir, 'whole'), '--quiet']);
  assert.equal(fit.code, 0, fit.stderr);
  // The benchmark crashed after that checkpoint, before saving the model: only the work folder is there.
  const models = join(dir, 'models');
  const out = join(models, '2cls-5shot', 'r', 'pills', 'classifier', 'run-0');
  mkdirSync(`${out}.work`, { recursive: true });
  for (const f of ['checkpoint.safetensors', 'log.jsonl']) writeFileSync(join(`${out}.work`, f), readFileSync(join(work, f)));
  const resumed = await runCli(['benchmark', '--protocol', '2cls-5shot', '--data', join(dir, 'prep'), '--weights', 'random', '--names', 'r', '--objects', 'pills', '--runs', '1', '--iterations', '2', '--size', '64', '--models', models, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /benchmark \[1\/2\]: r pills classifier \(continuing from the checkpoint of step 2\)/);
  assert.ok(readFileSync(join(out, 'weights.safetensors')).equals(readFileSync(join(dir, 'whole', 'weights.safetensors'))), 'the resumed fit saved the uninterrupted fit\'s network');
  assert.ok(!existsSync(`${out}.work`), 'the work folder goes once the model is saved');
  assert.equal(readFileSync(join(models, '2cls-5shot', 'results.jsonl'), 'utf8').trim().split('\n').length, 2);
  // The checkpoint is the trainer's to continue: one of another request (another lr) is refused, naming it.
  const otherWork = join(dir, 'work-lr');
  const otherFit = await runCli(['fit', '--method', 'classifier', '--data', split, '--object', 'pills', '--backbone', 'resnet18', '--size', '64', '--protocol', 'few-shot', '--shots', '5', '--run', '0', '--iterations', '2', '--lr', '0.001', '--work', otherWork, '--out', join(dir, 'whole-lr'), '--quiet']);
  assert.equal(otherFit.code, 0, otherFit.stderr);
  const models2 = join(dir, 'models2');
  const out2 = join(models2, '2cls-5shot', 'r', 'pills', 'classifier', 'run-0');
  mkdirSync(`${out2}.work`, { recursive: true });
  writeFileSync(join(`${out2}.work`, 'checkpoint.safetensors'), readFileSync(join(otherWork, 'checkpoint.safetensors')));
  const refused = await runCli(['benchmark', '--protocol', '2cls-5shot', '--data', join(dir, 'prep'), '--weights', 'random', '--names', 'r', '--objects', 'pills', '--runs', '1', '--iterations', '2', '--size', '64', '--models', models2, '--resume', '--quiet']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /cannot resume from \S*run-0\.work\/checkpoint\.safetensors: it was written by another training run \([^)]*lr/);
  assert.ok(existsSync(join(`${out2}.work`, 'checkpoint.safetensors')) && !existsSync(out2), 'nothing fitted over it, nothing removed');
});

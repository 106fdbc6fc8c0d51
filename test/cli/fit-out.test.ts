import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

const dir = tempDir();
let data = '';
const fitArgs = (out: string, ...extra: string[]) => ['fit', '--method', 'padim', '--data', data, '--backbone', 'resnet18', '--size', '64', '--quiet', '--out', out, ...extra];

/** Every file of a folder and its bytes. */
function snapshot(folder: string): Map<string, Buffer> {
  return new Map(readdirSync(folder).sort().map((n) => [n, readFileSync(join(folder, n))]));
}

before(async () => {
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', '--normal', '12', '--anomalous', '3', '--size', '64', '--quiet'])).code, 0);
  assert.equal((await runCli(['prepare', '--split-type', '1cls', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')])).code, 0);
  data = join(dir, 'prep', '1cls');
});

test('fit --out refuses the weights file it was given and a folder of the user\'s, before fitting', async () => {
  const weights = join(dir, 'r18.pth');
  writeFileSync(weights, 'the only copy of these weights');
  const onWeights = await runCli(fitArgs(weights, '--weights', weights));
  assert.equal(onWeights.code, 2, onWeights.stderr);
  assert.match(onWeights.stderr, /refusing to replace .*r18\.pth: it is a file, not a model folder/);
  assert.equal(readFileSync(weights, 'utf8'), 'the only copy of these weights');

  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'notes.txt'), 'mine');
  const onProject = await runCli(fitArgs(project));
  assert.equal(onProject.code, 2, onProject.stderr);
  assert.match(onProject.stderr, /refusing to replace .*project: the folder holds files that are not a spotdiff model \(notes\.txt\)/);
  assert.deepEqual(readdirSync(project), ['notes.txt']);
});

test('fit --out fills an empty folder, then replaces its own model', async () => {
  const out = join(dir, 'empty');
  mkdirSync(out);
  assert.equal((await runCli(fitArgs(out))).code, 0);
  const first = snapshot(out);
  assert.deepEqual([...first.keys()], ['model.json', 'weights.safetensors']);
  const again = await runCli(fitArgs(out, '--seed', '1'));
  assert.equal(again.code, 0, again.stderr);
  assert.notDeepEqual(snapshot(out).get('model.json'), first.get('model.json'));
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.empty')), []);
});

test('benchmark --models refuses a folder that holds anything but model folders, before fitting', async () => {
  const models = join(dir, 'mine');
  mkdirSync(join(models, 'pills'), { recursive: true });
  writeFileSync(join(models, 'pills', 'photo.png'), 'mine');
  const r = await runCli(['benchmark', '--data', data, '--method', 'padim', '--size', '64', '--models', models, '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /refusing to replace .*mine: it holds entries that are not spotdiff model folders \(pills\)/);
  assert.equal(readFileSync(join(models, 'pills', 'photo.png'), 'utf8'), 'mine');
});

test('SIGINT while fit saves leaves the previous model whole, and the next fit sweeps the leftovers', async () => {
  const parent = join(dir, 'sigint');
  const out = join(parent, 'model');
  assert.equal((await runCli(fitArgs(out))).code, 0);
  const previous = snapshot(out);
  // At 224 px PaDiM's covariances (~125 MB) keep the save going for over half a second, long enough to interrupt it.
  const interrupted = await runCli(fitArgs(out, '--size', '224'), (child) => {
    const poll = setInterval(() => {
      if (!readdirSync(parent).some((n) => n.startsWith('.model.tmp-'))) return;
      clearInterval(poll);
      child.kill('SIGINT');
    }, 2);
    child.on('exit', () => clearInterval(poll));
  });
  assert.equal(interrupted.signal, 'SIGINT', `the save was not interrupted: ${interrupted.stderr}`);
  assert.deepEqual(snapshot(out), previous);
  assert.ok(readdirSync(parent).some((n) => n.startsWith('.model.tmp-')), 'an interrupted save leaves its temporary folder');
  const next = await runCli(fitArgs(out));
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(readdirSync(parent), ['model']);
});

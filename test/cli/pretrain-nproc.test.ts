import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from '../pretrain/tiny-images.js';
import { runCli } from './run-cli.js';
import { distributedBackends } from '../../src/distributed/index.js';

// One intra-op thread in every worker (the machine's cores are shared).
process.env.SPOTDIFF_THREADS = '1';
const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';

const base = (data: string, out: string, epochs: number): string[] =>
  ['pretrain', '--method', 'simsiam', '--data', data, '--backbone', 'resnet18', '--epochs', String(epochs), '--batch-size', '4', '--size', '32', '--seed', '5', '--out', out];

test('pretrain --nproc 2: two processes, one result and one set of files from the first', { skip }, async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  const run = await runCli([...base(data, out, 1), '--nproc', '2', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { completed: boolean; steps: number; backbone: string };
  assert.equal(result.completed, true);
  assert.equal(result.steps, 2);
  assert.ok(existsSync(result.backbone));
  assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
});

for (const method of ['moco', 'simclr']) {
  test(`pretrain --nproc 2 --method ${method}: the global batch's keys or negatives across both processes`, { skip }, async () => {
    const dir = tempDir();
    const data = await writeTinyImages(join(dir, 'data'));
    const out = join(dir, 'run');
    const args = base(data, out, 1).map((a) => (a === 'simsiam' ? method : a));
    const run = await runCli([...args, '--nproc', '2', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { completed: boolean; steps: number; backbone: string };
    assert.equal(result.completed, true);
    assert.equal(result.steps, 2);
    assert.ok(existsSync(result.backbone));
  });
}

test('pretrain --nproc: a killed process stops the job (exit 1, naming its rank), the last checkpoint stays, --resume finishes', { skip }, async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  const checkpoint = join(out, 'checkpoint.safetensors');
  let killed = '';
  const run = await runCli([...base(data, out, 8), '--nproc', '2', '--quiet'], (launcher) => {
    void (async () => {
      while (!existsSync(checkpoint) && launcher.exitCode === null) await sleep(50);
      const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
      killed = String(pids.at(-1));
      process.kill(pids.at(-1)!, 'SIGKILL');
    })();
  });
  assert.notEqual(killed, '', 'the run ended before a worker could be killed');
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /spotdiff: rank [01] was killed by SIGKILL; the other processes on this machine were stopped/);
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n');
  assert.ok(log.length >= 2 && log.length < 16, `${log.length} steps logged`);

  const resumed = await runCli(['pretrain', '--out', out, '--resume', '--nproc', '2', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const result = JSON.parse(resumed.stdout) as { completed: boolean; steps: number; startEpoch: number };
  assert.equal(result.completed, true);
  assert.equal(result.steps, 16);
  assert.ok(result.startEpoch >= 1);
});

test('pretrain --nproc: Ctrl-C (SIGINT to the launcher and its workers, as a terminal sends it) stops every process at the same step', { skip }, async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const out = join(dir, 'run');
  const log = join(out, 'log.jsonl');
  const run = await runCli([...base(data, out, 8), '--nproc', '2'], (launcher) => {
    void (async () => {
      while (!existsSync(log) && launcher.exitCode === null) await sleep(50);
      const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
      for (const pid of [launcher.pid!, ...pids]) process.kill(pid, 'SIGINT');
    })();
  });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /^stopped after (\d+) steps/m);
  assert.doesNotMatch(run.stderr, /was killed|exited with code/);
  const steps = Number(/stopped after (\d+) steps/.exec(run.stdout)![1]);
  assert.ok(steps < 16);
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, steps);
});

test('launch flags are checked before any process starts', async () => {
  const dir = tempDir();
  const cases: [string[], RegExp][] = [
    [['--nproc', '0'], /--nproc must be an integer >= 1/],
    [['--master', '127.0.0.1:29500'], /--master needs --nproc/],
    [['--nproc', '2', '--nnodes', '2'], /--nnodes above 1 needs --master ADDR:PORT/],
    [['--nproc', '2', '--master', 'nohost'], /--master must be ADDR:PORT/],
    [['--nproc', '2', '--nnodes', '2', '--node-rank', '2', '--master', 'h:1'], /--node-rank must be an integer >= 0 and <= 1/],
    [['--nproc', '3'], /the batch size 4 does not split evenly across 3 processes/],
  ];
  for (const [extra, pattern] of cases) {
    const r = await runCli([...base(dir, join(dir, 'o'), 1), ...extra]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  // CUDA ranks average through NCCL: a build without it says why before starting anyone.
  if (!distributedBackends().includes('nccl')) {
    const r = await runCli([...base(dir, join(dir, 'o'), 1), '--nproc', '2', '--device', 'cuda']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /this build has no nccl backend \(it has gloo\): libtorch is not a CUDA build/);
  }
});

test('pretrain --nproc 2 --sync-bn: off normalises each process\u2019s share (other losses than SimSiam\u2019s recipe, SyncBatchNorm); bf16 runs with it; other values are usage errors', { skip }, async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const bad = await runCli([...base(data, join(dir, 'bad'), 1), '--nproc', '2', '--sync-bn', 'yes']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--sync-bn must be on or off, got "yes"/);
  const losses = async (name: string, extra: string[]): Promise<number[]> => {
    const out = join(dir, name);
    const run = await runCli([...base(data, out, 1), '--nproc', '2', '--quiet', ...extra]);
    assert.equal(run.code, 0, run.stderr);
    return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { total: number }).total);
  };
  const recipe = await losses('recipe', []);
  assert.deepEqual(await losses('on', ['--sync-bn', 'on']), recipe);
  const off = await losses('off', ['--sync-bn', 'off']);
  assert.notEqual(off[0], recipe[0]);
  const bf16 = await losses('bf16', ['--precision', 'bf16']);
  assert.ok(bf16.every(Number.isFinite) && bf16.length === 2, String(bf16));
});

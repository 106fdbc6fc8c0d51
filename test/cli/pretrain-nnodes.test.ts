import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyImages } from '../pretrain/tiny-images.js';
import { cliMain, runCli, runProcess, type CliResult } from './run-cli.js';
import { distributedBackends } from '../../src/distributed/index.js';

// Two machines for real: two network namespaces joined by a veth pair, each with its own
// address and no route to the other's loopback, one spotdiff launcher in each. Creating
// namespaces needs root and iproute2 (CI runs as root).
process.env.SPOTDIFF_THREADS = '1';
const tag = String(process.pid % 100000);
const ns = [`sd-a-${tag}`, `sd-b-${tag}`];
const link = [`sda${tag}`, `sdb${tag}`];
const subnet = `10.${100 + (process.pid % 100)}.${(process.pid >> 7) % 250}`;
const address = [`${subnet}.1`, `${subnet}.2`];

function ip(...args: string[]): boolean {
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

function makeMachines(): boolean {
  if (!ip('netns', 'add', ns[0]!) || !ip('netns', 'add', ns[1]!)) return false;
  const ok = ip('link', 'add', link[0]!, 'type', 'veth', 'peer', 'name', link[1]!);
  for (const i of [0, 1]) {
    if (!ok || !ip('link', 'set', link[i]!, 'netns', ns[i]!)) return false;
    if (!ip('-n', ns[i]!, 'addr', 'add', `${address[i]}/24`, 'dev', link[i]!)) return false;
    if (!ip('-n', ns[i]!, 'link', 'set', link[i]!, 'up') || !ip('-n', ns[i]!, 'link', 'set', 'lo', 'up')) return false;
  }
  return true;
}

const gloo = distributedBackends().includes('gloo');
const machines = gloo && process.getuid?.() === 0 && makeMachines();
const skip = !gloo ? 'this build of the addon has no Gloo backend' : machines ? false : 'network namespaces need root and iproute2 (ip netns)';
after(() => {
  for (const n of ns) ip('netns', 'del', n);
});

/** `spotdiff <args>` inside network namespace `n` (the veth's name as GLOO_SOCKET_IFNAME). */
function runIn(n: number, args: string[]): Promise<CliResult> {
  return runProcess('ip', ['netns', 'exec', ns[n]!, process.execPath, cliMain, ...args], { ...process.env, GLOO_SOCKET_IFNAME: link[n]! });
}

const losses = (out: string): number[] =>
  readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { total: number }).total);

test('pretrain --nnodes 2 across two network namespaces (GLOO_SOCKET_IFNAME): the loss curve of --nproc 2 on one machine', { skip }, async () => {
  const dir = tempDir();
  const data = await writeTinyImages(join(dir, 'data'));
  const base = (out: string): string[] =>
    ['pretrain', '--method', 'moco', '--data', data, '--backbone', 'resnet18', '--epochs', '2', '--batch-size', '4', '--size', '32', '--seed', '5', '--out', out, '--json'];
  const local = await runCli([...base(join(dir, 'local')), '--nproc', '2']);
  assert.equal(local.code, 0, local.stderr);

  const master = `${address[0]}:29531`;
  const out = join(dir, 'two-machines');
  const [first, second] = await Promise.all([0, 1].map((n) => runIn(n, [...base(out), '--nproc', '1', '--nnodes', '2', '--node-rank', String(n), '--master', master])));
  assert.equal(first!.code, 0, first!.stderr);
  assert.equal(second!.code, 0, second!.stderr);
  assert.equal((JSON.parse(first!.stdout) as { steps: number }).steps, 4);
  assert.equal(second!.stdout.trim(), '', 'only the first machine reports');

  const [a, b] = [losses(join(dir, 'local')), losses(out)];
  assert.equal(b.length, 4);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-6, `step ${i + 1}: ${v} vs ${b[i]}`));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { ProcessGroup, distributedBackends } from '../../src/distributed/index.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { freePort, runRanks } from './ranks.js';

const gloo = distributedBackends().includes('gloo');
const skip = gloo ? false : 'this build of the addon has no Gloo backend';

test('two ranks on loopback: all_reduce, broadcast and all_gather of known tensors', { skip }, async () => {
  const ranks = await runRanks('collectives', 2);
  for (const r of ranks) {
    assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    assert.deepEqual(r.result, {
      sum: [3, 6, -6],
      max: [0.5, 0, 0.25],
      // int64 values beyond float precision pass through the reduction exactly
      ints: ['3', String(2n ** 41n)],
      bcast: [101, 102],
      gathered: [
        { shape: [1, 2], values: [0, 0] },
        { shape: [1, 2], values: [1, 10] },
      ],
    });
  }
});

test('GLOO_SOCKET_IFNAME names the interface Gloo binds to: the loopback one works, an unknown one fails to join', { skip }, async () => {
  const ranks = await runRanks('collectives', 2, { env: { GLOO_SOCKET_IFNAME: 'lo' } });
  for (const r of ranks) {
    assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    assert.deepEqual((r.result as { sum: number[] }).sum, [3, 6, -6]);
  }
  const bad = await runRanks('join-fails', 1, { env: { GLOO_SOCKET_IFNAME: 'nosuchif0' } });
  const got = bad[0]!.result as { code: string; message: string };
  assert.equal(got.code, 'ERR_NETWORK');
  assert.match(got.message, /rank 0 of 1: could not join the group.*nosuchif0/s);
});

test('three ranks: the sum and the gather cover every rank', { skip }, async () => {
  const ranks = await runRanks('collectives', 3);
  for (const r of ranks) {
    assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    const got = r.result as { sum: number[]; gathered: { values: number[] }[]; bcast: number[] };
    assert.deepEqual(got.sum, [6, 12, -9]);
    assert.deepEqual(got.bcast, [101, 102]);
    assert.deepEqual(got.gathered.map((g) => g.values), [[0, 0], [1, 10], [2, 20]]);
  }
});

test('a rank that exits: the other rank fails within seconds, with an error naming both ranks', { skip }, async () => {
  const [r0] = await runRanks('peer-exits', 2, { env: { DIST_TIMEOUT_MS: '20000' } });
  const got = r0!.result as { failed: boolean; spotdiff: boolean; code: string; message: string; ms: number };
  assert.equal(got.failed, true);
  assert.equal(got.spotdiff, true);
  assert.equal(got.code, 'ERR_NETWORK');
  assert.match(got.message, /rank 0 of 2: all_reduce failed \(peer: rank 1\)/);
  // A closed connection is seen at once, long before the 20 s timeout.
  assert.ok(got.ms < 5000, `took ${got.ms} ms`);
});

test('a rank that stays but does not take part: the other rank times out after the timeout', { skip }, async () => {
  const [r0] = await runRanks('peer-silent', 2, { env: { DIST_TIMEOUT_MS: '2000' } });
  const got = r0!.result as { failed: boolean; code: string; message: string; ms: number };
  assert.equal(got.failed, true);
  assert.equal(got.code, 'ERR_NETWORK');
  assert.match(got.message, /rank 0 of 2: all_reduce failed \(peer: rank 1\)/);
  assert.ok(got.ms >= 1500 && got.ms < 6000, `took ${got.ms} ms`);
});

test('a rank whose peers never come: joining fails after the timeout', { skip }, async () => {
  const port = await freePort();
  const t0 = performance.now();
  assert.throws(
    () => ProcessGroup.join({ host: '127.0.0.1', port, rank: 1, worldSize: 2, timeoutMs: 1000 }),
    (e: unknown) => isSpotdiffError(e, 'ERR_NETWORK') && /rank 1 of 2: could not join the group at 127\.0\.0\.1:\d+/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 10_000);
  // A long collective timeout does not make joining wait: joinTimeoutMs bounds it.
  const t1 = performance.now();
  assert.throws(
    () => ProcessGroup.join({ host: '127.0.0.1', port, rank: 0, worldSize: 2, timeoutMs: 600_000, joinTimeoutMs: 1000 }),
    (e: unknown) => isSpotdiffError(e, 'ERR_NETWORK') && /rank 0 of 2: could not join the group at 127\.0\.0\.1:\d+ within 1000 ms/.test(e.message),
  );
  assert.ok(performance.now() - t1 < 10_000);
});

test('a group of one: collectives are the identity; a destroyed group refuses to work', { skip }, async () => {
  const g = ProcessGroup.join({ host: '127.0.0.1', port: await freePort(), rank: 0, worldSize: 1, timeoutMs: 5000 });
  const t = T.tensor([1.5, -2], [2]);
  g.allReduce([t]);
  g.broadcast([t], 0);
  assert.deepEqual(Array.from(t.toFloat32()), [1.5, -2]);
  assert.deepEqual(g.allGather(t).map((x) => Array.from(x.toFloat32())), [[1.5, -2]]);
  assert.throws(() => g.broadcast([t], 1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /root must be a rank in 0\.\.0/.test(e.message));
  assert.throws(() => g.allReduce([T.transpose(T.zeros([2, 3]), 0, 1)]), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /contiguous/.test(e.message));
  g.destroy();
  g.destroy();
  assert.equal(g.isDestroyed, true);
  assert.throws(() => g.allReduce([t]), (e: unknown) => isSpotdiffError(e, 'ERR_DISPOSED'));
});

test('join checks rank, world size and port before connecting', () => {
  const base = { host: '127.0.0.1', port: 29500, rank: 0, worldSize: 2 };
  const bad = (o: object, re: RegExp): void =>
    assert.throws(() => ProcessGroup.join({ ...base, ...o }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message));
  bad({ rank: 2 }, /rank must be an integer in 0\.\.1, got 2/);
  bad({ rank: 0.5 }, /rank must be/);
  bad({ worldSize: 0 }, /world size must be/);
  bad({ port: 70000 }, /port must be/);
  bad({ timeoutMs: 0 }, /timeout must be/);
});

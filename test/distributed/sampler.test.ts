import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistributedSampler } from '../../src/distributed/index.js';
import { DataLoader } from '../../src/data/loader.js';
import type { Sample } from '../../src/data/datasets/sample.js';
import { pythonJson } from '../helpers/python.js';
import { isSpotdiffError } from '../../src/util/errors.js';

/** torch's DistributedSampler (shuffle off) over a dataset that is our epoch order: its padding and striding. */
function torchShares(order: number[], world: number, dropLast: boolean): number[][] {
  const src = `
import json, sys
from torch.utils.data import DistributedSampler
order = json.loads(sys.argv[1]); world = int(sys.argv[2]); drop = sys.argv[3] == '1'
out = []
for r in range(world):
    s = DistributedSampler(order, num_replicas=world, rank=r, shuffle=False, drop_last=drop)
    out.append([order[i] for i in s])
print(json.dumps(out))`;
  return pythonJson<number[][]>(src, [JSON.stringify(order), String(world), dropLast ? '1' : '0']);
}

test('each rank takes its share of the seeded order, padded or cut as torch DistributedSampler does', () => {
  for (const [length, world, dropLast] of [[10, 3, false], [10, 3, true], [2, 5, false], [12, 4, false], [7, 2, true], [1, 3, false]] as const) {
    const samplers = Array.from({ length: world }, (_, rank) => new DistributedSampler({ length, rank, worldSize: world, seed: 5, dropLast }));
    const order = new DistributedSampler({ length, rank: 0, worldSize: 1, seed: 5 }).indices(3);
    const ours = samplers.map((s) => s.indices(3));
    assert.deepEqual(ours, torchShares(order, world, dropLast), `length ${length}, world ${world}, dropLast ${dropLast}`);
    for (const s of ours) assert.equal(s.length, samplers[0]!.perRank);
  }
});

test('one rank alone serves the plain DataLoader order of the same seed and epoch', () => {
  const loader = new DataLoader(Array.from({ length: 23 }, (_, i): Sample => ({ image: `/x/${i}.png`, label: 'normal', mask: null, object: 'x', defect: null, split: null })), { batchSize: 4, preprocess: { resize: [8, 8], normalize: null }, shuffle: true, seed: 9 });
  const alone = new DistributedSampler({ length: 23, rank: 0, worldSize: 1, seed: 9 });
  for (const epoch of [0, 1, 5]) assert.deepEqual(alone.indices(epoch), loader.order(epoch));
});

test('the shuffle changes with the epoch and the seed, and is the same on every rank', () => {
  const s = (rank: number, seed = 1): DistributedSampler => new DistributedSampler({ length: 100, rank, worldSize: 2, seed });
  const all = [...s(0).indices(0), ...s(1).indices(0)].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(s(0).indices(0), s(0).indices(1));
  assert.notDeepEqual(s(0).indices(0), s(0, 2).indices(0));
  assert.deepEqual(s(0).indices(4), s(0).indices(4));
  const plain = new DistributedSampler({ length: 5, rank: 1, worldSize: 2, shuffle: false });
  assert.deepEqual(plain.indices(0), [1, 3, 0]);
});

test('sampler options are checked', () => {
  const bad = (o: object, re: RegExp): void =>
    assert.throws(() => new DistributedSampler({ length: 4, rank: 0, worldSize: 2, ...o }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && re.test(e.message));
  bad({ rank: 2 }, /rank must be in 0\.\.1/);
  bad({ worldSize: 0 }, /world size/);
  bad({ length: -1 }, /length/);
  bad({ length: 1, worldSize: 2, dropLast: true }, /leave nothing/);
  assert.throws(() => new DistributedSampler({ length: 4, rank: 0, worldSize: 2 }).indices(-1), /epoch/);
});

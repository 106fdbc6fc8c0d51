import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributedBackends } from '../../src/distributed/index.js';
import { runRanks } from './ranks.js';

const skip = distributedBackends().includes('gloo') ? false : 'this build of the addon has no Gloo backend';

interface Seen {
  values: { rank: number; text: string; list: (number | null)[] }[];
  rounds: { ran: number[]; results: [number, { unit: number; by: number; round: number }][] }[];
}

test('allGatherObjects: every rank gets every rank\'s JSON value, in rank order; shareUnits: each unit run once, by the rank that took it, every result on every rank', { skip }, async () => {
  const ranks = await runRanks('objects', 3);
  const seen = ranks.map((r) => {
    assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    return r.result as Seen;
  });
  const expected = [0, 1, 2].map((rank) => ({ rank, text: 'é'.repeat(rank * 50), list: [rank, null] }));
  for (const s of seen) assert.deepEqual(s.values, expected);
  for (const round of [0, 1]) {
    const ran = seen.map((s) => s.rounds[round]!.ran);
    // A second queue on the same group starts afresh: all seven units again.
    assert.deepEqual(ran.flat().sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16], `round ${round}: ${JSON.stringify(ran)}`);
    const results = seen[0]!.rounds[round]!.results;
    for (const s of seen) assert.deepEqual(s.rounds[round]!.results, results);
    for (const [unit, r] of results) {
      assert.equal(r.unit, unit);
      assert.equal(r.round, round);
      assert.ok(ran[r.by]!.includes(unit), `unit ${unit} reported by rank ${r.by}, which ran ${JSON.stringify(ran[r.by])}`);
    }
  }
});

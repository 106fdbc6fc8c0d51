import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as T from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';
import { isSpotdiffError } from '../../src/util/errors.js';

// An error with the given code whose message matches `message`.
function withCode(code: string, message: RegExp) {
  return (e: unknown): boolean => {
    const err = e as Error & { code?: string };
    assert.equal(err.code, code, `code of: ${err.message}`);
    assert.match(err.message, message);
    return true;
  };
}

test('an integer argument that is not an integer is refused, never truncated', () => {
  T.tidy(() => {
    const t = T.tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    const x = T.ones([3, 3]);
    const cases: [string, () => unknown, RegExp][] = [
      ['a fraction', () => T.narrow(t, 1, 0.5, 1), /narrow\(tensor\[2, 3\] float32, 1, 0\.5, 1\): argument 2: expected an integer, got 0\.5/],
      ['NaN', () => T.narrow(t, 1, 0, NaN), /narrow\(.*\): argument 3: expected an integer, got NaN/],
      ['Infinity', () => T.tril(x, Infinity), /tril\(.*\): argument 1: expected an integer, got Infinity/],
      ['-Infinity', () => T.triu(x, -Infinity), /triu\(.*\): argument 1: expected an integer, got -Infinity/],
      ['beyond 2^53', () => T.tril(x, 2 ** 60), /tril\(.*\): argument 1: 1152921504606846976 is beyond the integers a JS number holds exactly/],
      ['a fraction in a count', () => T.randperm(2.5), /randperm\(2\.5, .*\): argument 0: expected an integer, got 2\.5/],
      ['a fraction in a list of ints', () => T.flip(x, [0.5]), /flip\(.*\): argument 1\[0\]: expected an integer, got 0\.5/],
    ];
    for (const [what, call, message] of cases) {
      assert.throws(call, (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && withCode('ERR_BAD_INPUT', message)(e), what);
    }
    // The refused values are only the ones that are not integers: these still work.
    assert.deepEqual([...T.narrow(t, 1, 1, 2).data()], [1, 2, 4, 5]);
    assert.deepEqual([...T.randperm(3).data()].map(Number).sort(), [0, 1, 2]);
  });
});

test('engine settings and seeds refuse what an int conversion would wrap or truncate', () => {
  const threads = T.getNumThreads();
  // 2^32 + 1 is an integer; an int32 conversion would make it 1 thread.
  assert.throws(() => T.setNumThreads(2 ** 32 + 1), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
  assert.throws(() => native.setNumThreads(2 ** 32 + 1), withCode('ERR_BAD_INPUT', /setNumThreads\(4294967297\): argument 0: expected an integer in \[1, 2147483647\]/));
  assert.equal(T.getNumThreads(), threads);
  for (const seed of [2.5, NaN, Infinity, 2 ** 60]) {
    assert.throws(() => T.manualSeed(seed), withCode('ERR_BAD_INPUT', /manualSeed\(.*\): argument 0: /), String(seed));
  }
  T.manualSeed(7);
  const a = T.tidy(() => T.rand([4]).data());
  T.manualSeed(7);
  assert.deepEqual(T.tidy(() => T.rand([4]).data()), a);
});

test('every entry point answers a bad argument with a coded Error that names it', () => {
  const cases: [() => unknown, string, RegExp][] = [
    [() => native.meta({} as never), 'meta', /^meta\(object\): argument 0 is not a tensor handle/],
    [() => native.grad(3 as never), 'grad', /^grad\(3\): argument 0 is not a tensor handle/],
    [() => native.op('add', 5 as never), 'op', /^op\("add", 5\): argument 1: expected an array/],
    [() => native.fromData(new Float32Array(2), [2, 1.5], 'float32', 'cpu'), 'fromData', /shape\[1\]: expected an integer, got 1\.5/],
    [() => native.fromData(new Float32Array(1), [2 ** 40, 2 ** 40, 2 ** 40], 'float32', 'cpu'), 'fromData', /element count overflows/],
  ];
  for (const [call, op, message] of cases) {
    assert.throws(call, (e: unknown) => withCode('ERR_BAD_INPUT', message)(e) && (e as { op?: string }).op === op, op);
  }
});

test('every kind of C++ exception an op raises becomes an Error, none aborts the process (in a child)', () => {
  const kinds = ['c10', 'std', 'other'];
  const script = `
    const { native } = await import(${JSON.stringify(new URL('../../src/tensor/native.js', import.meta.url).href)});
    for (const kind of ${JSON.stringify(kinds)}) {
      try { native.op('selftest_raise', [kind]); console.log(JSON.stringify({ kind, returned: true })); }
      catch (e) { console.log(JSON.stringify({ kind, code: e.code, op: e.op, message: e.message })); }
    }
    console.log('alive');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `child died with ${r.signal}: ${r.stderr.slice(-500)}`);
  assert.match(r.stdout, /alive/);
  const seen = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kind: string; code?: string; op?: string; message?: string });
  assert.deepEqual(seen.map((s) => s.kind), kinds);
  for (const s of seen) {
    assert.equal(s.code, 'ERR_TORCH', JSON.stringify(s));
    assert.equal(s.op, 'selftest_raise');
    assert.match(s.message ?? '', s.kind === 'other' ? /^selftest_raise\("other"\): unknown C\+\+ exception$/ : new RegExp(`^selftest_raise\\("${s.kind}"\\): raised on request`));
  }
});

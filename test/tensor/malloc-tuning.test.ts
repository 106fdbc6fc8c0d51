import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { MallocSetting } from '../../src/tensor/native.js';

// The addon fixes glibc's malloc thresholds when it loads (native/src/malloc_tuning.cc) unless the
// user set them. Each case loads the addon in a fresh process: the setting is made once, at load.

const MIB = 1 << 20;
const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);

interface Probe {
  malloc: MallocSetting;
  /** How much the resident set shrank when a 16 MiB tensor was freed. */
  freedMiB: number;
}

// Loads the addon with exactly these allocator variables (the inherited ones removed), fills a
// 16 MiB tensor and frees it: a block under the mmap threshold stays in the heap for reuse, one at
// or above it is unmapped on free, so the resident set shows which threshold is in force.
function probe(vars: Record<string, string>): Probe {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GLIBC_TUNABLES', 'SPOTDIFF_MALLOC']) delete env[k];
  const script = `
    const { native } = await import(${JSON.stringify(new URL('../../src/tensor/native.js', import.meta.url).href)});
    const h = native.op('ones', [[${(16 * MIB) / 4}], 'float32', 'cpu']);
    const before = process.memoryUsage().rss;
    native.free(h);
    const freedMiB = (before - process.memoryUsage().rss) / ${MIB};
    console.log(JSON.stringify({ malloc: native.info().malloc, freedMiB }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...env, ...vars }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr.slice(-500));
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Probe;
}

test('on glibc the addon sets a 32 MiB mmap and a 256 MiB trim threshold, and a 16 MiB block stays in the heap', (t) => {
  if (!glibc) return t.diagnostic('not glibc: nothing is tuned');
  const p = probe({});
  assert.deepEqual(p.malloc, { mode: 'tuned', mmapThreshold: 32 * MIB, trimThreshold: 256 * MIB });
  assert.ok(p.freedMiB < 8, `freeing the tensor returned ${p.freedMiB} MiB to the system`);
});

test("a user's MALLOC_MMAP_THRESHOLD_ is left in force (the 16 MiB block is mapped and unmapped)", (t) => {
  if (!glibc) return t.diagnostic('not glibc');
  const p = probe({ MALLOC_MMAP_THRESHOLD_: String(MIB) });
  assert.deepEqual(p.malloc, { mode: 'user', mmapThreshold: MIB, trimThreshold: null });
  assert.ok(p.freedMiB >= 12, `freeing the tensor returned only ${p.freedMiB} MiB to the system`);
});

test("a user's MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES threshold is reported and nothing is set", (t) => {
  if (!glibc) return t.diagnostic('not glibc');
  assert.deepEqual(probe({ MALLOC_TRIM_THRESHOLD_: '0x100000' }).malloc, { mode: 'user', mmapThreshold: null, trimThreshold: MIB });
  assert.deepEqual(probe({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=7:glibc.malloc.mmap_threshold=2097152' }).malloc, { mode: 'user', mmapThreshold: 2 * MIB, trimThreshold: null });
  // Other tunables leave the thresholds to spotdiff.
  assert.equal(probe({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=7' }).malloc.mode, 'tuned');
});

test('SPOTDIFF_MALLOC=default keeps glibc\'s own thresholds', (t) => {
  if (!glibc) return t.diagnostic('not glibc');
  assert.deepEqual(probe({ SPOTDIFF_MALLOC: 'default' }).malloc, { mode: 'default', mmapThreshold: null, trimThreshold: null });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCli } from './run-cli.js';

interface DoctorReport {
  engine: { torchVersion: string; libraryPath: string };
  build: { headers: string; libdir: string } | null;
}

test('doctor says which libtorch the build used: version, header and library folders, the library loaded', async () => {
  const json = await runCli(['doctor', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as DoctorReport;
  assert.match(report.engine.torchVersion, /^\d+\.\d+\.\d+/);
  assert.ok(report.build, 'the build recorded its libtorch (native/build/Release/build-config.json)');
  assert.ok(existsSync(join(report.build.headers, 'ATen/ATen.h')), `headers: ${report.build.headers}`);
  assert.ok(existsSync(report.build.libdir), `libdir: ${report.build.libdir}`);
  assert.ok(existsSync(report.engine.libraryPath), `loaded: ${report.engine.libraryPath}`);
  assert.match(basename(report.engine.libraryPath), /^libtorch/);

  const text = await runCli(['doctor']);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(`libtorch ${report.engine.torchVersion} (`), text.stdout);
  assert.ok(text.stdout.includes(`built against headers in ${report.build.headers}, libraries in ${report.build.libdir}`), text.stdout);
  assert.ok(text.stdout.includes(`loaded ${report.engine.libraryPath}`), text.stdout);
  assert.doesNotMatch(text.stdout, /not in the folder the build linked/);
});

test('doctor shows the malloc thresholds the addon chose', async () => {
  const json = await runCli(['doctor', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const { malloc } = (JSON.parse(json.stdout) as { engine: { malloc: { mode: string; mmapThreshold: number | null } } }).engine;
  const text = await runCli(['doctor']);
  const line = text.stdout.split('\n').find((l) => l.startsWith('malloc: ')) ?? '';
  const expected: Record<string, RegExp> = {
    tuned: /^malloc: mmap threshold 32 MiB, trim threshold 256 MiB \(set by spotdiff/,
    user: /^malloc: mmap threshold .* \(from MALLOC_\*_THRESHOLD_ \/ GLIBC_TUNABLES\)$/,
    default: /^malloc: glibc's dynamic thresholds/,
    unsupported: /^malloc: the platform's allocator/,
  };
  assert.match(line, expected[malloc.mode] ?? /^$/, text.stdout);
});

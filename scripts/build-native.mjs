#!/usr/bin/env node
// Builds native/ with node-gyp against the libtorch that native/configure.mjs finds.
// Re-configures only when binding.gyp or the libtorch choice changed; otherwise make
// recompiles just the changed files. Records the libtorch it used in build/Release/build-config.json.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
const makefile = join(nativeDir, 'build/Makefile');
const stamp = join(nativeDir, 'build/libtorch-choice.txt');
const choice = `LIBTORCH=${process.env.LIBTORCH ?? ''}`;

function gypRun(verb) {
  const argv = [gyp, verb, '--directory', nativeDir, '-j', String(availableParallelism())];
  // Use the headers that ship with the system's Node when there are any: no download needed.
  const nodeDir = join(dirname(process.execPath), '..');
  if (existsSync(join(nodeDir, 'include/node/node_api.h'))) argv.push(`--nodedir=${nodeDir}`);
  const r = spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Which libtorch (headers, libraries, ABI) this build used, beside the addon: `spotdiff doctor`
// prints it. configure.mjs answers from the same environment that gyp asked it in.
function recordBuildConfig() {
  const r = spawnSync(process.execPath, ['configure.mjs', '--json'], { cwd: nativeDir, encoding: 'utf8' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(join(nativeDir, 'build/Release/build-config.json'), r.stdout);
}

const stale =
  !existsSync(makefile) ||
  statSync(join(nativeDir, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs ||
  !existsSync(stamp) ||
  readFileSync(stamp, 'utf8') !== choice;
if (stale) {
  gypRun('configure');
  writeFileSync(stamp, choice);
}
gypRun('build');
recordBuildConfig();

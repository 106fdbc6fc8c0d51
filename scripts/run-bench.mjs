#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.js) one after another; each prints its figures.
// `npm run bench -- resnet18` runs only those whose name contains a given word;
// `npm run bench -- --device cuda` runs each on that device (and its PyTorch reference too).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist/bench');
const args = process.argv.slice(2);
const at = args.indexOf('--device');
const device = at >= 0 ? args.splice(at, 2)[1] : undefined;
const filters = args;
let files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).sort() : [];
if (filters.length) files = files.filter((f) => filters.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error('no benchmarks matched');
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [join(dir, f), ...(device === undefined ? [] : ['--device', device])], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

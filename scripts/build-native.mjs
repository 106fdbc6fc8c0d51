#!/usr/bin/env node
// Builds native/ with node-gyp against the libtorch that native/configure.mjs finds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
const argv = [gyp, 'rebuild', '--directory', join(root, 'native'), '-j', String(Math.max(1, cpus().length))];
// Use the headers that ship with the system's Node when there are any: no download needed.
const nodeDir = join(dirname(process.execPath), '..');
if (existsSync(join(nodeDir, 'include/node/node_api.h'))) argv.push(`--nodedir=${nodeDir}`);
const r = spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);

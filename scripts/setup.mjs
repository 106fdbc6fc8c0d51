#!/usr/bin/env node
// Brings a fresh Debian machine with Node 20 to a working spotdiff: system packages,
// npm packages, the native addon and the TypeScript build. Each step is skipped when
// its result is already there, so running it again costs seconds.
//   node scripts/setup.mjs            what `npm run demo` needs
//   node scripts/setup.mjs --test     also the reference tools the tests compare against
//   node scripts/setup.mjs --build-only   no installs, just rebuild what is stale
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const forTests = args.has('--test');
const buildOnly = args.has('--build-only');

// libtorch-dev is the engine (libgloo-dev: the headers its c10d collectives need); the python3
// packages are the independent references in tests; chromium renders the HTML report in its
// test (driven by playwright-core).
const runtimePackages = process.env.LIBTORCH ? [] : ['libtorch-dev', 'libgloo-dev'];
const testPackages = ['python3-torch', 'python3-torchvision', 'python3-sklearn', 'python3-numpy', 'python3-scipy', 'chromium'];

function log(msg) { process.stderr.write(`[setup] ${msg}\n`); }

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    log(`failed: ${cmd} ${argv.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

function missingDebs(names) {
  return names.filter((n) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f=${Status}', n], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString().includes('install ok installed');
    } catch { return true; }
  });
}

function ensureDebs(names) {
  const missing = missingDebs(names);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

function newestMtime(dir, filter = () => true) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, filter));
    else if (filter(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureNodeModules() {
  const lockNewer = existsSync(join(root, 'node_modules/.package-lock.json'))
    && statSync(join(root, 'package.json')).mtimeMs <= statSync(join(root, 'node_modules/.package-lock.json')).mtimeMs;
  if (lockNewer) return;
  log('installing npm packages');
  // onnxruntime-node's postinstall would try to download CUDA parts; its CPU binaries ship inside.
  run('npm', ['install', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

function ensureNative() {
  const addon = join(root, 'native/build/Release/spotdiff.node');
  const srcNewest = Math.max(newestMtime(join(root, 'native/src')), statSync(join(root, 'native/binding.gyp')).mtimeMs);
  // build-config.json (which libtorch the build used, for doctor) comes with every build-native run.
  const recorded = existsSync(join(root, 'native/build/Release/build-config.json'));
  if (existsSync(addon) && recorded && statSync(addon).mtimeMs >= srcNewest) return;
  log('building the native addon (libtorch); the first build takes a few minutes');
  run(process.execPath, [join(root, 'scripts/build-native.mjs')]);
}

function ensureTs() {
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
}

// The inspection page (dist/web/inspect), from dist/src and node_modules; skips itself when current.
function ensureWeb() {
  run(process.execPath, [join(root, 'scripts/build-web.mjs')]);
}

if (!buildOnly) {
  ensureDebs(forTests ? [...runtimePackages, ...testPackages] : runtimePackages);
  ensureNodeModules();
}
ensureNative();
ensureTs();
ensureWeb();

#!/usr/bin/env node
// Proves that every native source compiles against more than the libtorch it was written on:
// Debian 13 (trixie)'s libtorch-dev (2.6), fetched into .cache/libtorch-trixie/ without
// touching the system (apt-get download with its own sources list, state and cache folders;
// dpkg -x, never dpkg -i); trixie's CUDA build, libtorch-cuda-dev 2.6 with NCCL and CUDA 12's
// headers (contrib and non-free), into .cache/libtorch-cuda-trixie/, so that the CUDA-only code
// (NCCL collectives) compiles somewhere without a GPU; and the system's libtorch (Debian 12:
// 1.13). Each native/src/**/*.cc goes through `g++ -fsyntax-only` with binding.gyp's flags and
// native/configure.mjs's include dirs and defines, so the check sees what a build would see.
//   node scripts/check-libtorch-headers.mjs                 trixie, cuda-trixie, system (and $LIBTORCH if set)
//   node scripts/check-libtorch-headers.mjs --only trixie   a comma list of trixie | cuda-trixie | system | LIBTORCH
//   node scripts/check-libtorch-headers.mjs --no-fetch      reuse the cache as it is (offline)
// Exits non-zero on any compile error.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
// The headers our sources reach need libtorch-dev and, for c10d's ProcessGroupGloo, libgloo-dev
// (libtorch-dev's python3-dev and libprotobuf-dev dependencies serve other headers); the include
// audit below fails if that ever changes. The CUDA build adds NCCL (libnccl-dev), CUDA's headers
// (nvidia-cuda-dev, which needs libcu++-dev's) and the CUDA Gloo; of these large packages only
// usr/include is unpacked and the .deb files are removed afterwards.
const TREES = {
  trixie: { cache: join(root, '.cache/libtorch-trixie'), components: 'main', packages: ['libtorch-dev', 'libgloo-dev'], headersOnly: false },
  'cuda-trixie': {
    cache: join(root, '.cache/libtorch-cuda-trixie'),
    components: 'main contrib non-free',
    packages: ['libtorch-cuda-dev', 'libgloo-cuda-dev', 'libnccl-dev', 'nvidia-cuda-dev', 'libcu++-dev'],
    headersOnly: true,
  },
};
const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
// Headers of a system libtorch: using one of these in the trixie check would prove nothing.
const systemTorchDirs = ['ATen', 'c10', 'torch', 'caffe2', 'gloo'].map((d) => `/usr/include/${d}/`);

function log(msg) {
  process.stderr.write(`[check:libtorch] ${msg}\n`);
}

function fail(msg) {
  log(msg);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`failed: ${cmd} ${argv.join(' ')}\n${(r.stderr || r.stdout || '').slice(-3000)}`);
  return r.stdout;
}

// ---- fetching trixie's libtorch-dev ----

// The Debian mirror this machine's apt already uses (a deb822 .sources file or sources.list).
function debianMirror() {
  if (process.env.SPOTDIFF_DEBIAN_MIRROR) return process.env.SPOTDIFF_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list'];
  const partsDir = '/etc/apt/sources.list.d';
  if (existsSync(partsDir)) files.push(...readdirSync(partsDir).filter((f) => /\.(list|sources)$/.test(f)).map((f) => join(partsDir, f)));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const uris = [...text.matchAll(/^URIs:\s*(\S+)/gm), ...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)].map((m) => m[1]);
    const debian = uris.find((u) => /\/debian\/?$/.test(u));
    if (debian) return debian.replace(/\/$/, '');
  }
  return 'http://deb.debian.org/debian';
}

// apt options that point every path apt reads or writes into the cache: the system's sources,
// preferences, package state and archives are neither read nor changed.
function aptOptions(tree, mirror) {
  const apt = join(tree.cache, 'apt');
  for (const d of ['lists/partial', 'archives/partial', 'empty']) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `deb [signed-by=${keyring}] ${mirror} trixie ${tree.components}\n`);
  writeFileSync(join(apt, 'status'), '');
  const o = {
    'Dir::Etc::SourceList': join(apt, 'sources.list'),
    'Dir::Etc::SourceParts': join(apt, 'empty'),
    'Dir::Etc::Preferences': '/dev/null',
    'Dir::Etc::PreferencesParts': join(apt, 'empty'),
    'Dir::State': apt,
    'Dir::State::Lists': join(apt, 'lists'),
    'Dir::State::status': join(apt, 'status'),
    'Dir::Cache': apt,
    'Dir::Cache::archives': join(apt, 'archives'),
    'APT::Sandbox::User': 'root', // the cache is the caller's; apt's _apt user may not reach it
  };
  return Object.entries(o).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

// Downloads a tree's packages and unpacks them into <cache>/root (a fresh tree each time);
// <cache>/packages.json records the packages' versions.
function fetchTree(tree) {
  for (const tool of ['apt-get', 'dpkg', 'dpkg-deb', 'tar']) {
    if (spawnSync(tool, ['--version']).status !== 0) fail(`${tool} is needed to fetch Debian's libtorch-dev`);
  }
  if (!existsSync(keyring)) fail(`${keyring} is missing (Debian's debian-archive-keyring package)`);
  const mirror = debianMirror();
  const opts = aptOptions(tree, mirror);
  log(`apt-get update: ${mirror} trixie ${tree.components} (state and cache in ${relative(root, tree.cache)}/apt)`);
  run('apt-get', [...opts, '-qq', 'update']);
  const debs = join(tree.cache, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  run('apt-get', [...opts, '-qq', 'download', ...tree.packages], { cwd: debs });
  const dir = join(tree.cache, 'root');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const versions = {};
  for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
    log(`unpacking ${deb}${tree.headersOnly ? ' (usr/include only)' : ''}`);
    const [name, version] = deb.split('_');
    versions[name] = decodeURIComponent(version);
    if (tree.headersOnly) run('sh', ['-c', `dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" --wildcards './usr/include/*'`, join(debs, deb), dir]);
    else run('dpkg', ['-x', join(debs, deb), dir]);
    if (tree.headersOnly) rmSync(join(debs, deb));
  }
  writeFileSync(join(tree.cache, 'packages.json'), JSON.stringify(versions, null, 2) + '\n');
  // configure.mjs takes LIBTORCH=<dir> with include/ and lib/; headers are all we compile against.
  mkdirSync(join(dir, 'usr/lib'), { recursive: true });
  // It also takes a CUDA build from lib/libtorch_cuda.so; an empty stand-in says so (nm cannot
  // read it, so configure lets the headers decide what the library would have exported).
  if (tree.packages.includes('libtorch-cuda-dev')) writeFileSync(join(dir, 'usr/lib/libtorch_cuda.so'), '');
}

// ---- compiling ----

// binding.gyp's flags, with configure.mjs's answers for its <!@(node configure.mjs ...) entries.
function compileFlags(env) {
  const gyp = JSON.parse(readFileSync(join(nativeDir, 'binding.gyp'), 'utf8')).targets[0];
  const configure = (what) => run(process.execPath, ['configure.mjs', what], { cwd: nativeDir, env }).trim().split(/\s+/).filter(Boolean);
  const literal = (list) => list.filter((s) => !s.startsWith('<!'));
  const includes = [...configure('--include'), addonApiInclude(), nodeInclude()];
  const defines = [...literal(gyp.defines), ...configure('--defines'), 'BUILDING_NODE_EXTENSION', 'NODE_GYP_MODULE_NAME=spotdiff'];
  return [...gyp.cflags_cc, '-pthread', '-fPIC', ...defines.map((d) => `-D${d}`), ...includes.map((i) => `-I${i}`)];
}

function addonApiInclude() {
  // include_dir is relative to the folder node runs in (binding.gyp's <!(...) runs in native/).
  return resolve(root, run(process.execPath, ['-p', "require('node-addon-api').include_dir"], { cwd: root }).trim().replace(/^"|"$/g, ''));
}

// The headers of this Node: beside the binary (Debian's and nodesource's packages), else node-gyp's download.
function nodeInclude() {
  const candidates = [join(dirname(process.execPath), '../include/node'), join(process.env.HOME ?? '', `.cache/node-gyp/${process.versions.node}/include/node`)];
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found) fail('no Node headers found (node_api.h): run `npm run build:native` once, it downloads them');
  return found;
}

function sources() {
  const dir = join(nativeDir, 'src');
  return readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith('.cc'))
    .map((f) => join(dir, String(f)))
    .sort();
}

// g++ -H lists every header it opens on stderr as ". path", ".. path", ...
function compileOne(file, flags) {
  return new Promise((resolve) => {
    const child = spawn('g++', ['-fsyntax-only', '-H', ...flags, file], { cwd: nativeDir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => resolve({ file, ok: false, errors: `g++: ${e.message}`, headers: [] }));
    child.on('close', (code) => {
      const lines = stderr.split('\n');
      const headers = lines.filter((l) => /^\.+ \//.test(l)).map((l) => l.replace(/^\.+ /, ''));
      // What is left once the header trace and gcc's include-guard hints (bare paths) are dropped.
      const errors = lines.filter((l) => !/^\.+ \//.test(l) && !/^Multiple include guards/.test(l) && !/^\/\S+$/.test(l)).join('\n').trim();
      resolve({ file, ok: code === 0, errors, headers });
    });
  });
}

async function compileAll(files, flags) {
  const results = [];
  const queue = [...files];
  const workers = Array.from({ length: Math.min(files.length, availableParallelism()) }, async () => {
    while (queue.length > 0) results.push(await compileOne(queue.shift(), flags));
  });
  await Promise.all(workers);
  return results;
}

// ---- one libtorch ----

function torchVersion(includeDirs) {
  for (const dir of [...includeDirs, '/usr/include']) {
    for (const f of [join(dir, 'torch/csrc/api/include/torch/version.h'), join(dir, 'torch/version.h')]) {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      const part = (name) => new RegExp(`#define TORCH_VERSION_${name}\\s+(\\d+)`).exec(text)?.[1];
      if (part('MAJOR')) return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
    }
  }
  return 'unknown';
}

// The Debian package behind the headers (Debian's 1.13.1 headers call themselves 1.13.0).
function debianVersion(where) {
  if (typeof where === 'object') {
    const file = join(where.cache, 'packages.json');
    const versions = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    const name = where.packages[0];
    return versions[name] === undefined ? undefined : `${name} ${versions[name]}`;
  }
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libtorch-dev'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout ? r.stdout : undefined;
}

async function checkOne(label, env, { auditSystemTorch, deb }) {
  const flags = compileFlags(env);
  const includeDirs = flags.filter((f) => f.startsWith('-I')).map((f) => f.slice(2));
  const pkg = deb === undefined ? undefined : debianVersion(deb);
  const version = torchVersion(includeDirs) + (pkg ? ` (${typeof deb === 'object' ? pkg : `libtorch-dev ${pkg}`})` : '');
  const started = Date.now();
  const results = await compileAll(sources(), flags);
  let failed = 0;
  for (const r of results.sort((a, b) => a.file.localeCompare(b.file))) {
    const leaked = auditSystemTorch ? r.headers.filter((h) => systemTorchDirs.some((d) => h.startsWith(d))) : [];
    const ok = r.ok && leaked.length === 0;
    if (!ok) failed++;
    log(`${ok ? 'ok  ' : 'FAIL'} ${relative(root, r.file)} (libtorch ${version}, ${label})`);
    if (!r.ok) process.stderr.write(r.errors + '\n');
    if (leaked.length > 0) process.stderr.write(`  took the system's libtorch headers: ${[...new Set(leaked)].slice(0, 5).join(', ')}\n`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`${label}: libtorch ${version}: ${results.length - failed} of ${results.length} sources compile (${seconds} s)`);
  return { label, version, ok: failed === 0 };
}

// The trixie trees: fetched (or, offline, as the cache has them), then every source compiled.
async function checkTree(name, env, noFetch) {
  const tree = TREES[name];
  const started = Date.now();
  if (!noFetch) fetchTree(tree);
  else if (!existsSync(join(tree.cache, 'root/usr/include/ATen/ATen.h'))) fail(`--no-fetch: nothing in ${relative(root, tree.cache)} yet`);
  log(`${name}: headers ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const treeEnv = { ...env, LIBTORCH: join(tree.cache, 'root/usr') };
  if (name === 'cuda-trixie') requireCudaParts(treeEnv);
  const label = name === 'trixie' ? 'Debian trixie libtorch-dev' : 'Debian trixie libtorch-cuda-dev, CUDA runtime calls, NCCL';
  return checkOne(label, treeEnv, { auditSystemTorch: true, deb: tree });
}

// The CUDA tree exists to compile the CUDA-only code (the addon's runtime calls, NCCL):
// configure must have switched both on.
function requireCudaParts(env) {
  const config = JSON.parse(run(process.execPath, ['configure.mjs', '--json'], { cwd: nativeDir, env }));
  if (!config.cuda || !config.cudaRuntime?.on) fail(`cuda-trixie: configure.mjs did not switch the CUDA runtime calls on: ${config.cudaRuntime?.reason}`);
  if (!config.distributed.nccl) fail(`cuda-trixie: configure.mjs did not switch NCCL on: ${config.distributed.ncclReason || config.distributed.reason}`);
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'no-fetch': { type: 'boolean' } } });
  const known = ['trixie', 'cuda-trixie', 'system', 'LIBTORCH'];
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? []) if (!known.includes(name)) fail(`--only takes a comma list of ${known.join(', ')}, not ${name}`);
  const wanted = (name) => only === undefined || only.includes(name);
  const started = Date.now();
  const { LIBTORCH, ...withoutLibtorch } = process.env;
  const checks = [];
  for (const name of ['trixie', 'cuda-trixie']) if (wanted(name)) checks.push(await checkTree(name, withoutLibtorch, values['no-fetch']));
  if (wanted('system')) checks.push(await checkOne('system libtorch', withoutLibtorch, { auditSystemTorch: false, deb: 'system' }));
  if (LIBTORCH && wanted('LIBTORCH')) checks.push(await checkOne(`LIBTORCH=${LIBTORCH}`, process.env, { auditSystemTorch: true }));
  for (const c of checks) process.stdout.write(`libtorch ${c.version} (${c.label}): ${c.ok ? 'compiles' : 'FAILS'}\n`);
  process.stdout.write(`total ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (checks.some((c) => !c.ok)) process.exit(1);
}

await main();

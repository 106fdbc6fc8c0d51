#!/usr/bin/env node
// Finds libtorch for binding.gyp: LIBTORCH=<dir> (a libtorch archive, or the torch/ folder
// of a Python install) or the system's libtorch-dev. Prints one list for gyp's <!(...):
//   --include  include dirs      --libdir  library dirs      --libs  link flags
//   --defines  preprocessor defines (C++ ABI, CUDA, distributed)   --json  everything
// (--json's `headers` is the folder holding ATen/ATen.h; scripts/build-native.mjs records it
// beside the addon for `spotdiff doctor`.)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

function fail(msg) {
  process.stderr.write(`spotdiff: ${msg}\n`);
  process.exit(1);
}

function locate() {
  const dir = process.env.LIBTORCH;
  if (dir) {
    const inc = join(dir, 'include');
    const lib = join(dir, 'lib');
    if (!existsSync(join(inc, 'ATen/ATen.h'))) fail(`LIBTORCH=${dir} has no include/ATen/ATen.h`);
    if (!existsSync(lib)) fail(`LIBTORCH=${dir} has no lib/ folder`);
    return { source: 'LIBTORCH', headers: inc, include: [inc, join(inc, 'torch/csrc/api/include')], libdir: lib };
  }
  const inc = '/usr/include';
  const lib = '/usr/lib/x86_64-linux-gnu';
  const arch = process.arch === 'arm64' ? '/usr/lib/aarch64-linux-gnu' : lib;
  if (!existsSync(join(inc, 'ATen/ATen.h')) || !existsSync(join(arch, 'libtorch.so'))) {
    fail('libtorch not found: install Debian libtorch-dev (npm run setup does it as root) or set LIBTORCH=<dir>');
  }
  // /usr/include is already on the compiler's path; adding it with -I would reorder system headers.
  return { source: 'system', headers: inc, include: [join(inc, 'torch/csrc/api/include')], libdir: arch };
}

// A prebuilt libtorch says which C++ ABI it was built with; the addon must match it.
function cxx11Abi(libdir) {
  const candidates = [join(libdir, 'cmake/Torch/TorchConfig.cmake'), join(libdir, '../share/cmake/Torch/TorchConfig.cmake')];
  for (const f of candidates) {
    if (!existsSync(f)) continue;
    const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(readFileSync(f, 'utf8'));
    if (m) return m[1];
  }
  // Python wheels ship no cmake file for the ABI; they record it in torch/_C's build flags.
  const ver = join(libdir, '../_C/_VariableFunctions.pyi');
  if (existsSync(ver)) return process.env.SPOTDIFF_CXX11_ABI ?? '0';
  return process.env.SPOTDIFF_CXX11_ABI ?? '1';
}

// Does `lib` export a symbol starting with `prefix`? null when it cannot be asked (no library,
// as in a headers-only check, or no nm): then the headers decide alone.
function exports(lib, prefix) {
  if (!existsSync(lib)) return null;
  const r = spawnSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n').some((l) => l.split(' ')[2]?.startsWith(prefix));
}

function firstWith(dirs, file) {
  return dirs.find((d) => existsSync(join(d, file)));
}

// CUDA's runtime API (cuda_runtime_api.h: device memory, streams) for the addon's own CUDA calls
// (native/src/ops/cuda_device.cc), and what c10d's NCCL group includes beyond it: nccl.h and
// cuBLAS, cuSPARSE and cuSOLVER through ATen/cuda/CUDAContextLight.h.
const CUDA_RUNTIME_HEADERS = ['cuda_runtime_api.h'];
const NCCL_HEADERS = ['nccl.h', 'cuda_runtime_api.h', 'cublas_v2.h', 'cusparse.h', 'cusolverDn.h'];

// Where those may be: beside libtorch's own headers, a toolkit ($CUDA_HOME, $CUDA_PATH,
// /usr/local/cuda), Python wheels (site-packages/nvidia/<part>/include, beside torch/), or
// Debian's nvidia-cuda-dev and libnccl-dev (/usr/include). The folders to add, or the first
// header found nowhere.
function cudaIncludeDirs(loc, headers) {
  const candidates = [...loc.include];
  for (const v of [process.env.CUDA_HOME, process.env.CUDA_PATH]) if (v) candidates.push(join(v, 'include'));
  const wheels = join(loc.headers, '../../nvidia');
  if (existsSync(wheels)) for (const d of readdirSync(wheels).sort()) candidates.push(join(wheels, d, 'include'));
  candidates.push('/usr/local/cuda/include', '/usr/include');
  const dirs = [];
  for (const header of headers) {
    const dir = firstWith(candidates, header);
    if (!dir) return { missing: header, dirs: [] };
    // /usr/include is already on the compiler's path; adding it with -I would reorder system headers.
    if (!dirs.includes(dir) && !loc.include.includes(dir) && dir !== '/usr/include') dirs.push(dir);
  }
  return { missing: null, dirs };
}

// A CUDA build's own runtime calls: on when cuda_runtime_api.h is found (the library itself comes
// with libtorch's CUDA libraries), else off with the reason.
function cudaRuntime(loc, cuda) {
  if (!cuda) return { on: false, include: [], reason: 'libtorch is not a CUDA build' };
  const found = cudaIncludeDirs(loc, CUDA_RUNTIME_HEADERS);
  if (found.missing) return { on: false, include: [], reason: `${found.missing} not found (set CUDA_HOME to a CUDA toolkit)` };
  return { on: true, include: found.dirs, reason: '' };
}

// Collectives (native/src/ops/distributed.cc) need libtorch's c10d headers, the Gloo headers
// (Debian: libgloo-dev) and a library that exports c10d; NCCL also needs a CUDA build, nccl.h
// and CUDA's headers. Without them the addon builds without distributed support (or without
// NCCL) and says why.
function distributed(loc, cuda) {
  const c10d = join(loc.headers, 'torch/csrc/distributed/c10d');
  const searched = [...loc.include, '/usr/include'];
  const out = { gloo: false, nccl: false, include: [], reason: '', ncclReason: '' };
  if (!existsSync(join(c10d, 'ProcessGroupGloo.hpp')) || !existsSync(join(c10d, 'TCPStore.hpp'))) {
    out.reason = `libtorch's c10d headers are missing (${c10d})`;
    return out;
  }
  if (!firstWith(searched, 'gloo/config.h')) {
    out.reason = 'the Gloo headers are missing (Debian: apt-get install libgloo-dev)';
    return out;
  }
  if (exports(join(loc.libdir, 'libtorch_cpu.so'), '_ZN4c10d16ProcessGroupGlooC1E') === false) {
    out.reason = `${join(loc.libdir, 'libtorch_cpu.so')} does not export ProcessGroupGloo (libtorch built without USE_GLOO)`;
    return out;
  }
  out.gloo = true;
  out.ncclReason = ncclAnswer(loc, cuda, c10d, out);
  return out;
}

// Switches NCCL on in `out` (with its include folders) or returns why not.
function ncclAnswer(loc, cuda, c10d, out) {
  if (!cuda) return 'libtorch is not a CUDA build';
  if (process.env.SPOTDIFF_NO_NCCL === '1') return 'switched off by SPOTDIFF_NO_NCCL=1';
  if (!existsSync(join(c10d, 'ProcessGroupNCCL.hpp'))) return `libtorch's c10d has no ProcessGroupNCCL.hpp (${c10d})`;
  if (exports(join(loc.libdir, 'libtorch_cuda.so'), '_ZN4c10d16ProcessGroupNCCLC1E') === false) {
    return `${join(loc.libdir, 'libtorch_cuda.so')} does not export ProcessGroupNCCL (libtorch built without USE_NCCL)`;
  }
  const found = cudaIncludeDirs(loc, NCCL_HEADERS);
  if (found.missing) return `${found.missing} not found (set CUDA_HOME to a CUDA toolkit with NCCL)`;
  out.nccl = true;
  out.include.push(...found.dirs);
  return '';
}

const loc = locate();
const cuda = existsSync(join(loc.libdir, 'libtorch_cuda.so'));
const abi = cxx11Abi(loc.libdir);
const dist = distributed(loc, cuda);
const runtime = cudaRuntime(loc, cuda);
const libs = [`-L${loc.libdir}`, `-Wl,-rpath,${loc.libdir}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
if (cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
libs.push('-Wl,--as-needed');
const defines = [`_GLIBCXX_USE_CXX11_ABI=${abi}`, `SPOTDIFF_CUDA=${cuda ? 1 : 0}`, `SPOTDIFF_SYSTEM_LIBTORCH=${loc.source === 'system' ? 1 : 0}`];
defines.push(`SPOTDIFF_CUDA_RUNTIME=${runtime.on ? 1 : 0}`);
defines.push(`SPOTDIFF_GLOO=${dist.gloo ? 1 : 0}`, `SPOTDIFF_NCCL=${dist.nccl ? 1 : 0}`);
if (dist.gloo) defines.push('USE_C10D_GLOO');
if (dist.nccl) defines.push('USE_C10D_NCCL');
const include = [...loc.include];
for (const d of [...runtime.include, ...dist.include]) if (!include.includes(d)) include.push(d);

const mode = process.argv[2] ?? '--json';
const out = {
  '--include': include.join(' '),
  '--libdir': loc.libdir,
  '--libs': libs.join(' '),
  '--defines': defines.join(' '),
  '--json': JSON.stringify({ ...loc, include, cuda, cudaRuntime: { on: runtime.on, reason: runtime.reason }, cxx11Abi: abi, libs, defines, distributed: { gloo: dist.gloo, nccl: dist.nccl, reason: dist.reason, ncclReason: dist.ncclReason } }, null, 2),
}[mode];
if (out === undefined) fail(`unknown option ${mode}`);
process.stdout.write(out + '\n');

#!/usr/bin/env bash
# The GPU check of issue 11, in one call on a fresh CUDA machine with Python PyTorch and no
# network: builds the addon against python3's torch/ folder, runs `spotdiff doctor`,
# CPU-vs-CUDA parity of every op family (bench/device-parity.ts), the SimSiam + SPD step bench
# (batch 32 and 128), the end-to-end pre-training bench against PyTorch on CUDA, the input feed
# alone (host cache against the device image store), PatchCore
# fit + eval on CUDA against the CPU, and the tensor/nn/models tests (last: they take what time
# is left). Each stage has a time limit inside an overall budget (default 450 s, under 8
# minutes); a failing or timed-out stage is a row of the table and the rest still run. It prints ONE table at the end (step, figure,
# reference, verdict) and, when $OUT is set, writes it to $OUT/gpu-check.txt with every stage's
# output in $OUT/gpu-check.log.
#
# What the folder must hold (the repository root): dist/ (compiled, `npx tsc`), node_modules/
# with the runtime packages plus node-gyp and node-addon-api, native/, scripts/, bench/, and a
# Node: on PATH, or in $SPOTDIFF_NODE_DIR (default ./.node) as bin/node with its headers in
# include/node, common.gypi and config.gypi included, as Node's headers tarball has them (so
# node-gyp needs no download). The build needs make and g++ there; python3 is the one with torch.
#
# usage: bench/gpu-check.sh [--cpu-dry-run] [--budget-s 450]
#   --cpu-dry-run  the plumbing on a machine without a GPU: no rebuild (the addon already built),
#                  the CPU wherever CUDA would be, tiny sizes, two small test files
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD

DRY=0
BUDGET=450
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-dry-run) DRY=1 ;;
    --budget-s) BUDGET=$2; shift ;;
    *) echo "usage: bench/gpu-check.sh [--cpu-dry-run] [--budget-s S]" >&2; exit 2 ;;
  esac
  shift
done

NODE_DIR=${SPOTDIFF_NODE_DIR:-$ROOT/.node}
[ -x "$NODE_DIR/bin/node" ] && export PATH="$NODE_DIR/bin:$PATH"
# The tests and benches run their PyTorch references through SPOTDIFF_PYTHON: here, the
# python3 on PATH (the one with CUDA torch), not /usr/bin/python3. The dry run keeps the default.
[ "$DRY" = 1 ] || export SPOTDIFF_PYTHON=${SPOTDIFF_PYTHON:-$(command -v python3)}
CORES=$(nproc)
if [ "$DRY" = 1 ]; then DEV=cpu; THREADS=$CORES; else DEV=cuda; THREADS=$CORES; fi

WORK=$(mktemp -d /tmp/spotdiff-gpu-check.XXXXXX)
LOG=$WORK/gpu-check.log
ROWS=$WORK/rows.tsv
: >"$LOG"
: >"$ROWS"
START=$SECONDS

row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$ROWS"; }

# stage NAME LIMIT_S CMD...: runs CMD with at most LIMIT_S seconds (less if the budget is
# nearly spent), its output appended to the log and kept in $WORK/NAME.out; returns its status
# (124: timed out, 125: not started for want of time).
stage() {
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - (SECONDS - START)))
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    echo "== $name: not started (budget spent)" >>"$LOG"
    return 125
  fi
  echo "== $name (limit ${limit} s): $*" >>"$LOG"
  local t0=$SECONDS
  # bash -c: CMD may be one of this script's functions (exported below).
  timeout --kill-after=5 "$limit" bash -c '"$@"' bash "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  cat "$WORK/$name.out" "$WORK/$name.err" >>"$LOG"
  echo "== $name: exit $rc after $((SECONDS - t0)) s" >>"$LOG"
  return $rc
}

# A stage that failed: one row saying how.
failed() {
  local what=$1 rc=$2 name=$3
  case $rc in
    124 | 137) row "$what" "timed out" "-" "FAIL (time limit)" ;;
    125) row "$what" "not run" "-" "skipped (budget spent)" ;;
    *) row "$what" "exit $rc: $(tail -n 1 "$WORK/$name.err" 2>/dev/null | cut -c1-60)" "-" "FAIL" ;;
  esac
}

export WORK DRY DEV

rows_from() {
  node dist/bench/lib/gpu-check-rows.js "$@" >>"$ROWS" 2>>"$LOG" || row "rows of $1" "unreadable output" "-" "FAIL"
}

# 1. The addon, against python3's torch (CXX11 ABI: PyTorch 2.x wheels are built with it). The
# NCCL collectives compile only against a CUDA libtorch; if they fail there, the rest of the
# check still runs on a build without them (SPOTDIFF_NO_NCCL) and the table says so.
build_addon() {
  local torch_dir
  torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') || return 1
  LIBTORCH=$torch_dir SPOTDIFF_CXX11_ABI=1 node scripts/build-native.mjs
}
build_addon_without_nccl() { SPOTDIFF_NO_NCCL=1 build_addon; }
export -f build_addon build_addon_without_nccl
if [ "$DRY" = 1 ]; then
  row "build addon" "skipped (dry run: the addon already built)" "-" "skip"
else
  t0=$SECONDS
  if stage build 200 build_addon; then row "build addon" "$((SECONDS - t0)) s" "python3's torch" "pass"
  else
    failed "build addon (with NCCL)" $? build
    if stage build-no-nccl 200 build_addon_without_nccl; then row "build addon without NCCL" "$((SECONDS - t0)) s" "SPOTDIFF_NO_NCCL=1" "pass"; else failed "build addon without NCCL" $? build-no-nccl; fi
  fi
fi

# 2. doctor: which libtorch, CUDA seen.
if stage doctor 30 node dist/src/cli/main.js doctor --json; then
  rows_from doctor "$WORK/doctor.out" $([ "$DRY" = 1 ] && echo gpu-optional)
else failed "doctor" $? doctor; fi

# 2b. NCCL: a group of one on the device, an all_reduce of a CUDA tensor (NCCL) and of a host
# tensor (Gloo) in it (one GPU cannot host two NCCL ranks).
nccl_check() {
  node --input-type=module -e '
    const D = await import(process.cwd() + "/dist/src/distributed/index.js");
    const T = await import(process.cwd() + "/dist/src/tensor/index.js");
    if (!D.distributedBackends().includes("nccl")) { console.log(JSON.stringify({ nccl: false })); process.exit(0); }
    const g = D.ProcessGroup.join({ host: "127.0.0.1", port: 29611, rank: 0, worldSize: 1, backend: "nccl", timeoutMs: 30000 });
    const onGpu = T.toDevice(T.tensor([1, 2, 3], [3]), process.argv[1]);
    const onHost = T.tensor([4, 5], [2]);
    g.allReduce([onGpu]); g.allReduce([onHost]); g.barrier(); g.destroy();
    console.log(JSON.stringify({ nccl: true, gpu: Array.from(onGpu.toFloat32()), host: Array.from(onHost.toFloat32()) }));
  ' "$DEV"
}
export -f nccl_check
if [ "$DRY" = 1 ]; then row "NCCL group of one" "skipped (dry run)" "-" "skip"
elif stage nccl 30 nccl_check; then
  if grep -q '"nccl":false' "$WORK/nccl.out"; then row "NCCL group of one" "this build has no NCCL" "-" "skip"
  elif grep -q '"gpu":\[1,2,3\],"host":\[4,5\]' "$WORK/nccl.out"; then row "NCCL group of one" "all_reduce on $DEV and on the host" "-" "pass"
  else row "NCCL group of one" "$(head -c 60 "$WORK/nccl.out")" "-" "FAIL"; fi
else failed "NCCL group of one" $? nccl; fi

# 3. Op-family parity, CPU against the device.
stage parity 60 node dist/bench/device-parity.js --device "$DEV" --json
rc=$?
if [ $rc -le 1 ] && [ -s "$WORK/parity.out" ]; then rows_from parity "$WORK/parity.out"; else failed "op-family parity" $rc parity; fi

# 4. The SimSiam + SPD step against PyTorch on the device, batch 32 (batch 128 after PatchCore).
if [ "$DRY" = 1 ]; then SMALL=2 LARGE=4 STEP_ARGS="--size 64 --steps 1 --warmup 0"; else SMALL=32 LARGE=128 STEP_ARGS="--size 224 --steps 5 --warmup 2"; fi
step_stage() {
  # shellcheck disable=SC2086
  if stage "step$1" "$2" node dist/bench/simsiam-spd.js --device "$DEV" --threads "$THREADS" --batch "$1" $STEP_ARGS --json; then
    rows_from step "$WORK/step$1.out"
  else failed "SimSiam+SPD step b$1" $? "step$1"; fi
}
step_stage "$SMALL" 60

# 5. Pre-training end to end against PyTorch's DataLoader pipeline on the device.
if [ "$DRY" = 1 ]; then E2E_ARGS="--images 8 --epochs 1 --batch 4 --size 64 --workers 2"; else E2E_ARGS="--images 640 --epochs 2 --batch 64 --size 224 --workers 12"; fi
STEP_REF=$([ -s "$WORK/step$SMALL.out" ] && echo "$WORK/step$SMALL.out")
# shellcheck disable=SC2086
if stage e2e 110 node dist/bench/pretrain-e2e.js --device "$DEV" --threads "$THREADS" $E2E_ARGS --json; then
  rows_from e2e "$WORK/e2e.out" $STEP_REF
else failed "pretrain e2e" $? e2e; fi

# 5b. The input feed alone (decode, cache, batch on the device), host cache against the device
# image store, against the step's images/s.
if [ "$DRY" = 1 ]; then FEED_ARGS="--images 16 --size 64 --batch 4 --epochs 2"; else FEED_ARGS="--images 512 --size 224 --batch $SMALL --epochs 3"; fi
# shellcheck disable=SC2086
if stage feed 45 node dist/bench/input-feed.js --device "$DEV" $FEED_ARGS --json; then
  rows_from feed "$WORK/feed.out" $STEP_REF
else failed "input feed" $? feed; fi

# 6. PatchCore (WideResNet-50-2, random init) fit + eval on the device against the CPU.
patchcore() {
  local on=$1 size=$2 data=$WORK/prepared/1cls
  local t0
  t0=$(date +%s%N)
  node dist/src/cli/main.js fit --method patchcore --data "$data" --object board --backbone wide_resnet50_2 \
    --size "$size" --device "$on" --out "$WORK/model-$on" --json >"$WORK/fit-$on.json" || return 1
  node dist/src/cli/main.js eval --model "$WORK/model-$on" --data "$data" --object board --device "$on" --json >"$WORK/eval-$on.json" || return 1
  echo $((($(date +%s%N) - t0) / 1000000)) >"$WORK/ms-$on"
}
detect_check() {
  local size=256 normal=50 anomalous=20
  [ "$DRY" = 1 ] && size=64 normal=16 anomalous=4
  node dist/src/cli/main.js synth --out "$WORK/synth" --objects board --normal $normal --anomalous $anomalous --size $size --quiet || return 1
  node dist/src/cli/main.js prepare --split-type 1cls --data-folder "$WORK/synth" --save-folder "$WORK/prepared" >/dev/null || return 1
  patchcore "$DEV" $size && patchcore cpu $size || return 1
  node -e '
    const fs = require("fs"); const [w, dev] = process.argv.slice(1);
    const m = (on) => JSON.parse(fs.readFileSync(`${w}/eval-${on}.json`, "utf8")).metrics;
    const s = (on) => Number(fs.readFileSync(`${w}/ms-${on}`, "utf8")) / 1000;
    console.log(JSON.stringify({ device: dev, device_s: s(dev), cpu_s: s("cpu"), device_metrics: m(dev), cpu_metrics: m("cpu") }));
  ' "$WORK" "$DEV"
}
export -f patchcore detect_check
if ! node dist/src/cli/main.js fit --help 2>/dev/null | grep -q -- '--device'; then
  row "PatchCore fit+eval" "spotdiff fit has no --device" "-" "skipped"
elif stage detect 150 detect_check; then
  rows_from detect "$WORK/detect.out"
else failed "PatchCore fit+eval" $? detect; fi

# 7. The step at the larger batch.
step_stage "$LARGE" 75

# 8. The tests with a CUDA part (they check CUDA where it exists: CPU-vs-CUDA detector scores,
# the fused unscale, pinned copies, TF32 off for detectors), then the tensor/nn/models tests
# against this libtorch and its Python PyTorch (on the CPU, as in CI); last, with the time left.
if [ "$DRY" = 1 ]; then
  TESTS="dist/test/tensor/index.test.js dist/test/tensor/scope.test.js"
else
  CUDA_TESTS=$(grep -rl 'cudaAvailable()' dist/test --include='*.test.js' | sort)
  TESTS=$( (echo "$CUDA_TESTS"; find dist/test/tensor dist/test/nn dist/test/models -name '*.test.js' | sort) | awk 'NF && !seen[$0]++' | tr '\n' ' ')
fi
# shellcheck disable=SC2086
stage tests 150 node --test --test-reporter=spec $TESTS
rc=$?
pass=$(grep -aoE '^ℹ pass [0-9]+' "$WORK/tests.out" | grep -oE '[0-9]+$' || echo 0)
fail=$(grep -aoE '^ℹ fail [0-9]+' "$WORK/tests.out" | grep -oE '[0-9]+$' || echo '?')
if [ $rc = 0 ]; then row "tests (CUDA parts, tensor/nn/models)" "$pass passed, $fail failed" "$(echo $TESTS | wc -w) files" "pass"
elif [ $rc = 1 ]; then row "tests (CUDA parts, tensor/nn/models)" "$pass passed, $fail failed" "$(echo $TESTS | wc -w) files" "FAIL"
else failed "tests (CUDA parts, tensor/nn/models)" $rc tests; fi

# The table.
TITLE="spotdiff GPU check ($([ "$DRY" = 1 ] && echo 'CPU dry run' || echo "device $DEV")), $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $CORES cores, $((SECONDS - START)) s"
node dist/bench/lib/gpu-check-rows.js table "$ROWS" "$TITLE" >"$WORK/table.txt" || { echo "$TITLE"; cat "$ROWS"; } >"$WORK/table.txt"
cat "$WORK/table.txt"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  cp "$WORK/table.txt" "$OUT/gpu-check.txt"
  cp "$LOG" "$OUT/gpu-check.log"
fi
status=0
grep -q $'\tFAIL' "$ROWS" && status=1
rm -rf "$WORK"
exit $status

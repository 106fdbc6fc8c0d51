#!/usr/bin/env bash
# Packs what bench/gpu-check.sh needs on a GPU machine that has Python PyTorch, g++ and make but
# no Node and no network, into one file under the device tool's carry limit (64 MiB):
#   .gpu-carry/bundle.tar.xz = .node/bin/node (this machine's self-contained Node),
#   .node/include/node (its top-level headers, common.gypi and config.gypi: enough for a
#   Node-API addon, so node-gyp downloads nothing), dist/ (run `npx tsc -p tsconfig.json` first)
#   and node_modules/ without the build-time-only packages (TypeScript, playwright, type files)
#   and without ONNX Runtime (Node and Web) and the browser page: the GPU check runs libtorch only.
# Then, in one device call with carry [".gpu-carry"]:
#   tar xJf .gpu-carry/bundle.tar.xz && bash bench/gpu-check.sh
# .gpu-carry/ is git-ignored, so it travels only when named in carry.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist/src ] || { echo "gpu-pack: no dist/: run npx tsc -p tsconfig.json first" >&2; exit 1; }
NODE_BIN=$(command -v node)
NODE_INCLUDE=${NODE_INCLUDE:-/usr/include/node}
[ -f "$NODE_INCLUDE/node_api.h" ] && [ -f "$NODE_INCLUDE/common.gypi" ] || { echo "gpu-pack: Node's headers not found in $NODE_INCLUDE (set NODE_INCLUDE)" >&2; exit 1; }

STAGE=$(mktemp -d /tmp/spotdiff-gpu-pack.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/.node/bin" "$STAGE/.node/include/node"
cp "$NODE_BIN" "$STAGE/.node/bin/node"
find "$NODE_INCLUDE" -maxdepth 1 -type f -exec cp {} "$STAGE/.node/include/node/" \;

mkdir -p .gpu-carry
OUT=.gpu-carry/bundle.tar.xz
TMP=$OUT.tmp-$$
tar -cf - --exclude='node_modules/typescript' --exclude='node_modules/@typescript' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/@types' \
  --exclude='node_modules/onnxruntime-node' --exclude='node_modules/onnxruntime-web' \
  --exclude='node_modules/onnxruntime-common' --exclude='dist/web' \
  dist node_modules -C "$STAGE" .node | xz -T0 -6 >"$TMP"
mv "$TMP" "$OUT"
size=$(du -m "$OUT" | cut -f1)
echo "gpu-pack: $OUT, ${size} MiB"
[ "$size" -lt 64 ] || { echo "gpu-pack: over the 64 MiB carry limit" >&2; exit 1; }

#!/usr/bin/env bash
# Configures (once) and builds milvus-cdc with ninja into build/ (or $CDC_BUILD_DIR).
# Extra arguments are passed to cmake at configure time, e.g. -DCDC_SANITIZE=ON.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CDC_BUILD_DIR:-$ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/milvus-cdc/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
# Let clones at other paths (worktrees, CI) reuse cached objects: do not hash the build dir.
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja "$@" >/dev/null
fi
cmake --build "$BUILD" -- -j"${CDC_JOBS:-$(nproc)}"

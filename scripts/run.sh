#!/usr/bin/env bash
# Installs the Debian dependencies, builds, and starts milvus-cdc in the foreground on the
# shipped config (SQLite meta store): the README's first command.
#
#   scripts/run.sh                     uses configs/cdc.yaml
#   scripts/run.sh --config my.yaml    any milvus-cdc arguments are passed through
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CDC_BUILD_DIR:-$ROOT/build}
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh"
cd "$ROOT"
if (($# == 0)); then set -- --config configs/cdc.yaml; fi
exec "$BUILD/milvus-cdc" "$@"

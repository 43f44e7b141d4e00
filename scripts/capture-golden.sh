#!/usr/bin/env bash
# Captures the golden data in tests/data/golden/ (see its README): starts a fresh etcd, Kafka
# and source Milvus in their own env dir (.cache/golden-env), runs scripts/capture-golden.py,
# stops them again.
#
#   scripts/capture-golden.sh [OUT_DIR]     default tests/data/golden
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/tests/data/golden}
export CDC_ENV_DIR=$ROOT/.cache/golden-env
trap 'bash "$ROOT/scripts/e2e-env.sh" down || true' EXIT
bash "$ROOT/scripts/e2e-env.sh" down || true
bash "$ROOT/scripts/e2e-env.sh" up etcd kafka milvus-source
# shellcheck disable=SC1091
source "$CDC_ENV_DIR/env.sh"
"$CDC_TEST_PYTHON" "$ROOT/scripts/capture-golden.py" "$OUT"
du -sh "$OUT"

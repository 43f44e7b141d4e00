#!/usr/bin/env bash
# Runs the end-to-end suite (tests/e2e, pytest) against real servers: etcd, Kafka, a source and
# a target Milvus from scripts/e2e-env.sh. Starts what is not running (and then stops it again
# at the end), installs the harness venv if needed, bounds the whole run in time.
#
#   tests/e2e/run.sh [PYTEST ARGS...]     e.g. tests/e2e/run.sh -k replicate -x
#
# CDC_E2E_TIMEOUT (s, default 1200) bounds pytest; CDC_E2E_REQUIRE_CDC=1 turns the skip of the
# replication tests (while build/milvus-cdc does not serve POST /cdc) into a failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
ENV_SH=$CDC_ENV_DIR/env.sh

if ! grep -q CDC_TEST_MILVUS_TARGET= "$ENV_SH" 2>/dev/null; then
  trap 'bash "$ROOT/scripts/e2e-env.sh" down || true' EXIT
fi
bash "$ROOT/scripts/e2e-env.sh" up etcd kafka milvus-source milvus-target
# shellcheck disable=SC1090
source "$ENV_SH"

cd "$ROOT/tests/e2e"
rc=0
timeout -k 30 "${CDC_E2E_TIMEOUT:-1200}" "$CDC_TEST_PYTHON" -m pytest -c pytest.ini "$@" || rc=$?
case $rc in
  0) ;;
  5) echo "e2e: pytest collected no tests: that is a failure, not a pass" >&2; rc=1 ;;
  124 | 137) echo "e2e: the suite did not finish in ${CDC_E2E_TIMEOUT:-1200} s" >&2 ;;
esac
exit "$rc"

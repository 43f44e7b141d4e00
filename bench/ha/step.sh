#!/usr/bin/env bash
# HA step of bench/run.sh (contract in bench/README.md): failover time of a task when its owner
# is killed (-9), p50/max beside the lease TTL, and the etcd requests of idle servers.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec "${CDC_TEST_PYTHON:?run through bench/run.sh (needs the harness venv)}" \
  "$ROOT/bench/ha/failover.py" "$@"

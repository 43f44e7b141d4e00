#!/usr/bin/env bash
# bench/run.sh step: lag at 50% of the measured maximum, and a target outage (backlog).
# Writes $BENCH_OUT/lag.json (see bench/README.md). Needs $BENCH_BUILD/bench/lag/bench_loadgen
# and $BENCH_BUILD/milvus-cdc; uses CDC_TEST_ETCD/CDC_TEST_KAFKA if set, else starts its own.
set -euo pipefail
exec python3 "$(dirname "$0")/lag.py" "$@"

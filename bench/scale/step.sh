#!/usr/bin/env bash
# bench/run.sh step: milvus-cdc RSS/CPU with 1, 10 and 100 tasks, then a backlog with all of
# them. Writes $BENCH_OUT/scale.json (see bench/README.md). Needs $BENCH_BUILD/milvus-cdc and
# $BENCH_BUILD/bench/lag/bench_loadgen; uses CDC_TEST_ETCD/CDC_TEST_KAFKA if set.
set -euo pipefail
exec python3 "$(dirname "$0")/scale.py" "$@"

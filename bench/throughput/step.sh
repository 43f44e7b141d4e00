#!/usr/bin/env bash
# Throughput step of bench/run.sh (contract in bench/README.md): milvus-cdc against the
# librdkafka -> ReplicateMessage ceiling, from the simulator and from a real source Milvus, into
# the real target Milvus and into the recording sink.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec "${CDC_TEST_PYTHON:?run through bench/run.sh (needs the harness venv)}" \
  "$ROOT/bench/throughput/throughput.py" "$@"

#!/usr/bin/env bash
# Initial sync step of bench/run.sh (contract in bench/README.md): the query way's copy rate of
# an existing collection beside the source's raw query rate for the same rows, in one run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec "${CDC_TEST_PYTHON:?run through bench/run.sh (needs the harness venv)}" \
  "$ROOT/bench/initial_sync/query_copy.py" "$@"

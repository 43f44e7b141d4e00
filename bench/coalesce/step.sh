#!/usr/bin/env bash
# Coalescing step of bench/run.sh (contract in bench/README.md): single-row inserts from a
# backlog into the real target Milvus with coalescing off and on, beside the ceiling.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec "${CDC_TEST_PYTHON:?run through bench/run.sh (needs the harness venv)}" \
  "$ROOT/bench/coalesce/coalesce.py" "$@"

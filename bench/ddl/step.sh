#!/usr/bin/env bash
# bench/run.sh step: how soon a collection / partition created on the source is on the target.
# Writes $BENCH_OUT/ddl.json (see bench/README.md). Needs the real source and target Milvus
# (CDC_TEST_MILVUS_SOURCE, CDC_TEST_MILVUS_TARGET), CDC_TEST_PYTHON and $BENCH_BUILD/milvus-cdc.
# Extra arguments: label=path of milvus-cdc binaries to measure one after the other instead.
set -euo pipefail
exec "${CDC_TEST_PYTHON:?the harness venv (scripts/e2e-env.sh)}" "$(dirname "$0")/ddl.py" "$@"

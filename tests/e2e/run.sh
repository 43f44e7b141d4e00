#!/usr/bin/env bash
# Runs the end-to-end suite (tests/e2e, pytest) against real servers from scripts/e2e-env.sh,
# once per source message queue: first with the source Milvus on Kafka (etcd, kafka,
# milvus-source, milvus-target), then with a source Milvus on Pulsar (pulsar,
# milvus-source-pulsar; the same target, which stays on Kafka). Starts what is not running (and
# stops it all again at the end if the stack was not up before), installs the harness venv if
# needed, bounds each pass in time, and runs every pass even when an earlier one failed.
#
#   tests/e2e/run.sh [PYTEST ARGS...]     e.g. tests/e2e/run.sh -k replicate -x
#
# CDC_E2E_MQS (default "kafka pulsar") lists the passes; CDC_E2E_TIMEOUT (s, default 2400) bounds
# each; CDC_E2E_REQUIRE_CDC=1 turns the skip of the replication tests (while build/milvus-cdc
# does not serve POST /cdc) into a failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
ENV_SH=$CDC_ENV_DIR/env.sh

if ! grep -q CDC_TEST_MILVUS_TARGET= "$ENV_SH" 2>/dev/null; then
  trap 'bash "$ROOT/scripts/e2e-env.sh" down || true' EXIT
fi

rc=0
for mq in ${CDC_E2E_MQS:-kafka pulsar}; do
  case $mq in
    kafka) comps=(etcd kafka milvus-source milvus-target) ;;
    pulsar) comps=(etcd kafka pulsar milvus-source-pulsar milvus-target) ;;
    *) echo "e2e: unknown queue '$mq' in CDC_E2E_MQS (kafka, pulsar)" >&2; exit 2 ;;
  esac
  echo "== e2e suite, source Milvus on $mq"
  t0=$SECONDS
  if ! bash "$ROOT/scripts/e2e-env.sh" up "${comps[@]}"; then
    echo "e2e: the $mq stack did not come up" >&2
    rc=1
    continue
  fi
  # shellcheck disable=SC1090
  source "$ENV_SH"
  pass=0
  # SIGINT first: pytest then stops like on ^C and still prints what failed and why.
  (cd "$ROOT/tests/e2e" && CDC_E2E_MQ=$mq timeout -s INT -k 60 "${CDC_E2E_TIMEOUT:-2400}" \
    "$CDC_TEST_PYTHON" -m pytest -c pytest.ini "$@") || pass=$?
  case $pass in
    0) ;;
    5) echo "e2e: pytest collected no tests ($mq): that is a failure, not a pass" >&2; pass=1 ;;
    124 | 130 | 137) echo "e2e: the $mq pass did not finish in ${CDC_E2E_TIMEOUT:-2400} s" >&2 ;;
  esac
  echo "== e2e suite on $mq: exit $pass in $((SECONDS - t0)) s (stack start included)"
  ((pass == 0)) || rc=$pass
done
exit "$rc"

#!/usr/bin/env bash
# A newcomer's demo of milvus-cdc on one machine:
#   1. builds milvus-cdc if needed and starts etcd, Kafka, a source and a target Milvus
#      (scripts/e2e-env.sh; the first run downloads Kafka jars and the Milvus wheel, ~1 min),
#   2. starts build/milvus-cdc with a cdc.yaml pointing at them and prints its API URL,
#   3. creates a replication task with POST /cdc and shows it, inserts 1000 vectors into the
#      source, prints source and target row counts side by side until they match, and compares
#      a sample of the copied rows field by field.
#
#   scripts/demo.sh          run the demo (everything keeps running afterwards)
#   scripts/demo.sh check    run it, then delete the task and the demo collection and stop this
#                            milvus-cdc (the servers keep running); exit 0 only if the copy is
#                            complete (scripts/test.sh runs this in CI)
#   scripts/demo.sh stop     stop milvus-cdc and the whole stack
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
BUILD=${CDC_BUILD_DIR:-$ROOT/build}
PID_FILE=$CDC_ENV_DIR/pids/milvus-cdc.pid
mode=${1:-run}
case $mode in
  stop) exec bash "$ROOT/scripts/e2e-env.sh" down ;; # also stops milvus-cdc: its pid file is there
  run | check) ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac

[[ -x $BUILD/milvus-cdc ]] || bash "$ROOT/scripts/build.sh"
bash "$ROOT/scripts/e2e-env.sh" up etcd kafka milvus-source milvus-target
# shellcheck disable=SC1091
source "$CDC_ENV_DIR/env.sh"
export PYTHONPATH=$ROOT/tests/e2e

stop_cdc() { # SIGTERM, then SIGKILL after 15 s
  local pid
  [[ -f $PID_FILE ]] || return 0
  pid=$(cat "$PID_FILE")
  kill "$pid" 2>/dev/null || { rm -f "$PID_FILE"; return 0; }
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}
stop_cdc # a fresh server for this run

port=$("$CDC_TEST_PYTHON" -c 'import cdc_server; print(cdc_server.free_port())')
cfg=$CDC_ENV_DIR/demo-cdc.yaml
"$CDC_TEST_PYTHON" - "$cfg" "$port" <<'PY'
import os, sys, uuid
import cdc_server
stack = {"etcd": os.environ["CDC_TEST_ETCD"], "kafka": os.environ["CDC_TEST_KAFKA"],
         "source_mq": "kafka", "source": os.environ["CDC_TEST_MILVUS_SOURCE"],
         "source_etcd_root": os.environ["CDC_TEST_MILVUS_SOURCE_ETCD_ROOT"],
         "source_prefix": os.environ["CDC_TEST_MILVUS_SOURCE_PREFIX"]}
cdc_server.write_config(sys.argv[1], int(sys.argv[2]), stack, f"cdc-demo-{uuid.uuid4().hex[:6]}")
PY
log=$CDC_ENV_DIR/logs/milvus-cdc.log
"$BUILD/milvus-cdc" --config "$cfg" >"$log" 2>&1 &
echo $! >"$PID_FILE"
[[ $mode == check ]] && trap stop_cdc EXIT
base=http://127.0.0.1:$port
url=$base/cdc
cat <<MSG
demo: milvus-cdc (pid $(cat "$PID_FILE")) serves its HTTP API on $base
        POST $url        the task API, e.g. curl -s $url -d '{"request_type":"list"}'
        GET  $base/metrics    Prometheus metrics (lag per task and channel)
      config $cfg, log $log
MSG

if ! why=$("$CDC_TEST_PYTHON" -c 'import sys, cdc_server
w = cdc_server.wait_ready(sys.argv[1], timeout=30, log_path=sys.argv[2], pid=int(sys.argv[3]))
print(w or ""); sys.exit(1 if w else 0)' "$url" "$log" "$(cat "$PID_FILE")"); then
  echo "demo: milvus-cdc did not answer on $url: $why" >&2
  tail -20 "$log" >&2
  exit 1
fi

rc=0
args=("$url")
[[ $mode == check ]] && args+=(--cleanup)
"$CDC_TEST_PYTHON" "$ROOT/scripts/demo.py" "${args[@]}" || rc=$?
if [[ $mode == run ]]; then
  cat <<MSG
demo: source Milvus $CDC_TEST_MILVUS_SOURCE, target Milvus $CDC_TEST_MILVUS_TARGET, milvus-cdc $base
      (connect with pymilvus: $CDC_TEST_PYTHON). Everything keeps running; stop it with:
        scripts/demo.sh stop
MSG
fi
exit "$rc"

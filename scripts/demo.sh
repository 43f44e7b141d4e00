#!/usr/bin/env bash
# A newcomer's demo of milvus-cdc on one machine:
#   1. builds milvus-cdc if needed and starts etcd, Kafka, a source and a target Milvus
#      (scripts/e2e-env.sh; the first run downloads Kafka jars and the Milvus wheel, ~1 min),
#   2. starts build/milvus-cdc with a cdc.yaml pointing at them,
#   3. creates a replication task with POST /cdc, inserts 1000 vectors into the source and
#      prints source and target row counts side by side until they match.
#
#   scripts/demo.sh          run the demo (everything keeps running afterwards)
#   scripts/demo.sh stop     stop milvus-cdc and the whole stack
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
BUILD=${CDC_BUILD_DIR:-$ROOT/build}
PID_FILE=$CDC_ENV_DIR/pids/milvus-cdc.pid

if [[ ${1:-} == stop ]]; then
  exec bash "$ROOT/scripts/e2e-env.sh" down # also stops milvus-cdc: its pid file is there
fi

[[ -x $BUILD/milvus-cdc ]] || bash "$ROOT/scripts/build.sh"
bash "$ROOT/scripts/e2e-env.sh" up etcd kafka milvus-source milvus-target
# shellcheck disable=SC1091
source "$CDC_ENV_DIR/env.sh"
export PYTHONPATH=$ROOT/tests/e2e

if [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  kill "$(cat "$PID_FILE")" && sleep 1 # a fresh server for this run
fi
port=$("$CDC_TEST_PYTHON" -c 'import cdc_server; print(cdc_server.free_port())')
cfg=$CDC_ENV_DIR/demo-cdc.yaml
"$CDC_TEST_PYTHON" - "$cfg" "$port" <<'PY'
import os, sys, uuid
import cdc_server
stack = {"etcd": os.environ["CDC_TEST_ETCD"], "kafka": os.environ["CDC_TEST_KAFKA"],
         "source_etcd_root": os.environ["CDC_TEST_MILVUS_SOURCE_ETCD_ROOT"],
         "source_prefix": os.environ["CDC_TEST_MILVUS_SOURCE_PREFIX"]}
cdc_server.write_config(sys.argv[1], int(sys.argv[2]), stack, f"cdc-demo-{uuid.uuid4().hex[:6]}")
PY
log=$CDC_ENV_DIR/logs/milvus-cdc.log
"$BUILD/milvus-cdc" --config "$cfg" >"$log" 2>&1 &
echo $! >"$PID_FILE"
url=http://127.0.0.1:$port/cdc
echo "demo: milvus-cdc (pid $(cat "$PID_FILE")) on $url, config $cfg, log $log"

if ! why=$("$CDC_TEST_PYTHON" -c 'import sys, cdc_server
w = cdc_server.wait_ready(sys.argv[1], timeout=20, log_path=sys.argv[2], pid=int(sys.argv[3]))
print(w or ""); sys.exit(1 if w else 0)' "$url" "$log" "$(cat "$PID_FILE")"); then
  cat <<MSG
demo: milvus-cdc does not serve its HTTP API yet: $why
      This demo waits for the HTTP task API (POST /cdc, create/list) and the replication
      pipeline of milvus-cdc, which are still being built. The source and target Milvus are
      up ($CDC_TEST_MILVUS_SOURCE, $CDC_TEST_MILVUS_TARGET). Stop everything with:
        scripts/demo.sh stop
MSG
  exit 2
fi

rc=0
"$CDC_TEST_PYTHON" "$ROOT/scripts/demo.py" "$url" || rc=$?
cat <<MSG
demo: source Milvus $CDC_TEST_MILVUS_SOURCE, target Milvus $CDC_TEST_MILVUS_TARGET, milvus-cdc $url
      (connect with pymilvus: $CDC_TEST_PYTHON). Everything keeps running; stop it with:
        scripts/demo.sh stop
MSG
exit "$rc"

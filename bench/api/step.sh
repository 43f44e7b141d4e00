#!/usr/bin/env bash
# bench/run.sh step (contract in bench/README.md): requests/s and p50/p99 of `list` on the
# HTTP API of a fresh milvus-cdc (its own SQLite meta, the source pointed at a dead port),
# with and without 500 slow clients; 10 Paused tasks against the target Milvus when
# CDC_TEST_MILVUS_TARGET is set. Writes $BENCH_OUT/api.json; logs under $BENCH_OUT/api/.
set -euo pipefail
out=$BENCH_OUT/api
mkdir -p "$out"
rm -f "$out/meta.db"
seconds=10
[[ ${BENCH_QUICK:-0} == 1 ]] && seconds=3
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dead=$(free_port)
cat >"$out/cdc.yaml" <<YAML
address: 127.0.0.1:$port
logLevel: warn
metaStoreConfig:
  storeType: sqlite
  sqlite:
    path: $out/meta.db
sourceConfig:
  replicateChan: by-dev-replicate-msg
  etcd:
    address: [127.0.0.1:$dead]
  kafka:
    address: 127.0.0.1:$dead
YAML
"$BENCH_BUILD/milvus-cdc" --config "$out/cdc.yaml" >"$out/milvus-cdc.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "api: milvus-cdc exited (log $out/milvus-cdc.log)" >&2; exit 1; }
  sleep 0.2
done
args=(--port "$port" --seconds "$seconds" --clients 8 --slow 500 --json "$BENCH_OUT/api.json")
if [[ -n ${CDC_TEST_MILVUS_TARGET:-} ]]; then
  args+=(--tasks 10 --target-uri "http://$CDC_TEST_MILVUS_TARGET")
fi
"$BENCH_BUILD/bench/api/api_bench" "${args[@]}"

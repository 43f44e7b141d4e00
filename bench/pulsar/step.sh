#!/usr/bin/env bash
# bench/run.sh step: Pulsar consume throughput, our client beside Pulsar's Java client, on the
# same topic in one run. Starts the test Pulsar itself (scripts/e2e-env.sh up pulsar); run.sh
# stops it. Rows go to $BENCH_OUT/pulsar.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_OUT:?}/pulsar
BUILD=${BENCH_BUILD:-$ROOT/build}
mkdir -p "$OUT"
bash "$ROOT/scripts/e2e-env.sh" up pulsar >"$OUT/env.log" 2>&1
# shellcheck disable=SC1091
source "${CDC_ENV_DIR:-$ROOT/.cache/env}/env.sh"
lib="${CDC_PULSAR_HOME:-${CDC_CACHE_DIR:-$HOME/.cache/milvus-cdc}/pulsar-${CDC_PULSAR_VERSION:-4.0.7}}/lib"
javac -nowarn -d "$OUT/classes" -cp "$lib/*" "$ROOT/bench/pulsar/PulsarConsumeBench.java"
java_cmd="java -Xmx512m -cp $OUT/classes:$lib/* PulsarConsumeBench"
if [[ ${BENCH_QUICK:-0} == 1 ]]; then sizes=(--inserts 2000); else sizes=(--inserts 20000); fi
"$BUILD/bench/pulsar/pulsar_bench" --url "$CDC_TEST_PULSAR" "${sizes[@]}" --java "$java_cmd" \
  --json "$BENCH_OUT/pulsar.json" 2>"$OUT/bench.log" | tee "$OUT/table.txt"

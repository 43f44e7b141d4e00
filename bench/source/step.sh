#!/usr/bin/env bash
# Source-side step of bench/run.sh (contract in bench/README.md): bench/source_bench, i.e. raw
# librdkafka consume vs. KafkaChannelReader vs. decode + pack in memory, 128- and 768-dim.
set -euo pipefail
msgs=2000
[[ ${BENCH_QUICK:-0} == 1 ]] && msgs=200
exec "$BENCH_BUILD/bench/source_bench" --brokers "${CDC_TEST_KAFKA:?}" --messages "$msgs" \
  --rows 100 --json "$BENCH_OUT/source.json"

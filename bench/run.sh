#!/usr/bin/env bash
# Runs every benchmark step (bench/*/step.sh, sorted) against a release build and real servers,
# prints one table and writes bench/results/latest.json plus a timestamped copy.
# See bench/README.md for the step contract.
#
#   bench/run.sh [--quick] [STEP...]
#
# BENCH_BUILD (default build-bench/), BENCH_STEP_TIMEOUT (s), CDC_JOBS (build jobs, default 2).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
QUICK=0
STEPS=()
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) STEPS+=("$a") ;;
  esac
done
[[ ${BENCH_QUICK:-} == 1 ]] && QUICK=1
export BENCH_QUICK=$QUICK
export BENCH_BUILD=${BENCH_BUILD:-$ROOT/build-bench}
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-$((QUICK ? 600 : 1800))}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$ROOT/bench/results
export BENCH_OUT=$RESULTS/run-$STAMP
mkdir -p "$BENCH_OUT"
log() { echo "bench: $*" >&2; }

log "release build in $BENCH_BUILD (nice -n 10)"
if ! CDC_BUILD_DIR=$BENCH_BUILD CDC_JOBS=${CDC_JOBS:-2} nice -n 10 bash scripts/build.sh \
  -DCMAKE_BUILD_TYPE=Release -DCDC_BUILD_TESTS=OFF >"$BENCH_OUT/build.log" 2>&1; then
  tail -30 "$BENCH_OUT/build.log" >&2
  log "build failed (log $BENCH_OUT/build.log)"
  exit 1
fi

ENV_SH=$CDC_ENV_DIR/env.sh
if ! grep -q CDC_TEST_MILVUS_TARGET= "$ENV_SH" 2>/dev/null; then
  trap 'bash "$ROOT/scripts/e2e-env.sh" down >/dev/null 2>&1 || true' EXIT
fi
bash scripts/e2e-env.sh up etcd kafka milvus-source milvus-target || { log "servers did not start"; exit 1; }
# shellcheck disable=SC1090
source "$ENV_SH"

if ((${#STEPS[@]} == 0)); then
  for s in bench/*/step.sh; do [[ -x $s ]] && STEPS+=("$(basename "$(dirname "$s")")"); done
fi
mapfile -t STEPS < <(printf '%s\n' "${STEPS[@]}" | sort)
STATUS=()
for step in "${STEPS[@]}"; do
  script=bench/$step/step.sh
  if [[ ! -x $script ]]; then
    STATUS+=("$step=missing")
    continue
  fi
  mkdir -p "$BENCH_OUT/$step"
  log "step $step (timeout ${STEP_TIMEOUT}s, quick=$QUICK)"
  t0=$SECONDS
  timeout -k 30 "$STEP_TIMEOUT" "$script" 2>&1 | tee "$BENCH_OUT/$step/step.log" | sed "s/^/  [$step] /" >&2
  rc=${PIPESTATUS[0]}
  log "step $step: rc $rc in $((SECONDS - t0))s"
  if ((rc == 0)); then STATUS+=("$step=ok"); else STATUS+=("$step=failed (rc $rc)"); fi
done

args=(--out "$RESULTS/$STAMP.json" --dir "$BENCH_OUT" --quick "$QUICK")
for s in "${STATUS[@]}"; do args+=(--step "$s"); done
python3 bench/report.py "${args[@]}" || exit 1
cp "$RESULTS/$STAMP.json" "$RESULTS/latest.json"
log "rows: $RESULTS/latest.json (copy $RESULTS/$STAMP.json)"
for s in "${STATUS[@]}"; do [[ $s == *=ok ]] || exit 1; done
exit 0

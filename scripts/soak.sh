#!/usr/bin/env bash
# Soak test: runs the randomized end-to-end test (tests/e2e/test_randomized.py) seed after seed
# for a given time, each seed in its own pytest session (a fresh milvus-cdc and task), and prints
# one line per seed plus the failing seeds with their op logs at the end.
#
#   scripts/soak.sh [--minutes N] [--seed S] [--ops K] [--mq kafka|pulsar] [--exclude F,G]
#
#   --minutes N   stop starting new seeds after N minutes (default 30)
#   --seed S      first seed (default: random); seeds S, S+1, ... follow
#   --ops K       operations per seed (default 300)
#   --mq Q        the source's message queue (default kafka)
#   --exclude L   features to leave out (CDC_RANDOM_EXCLUDE; default partition_load, which a
#                 2.3.5 source does not record; "" keeps it; see tests/e2e/test_randomized.py)
#
# Starts the stack (scripts/e2e-env.sh) if it is not up and stops it again at the end. Op logs:
# .cache/env/logs/randomized-<mq>-seed<S>.log; milvus-cdc's log of a failed seed is kept as
# .cache/env/logs/soak-cdc-<mq>-seed<S>.log. Exit status 1 when any seed failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
minutes=30 seed=$((RANDOM * 32768 + RANDOM)) ops=300 mq=kafka exclude=partition_load
while (($#)); do
  case $1 in
    --minutes) minutes=$2 ;;
    --seed) seed=$2 ;;
    --ops) ops=$2 ;;
    --mq) mq=$2 ;;
    --exclude) exclude=$2 ;;
    *) echo "soak: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[[ $minutes =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ && $ops =~ ^[0-9]+$ ]] ||
  { echo "soak: --minutes, --seed and --ops take whole numbers" >&2; exit 2; }
case $mq in
  kafka) comps=(etcd kafka milvus-source milvus-target) ;;
  pulsar) comps=(etcd kafka pulsar milvus-source-pulsar milvus-target) ;;
  *) echo "soak: --mq is kafka or pulsar, not '$mq'" >&2; exit 2 ;;
esac

if ! grep -q CDC_TEST_MILVUS_TARGET= "$CDC_ENV_DIR/env.sh" 2>/dev/null; then
  trap 'bash "$ROOT/scripts/e2e-env.sh" down || true' EXIT
fi
bash "$ROOT/scripts/e2e-env.sh" up "${comps[@]}"

logs=$CDC_ENV_DIR/logs
end=$((SECONDS + minutes * 60))
failed=()
runs=0
while ((SECONDS < end)); do
  t0=$SECONDS
  rc=0
  CDC_E2E_MQS=$mq CDC_RANDOM_SEED=$seed CDC_RANDOM_OPS=$ops CDC_RANDOM_EXCLUDE=$exclude \
    CDC_E2E_REQUIRE_CDC=1 bash "$ROOT/tests/e2e/run.sh" -k test_random_operations_replicate \
    >"$logs/soak-pytest-$mq-seed$seed.log" 2>&1 || rc=$?
  runs=$((runs + 1))
  if ((rc == 0)); then
    echo "soak: seed $seed passed in $((SECONDS - t0)) s"
    rm -f "$logs/soak-pytest-$mq-seed$seed.log"
  else
    failed+=("$seed")
    cp "$logs/cdc-e2e-$mq.log" "$logs/soak-cdc-$mq-seed$seed.log" 2>/dev/null || true
    echo "soak: seed $seed FAILED in $((SECONDS - t0)) s: op log $logs/randomized-$mq-seed$seed.log," \
      "pytest output $logs/soak-pytest-$mq-seed$seed.log, milvus-cdc log $logs/soak-cdc-$mq-seed$seed.log"
  fi
  seed=$((seed + 1))
done
echo "soak: $runs seeds in $((SECONDS / 60)) min, ${#failed[@]} failed${failed:+: ${failed[*]}}"
((${#failed[@]} == 0))

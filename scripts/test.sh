#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit tests, starts the real test
# servers (scripts/e2e-env.sh), runs integration tests, the demo (scripts/demo.sh check) and the
# end-to-end suite, stops the servers.
#
#   scripts/test.sh            everything
#   scripts/test.sh unit       unit tests only (no servers)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CDC_BUILD_DIR:-$ROOT/build}
export CDC_ENV_DIR=${CDC_ENV_DIR:-$ROOT/.cache/env}
what=${1:-all}

bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh"

echo "== unit tests"
(cd "$BUILD" && ctest -L unit --output-on-failure -j"$(nproc)")
[[ $what == unit ]] && exit 0

cleanup() { bash "$ROOT/scripts/e2e-env.sh" down || true; }
trap cleanup EXIT

echo "== integration tests"
bash "$ROOT/scripts/e2e-env.sh" up
# Pulsar for the Pulsar reader's integration tests (the e2e Pulsar pass reuses it).
bash "$ROOT/scripts/e2e-env.sh" up pulsar
# shellcheck disable=SC1091
source "$CDC_ENV_DIR/env.sh"
(cd "$BUILD" && ctest -L integration --output-on-failure)

echo "== demo (scripts/demo.sh check: the README's demo, end to end)"
demo_rc=0
t0=$SECONDS
bash "$ROOT/scripts/demo.sh" check || demo_rc=$?
echo "== demo: exit $demo_rc in $((SECONDS - t0)) s"

echo "== end-to-end tests"
# In the whole suite a milvus-cdc that does not serve POST /cdc is a failure, not a skip.
e2e_rc=0
CDC_E2E_REQUIRE_CDC=${CDC_E2E_REQUIRE_CDC:-1} bash "$ROOT/tests/e2e/run.sh" || e2e_rc=$?
((demo_rc == 0)) || echo "test: the demo failed (exit $demo_rc); see its output above" >&2
((e2e_rc == 0)) || exit "$e2e_rc"
exit "$demo_rc"

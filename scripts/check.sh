#!/usr/bin/env bash
# Static analysis and sanitizer runs over the whole tree (the developers' guide: keep clang-tidy
# and sanitizer builds clean). Each mode exits non-zero when it finds something.
#
#   scripts/check.sh tidy [FILE...]  clang-tidy (the repo's .clang-tidy) over every src/ .cc file,
#                                    or the given ones, using build/compile_commands.json
#   scripts/check.sh asan [ARGS...]  Debug build in build-asan with -fsanitize=address,undefined,
#                                    then `ctest -L unit ARGS`; stops at the first report
#   scripts/check.sh asan-it [ARGS...]
#                                    the asan build, then unit and integration tests
#                                    (`ctest -L 'unit|integration' ARGS`) against real servers
#                                    (scripts/e2e-env.sh up, plus pulsar; stopped afterwards
#                                    unless they were already running)
#   scripts/check.sh tsan [ARGS...]  Debug build in build-tsan with -fsanitize=thread, then
#                                    `ctest -L unit ARGS`
#   scripts/check.sh fuzz [TARGET] [RUNS]
#                                    libFuzzer build in build-fuzz (clang, ASan+UBSan), then each
#                                    target of tests/fuzz (or TARGET) for RUNS executions
#                                    (default 20000), at most CDC_FUZZ_SECONDS (600) each
#   scripts/check.sh fuzz-corpus     rewrites tests/fuzz/corpus/ from tests/data/golden
#
# Builds run under `nice -n 10` with ccache (the CPU is shared) and CDC_JOBS jobs (default 2).
# Sanitizer options and suppressions (third-party code only) are in scripts/sanitizers/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${CDC_JOBS:-2}
mode=${1:-}
[[ $# -gt 0 ]] && shift

# Builds one variant into $1 with the cmake arguments that follow (configured once).
build_variant() {
  local dir=$1
  shift
  CDC_BUILD_DIR=$dir CDC_JOBS=$JOBS nice -n 10 bash "$ROOT/scripts/build.sh" "$@"
}

sanitizer_env() {
  local supp=$ROOT/scripts/sanitizers
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$supp/tsan.supp"
}

FUZZ_BUILD=$ROOT/build-fuzz
FUZZ_TARGETS=(http_request stored_task milvus_message pulsar_frame position catalog config)

# Configures (once) and builds the fuzz targets only, with clang and libFuzzer.
build_fuzz() {
  local cxx=${CDC_FUZZ_CXX:-clang++-14}
  if ! command -v "$cxx" >/dev/null; then
    echo "check.sh fuzz: $cxx not found; run scripts/install-deps.sh or set CDC_FUZZ_CXX" >&2
    exit 2
  fi
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/milvus-cdc/ccache} CCACHE_BASEDIR=$ROOT
  export CCACHE_NOHASHDIR=1
  if [[ ! -f $FUZZ_BUILD/build.ninja ]]; then
    cmake -S "$ROOT" -B "$FUZZ_BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCDC_FUZZ=ON \
      -DCDC_BUILD_TESTS=OFF -DCDC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" >/dev/null
  fi
  nice -n 10 cmake --build "$FUZZ_BUILD" --target cdc_fuzz -- -j"$JOBS"
}

# Runs one target for $2 executions on a copy of its seed corpus (new inputs go to
# .cache/fuzz/<target>/corpus, crashes to .cache/fuzz/<target>/); prints one summary line.
run_fuzzer() {
  local name=$1 runs=$2
  local work=$ROOT/.cache/fuzz/$name
  local bin=$FUZZ_BUILD/fuzz/${name}_fuzzer
  mkdir -p "$work/corpus"
  local args=(-runs="$runs" -max_total_time="${CDC_FUZZ_SECONDS:-600}" -timeout=10
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/")
  [[ -f $ROOT/tests/fuzz/dict/$name.dict ]] && args+=(-dict="$ROOT/tests/fuzz/dict/$name.dict")
  # Text inputs up to 64 KiB: length and nesting bugs need more than libFuzzer's default 4 KiB.
  case $name in http_request | stored_task | config) args+=(-max_len=65536) ;; esac
  local start=$SECONDS rc=0
  nice -n 10 "$bin" "${args[@]}" "$work/corpus" "$ROOT/tests/fuzz/corpus/$name" \
    >"$work/log" 2>&1 || rc=$?
  local done_runs cov
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$work/log" | tail -1)
  if ((rc != 0)); then
    echo "== fuzz $name: FAILED after $((SECONDS - start)) s (exit $rc); log $work/log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant broken)|Test unit written' \
      "$work/log" | head -20
    echo "   reproduce: $bin <the test unit above>"
    return 1
  fi
  echo "== fuzz $name: ${done_runs:-?} runs in $((SECONDS - start)) s, ${cov:-no coverage line}, ok"
}

build_asan() {
  build_variant "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCDC_SANITIZE=ON -DCDC_BUILD_BENCH=OFF
}

run_unit() {
  local dir=$1
  shift
  sanitizer_env
  (cd "$dir" && nice -n 10 ctest -L unit --output-on-failure -j"$JOBS" "$@")
}

case $mode in
  tidy)
    if [[ ! -f $ROOT/build/compile_commands.json ]]; then
      CDC_JOBS=$JOBS nice -n 10 bash "$ROOT/scripts/build.sh"
    else
      # Generated proto headers must exist and be current.
      CDC_JOBS=$JOBS nice -n 10 bash "$ROOT/scripts/build.sh" >/dev/null
    fi
    if (($#)); then
      files=("$@")
    else
      mapfile -t files < <(cd "$ROOT" && find src -name '*.cc' | sort)
    fi
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    echo "== clang-tidy over ${#files[@]} files ($JOBS jobs)"
    # -Wno-unknown-warning-option: the database holds GCC's flags.
    (cd "$ROOT" && printf '%s\n' "${files[@]}" |
      nice -n 10 xargs -P"$JOBS" -n1 clang-tidy -p "$ROOT/build" --quiet \
        --extra-arg=-Wno-unknown-warning-option >"$out" 2>/dev/null) || true
    # A header's finding shows once per file that includes it: list each once.
    findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$out" | sort -u || true)
    if [[ -n $findings ]]; then
      echo "$findings"
      echo "== clang-tidy: $(wc -l <<<"$findings") finding(s)"
      exit 1
    fi
    echo "== clang-tidy: clean"
    ;;
  asan)
    build_asan
    echo "== unit tests under ASan+UBSan"
    run_unit "$ROOT/build-asan" "$@"
    ;;
  asan-it)
    build_asan
    env_dir=${CDC_ENV_DIR:-$ROOT/.cache/env}
    if [[ ! -f $env_dir/env.sh ]]; then
      trap 'bash "$ROOT/scripts/e2e-env.sh" down || true' EXIT
    fi
    bash "$ROOT/scripts/e2e-env.sh" up
    bash "$ROOT/scripts/e2e-env.sh" up pulsar
    # shellcheck disable=SC1091
    source "$env_dir/env.sh"
    echo "== unit and integration tests under ASan+UBSan"
    sanitizer_env
    # One at a time: the integration tests share the servers.
    (cd "$ROOT/build-asan" && nice -n 10 ctest -L 'unit|integration' --output-on-failure "$@")
    ;;
  tsan)
    build_variant "$ROOT/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DCDC_BUILD_BENCH=OFF \
      "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
      "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"
    echo "== unit tests under TSan"
    # Not source_broker_unit_test: Debian's librdkafka starts its threads with C11 thrd_create,
    # which TSan does not intercept, so TSan's allocator crashes in them (SIGSEGV in
    # rdk:broker); the Kafka reader's own code is covered under ASan.
    run_unit "$ROOT/build-tsan" -E '^source_broker_unit_test$' "$@"
    ;;
  fuzz)
    targets=("${FUZZ_TARGETS[@]}")
    if [[ $# -gt 0 && ! $1 =~ ^[0-9]+$ && $1 != all ]]; then
      if [[ ! " ${FUZZ_TARGETS[*]} " == *" $1 "* ]]; then
        echo "check.sh fuzz: unknown target '$1'; one of: ${FUZZ_TARGETS[*]}" >&2
        exit 2
      fi
      targets=("$1")
      shift
    elif [[ ${1:-} == all ]]; then
      shift
    fi
    runs=${1:-20000}
    build_fuzz
    sanitizer_env
    export ASAN_OPTIONS="$ASAN_OPTIONS:abort_on_error=1"
    failed=0
    for t in "${targets[@]}"; do run_fuzzer "$t" "$runs" || failed=1; done
    exit $failed
    ;;
  fuzz-corpus)
    build_fuzz
    rm -rf "$ROOT/tests/fuzz/corpus"
    "$FUZZ_BUILD/fuzz/make_corpus" "$ROOT" "$ROOT/tests/fuzz/corpus"
    ;;
  *)
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Static analysis and sanitizer runs over the whole tree (the developers' guide: keep clang-tidy
# and sanitizer builds clean). Each mode exits non-zero when it finds something.
#
#   scripts/check.sh tidy [FILE...]  clang-tidy (the repo's .clang-tidy) over every src/ .cc file,
#                                    or the given ones, using build/compile_commands.json
#   scripts/check.sh asan [ARGS...]  Debug build in build-asan with -fsanitize=address,undefined,
#                                    then `ctest -L unit ARGS`; stops at the first report
#   scripts/check.sh tsan [ARGS...]  Debug build in build-tsan with -fsanitize=thread, then
#                                    `ctest -L unit ARGS`
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
    build_variant "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DCDC_SANITIZE=ON \
      -DCDC_BUILD_BENCH=OFF
    echo "== unit tests under ASan+UBSan"
    run_unit "$ROOT/build-asan" "$@"
    ;;
  tsan)
    build_variant "$ROOT/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DCDC_BUILD_BENCH=OFF \
      "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
      "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"
    echo "== unit tests under TSan"
    run_unit "$ROOT/build-tsan" "$@"
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

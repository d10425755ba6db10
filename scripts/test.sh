#!/usr/bin/env bash
# Build corio and run every test suite:
#   native    Criterion suites, install/consumer test, the
#             spin model checks of models/                 (build-test/native)
#   asan      the same under AddressSanitizer + UBSan       (build-test/asan)
#   tsan      the same under ThreadSanitizer                (build-test/tsan)
#   mingw     cross-built with mingw-w64, run under Wine    (build-test/mingw)
#   valgrind  memcheck (leaks included) over the example pipeline and the
#             sync and life-cycle suites of the native build (build-test/native)
# The asan stage also runs the soak (tests/soak) for CORIO_SOAK_SECONDS
# (default 270; 0 skips it) after its suites.
# Installs missing Debian packages first (apt-get; needs root or sudo).
#
#   scripts/test.sh                 every stage
#   scripts/test.sh native tsan     only these stages
#   CORIO_TEST_JOBS=N               parallel build/test jobs (default: CPU count)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${CORIO_TEST_BUILD:-$root/build-test}
jobs=${CORIO_TEST_JOBS:-$(nproc)}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(native asan tsan mingw valgrind)

# ---- dependencies ----
# clang: the language's libFuzzer target (lang/, native stage); python3: the
# documented-errors check.
need=(cmake ninja-build gcc g++ pkg-config python3 libcriterion-dev libmimalloc-dev libuv1-dev clang)
for s in "${stages[@]}"; do
  [ "$s" = mingw ] && need+=(mingw-w64 wine wine64)
  [ "$s" = valgrind ] && need+=(valgrind)
  [ "$s" = native ] && need+=(spin) # models/ checks
done
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq || exit 1
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$root/.apt-install.log" 2>&1 || { cat "$root/.apt-install.log"; exit 1; }
fi

total_pass=0
total_fail=0
failed_stages=()

# run_ctest NAME DIR [ctest args...]: run CTest, add up its counts.
run_ctest() {
  local name=$1 dir=$2
  shift 2
  local log="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@") 2>&1 | tee "$log"
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "== $name: ctest printed no summary"
    total_fail=$((total_fail + 1))
    failed_stages+=("$name")
    return
  fi
  local failed all
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  all=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  total_pass=$((total_pass + all - failed))
  total_fail=$((total_fail + failed))
  [ "$failed" -eq 0 ] || failed_stages+=("$name")
}

# build NAME DIR cmake-args...
build() {
  local name=$1 dir=$2
  shift 2
  echo "== $name: configure and build in $dir"
  if ! cmake -S "$root" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"
    return 1
  fi
  if ! ninja -C "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    grep -E "error|FAILED" -A3 "$dir.build.log" | head -60
    return 1
  fi
}

# run_soak DIR: the long soak under the sanitizers of DIR's build, bounded.
run_soak() {
  local dir=$1 secs=${CORIO_SOAK_SECONDS:-270}
  [ "$secs" -gt 0 ] || return 0
  echo "== soak: ${secs} s on 2 Ps in $dir"
  if timeout $((secs + 120)) "$dir/tests/corio_soak" "$secs" >"$dir/soak.log" 2>&1; then
    tail -3 "$dir/soak.log"
    total_pass=$((total_pass + 1))
  else
    tail -30 "$dir/soak.log"
    echo "== soak: FAILED"
    total_fail=$((total_fail + 1))
    failed_stages+=(soak)
  fi
}

# run_valgrind DIR: each program under memcheck; a leak or an error fails it.
# The corio-lang scripts cover the interpreter's collector, channels, select
# and sockets.
# The suites chosen run in seconds under valgrind; the 100k-coroutine and
# mapping-limit tests do not fit valgrind's own limits.
run_valgrind() {
  local dir=$1 n=0 bad=0
  local vg=(valgrind --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite
            --error-exitcode=9 -q)
  local runs=("examples/example_pipeline"
              "tests/runtime_sched_test_sched --filter sched/shutdown*"
              "tests/runtime_sched_test_sched --filter sched/main_exit*"
              "tests/runtime_sched_test_chan -j1" "tests/runtime_sched_test_select -j1"
              "tests/runtime_sched_test_sema -j1" "tests/runtime_sched_test_waitgroup -j1"
              "lang/corio-lang $root/lang/examples/pipeline.lang"
              "lang/corio-lang $root/lang/examples/sieve.lang"
              "lang/corio-lang $root/tests/lang/gc_parked.lang"
              "lang/corio-lang $root/tests/lang/select.lang"
              "lang/corio-lang $root/tests/lang/net_tcp.lang")
  for r in "${runs[@]}"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if (set -f; cd "$dir" && timeout 600 "${vg[@]}" $r) >"$dir/valgrind.$n.log" 2>&1; then
      echo "valgrind: ok      $r"
      total_pass=$((total_pass + 1))
    else
      echo "valgrind: FAILED  $r"
      grep -v "unhandled amd64-linux syscall: 441" "$dir/valgrind.$n.log" | tail -30
      total_fail=$((total_fail + 1))
      bad=1
    fi
  done
  [ $bad -eq 0 ] || failed_stages+=(valgrind)
}

mkdir -p "$out"
for stage in "${stages[@]}"; do
  dir="$out/$stage"
  if [ "$stage" = valgrind ]; then
    dir="$out/native"
    if [ ! -x "$dir/examples/example_pipeline" ] &&
       ! build native "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
      total_fail=$((total_fail + 1))
      failed_stages+=("valgrind(build)")
      continue
    fi
    echo "== valgrind: memcheck over $dir"
    run_valgrind "$dir"
    continue
  fi
  case "$stage" in
    native) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    asan) args=(-DCMAKE_BUILD_TYPE=Debug -DCORIO_SANITIZE=address -DCORIO_BUILD_BENCH=OFF) ;;
    tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORIO_SANITIZE=thread -DCORIO_BUILD_BENCH=OFF) ;;
    mingw) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64-x86_64.cmake") ;;
    *) echo "unknown stage $stage (native, asan, tsan, mingw, valgrind)"; exit 2 ;;
  esac
  if ! build "$stage" "$dir" "${args[@]}"; then
    echo "== $stage: BUILD FAILED"
    total_fail=$((total_fail + 1))
    failed_stages+=("$stage(build)")
    continue
  fi
  case "$stage" in
    asan)
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_ctest "$stage" "$dir"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_soak "$dir" ;;
    tsan)
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_ctest "$stage" "$dir" ;;
    mingw)
      "$root/scripts/wine-session.sh" start "$dir"
      run_ctest "$stage" "$dir"
      "$root/scripts/wine-session.sh" stop "$dir" ;;
    *)
      run_ctest "$stage" "$dir" ;;
  esac
done

echo
if [ ${#failed_stages[@]} -gt 0 ]; then
  echo "== failing stages: ${failed_stages[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

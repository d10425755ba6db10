#!/usr/bin/env bash
# Check one Promela model exhaustively with spin.
#
#   models/check.sh [--expect-fail | --expect-deadlock] <model> [-DNAME=VALUE ...]
#
# <model> is a file name in models/ without .pml; the -D options go to spin's
# preprocessor (a model's bounds and variants). The script generates the
# verifier (spin -a), compiles it (cc) and runs:
#   - the safety search: assertions and invalid end states (deadlocks), full
#     state space, no bit-state hashing;
#   - then each `ltl` property the model names, with weak fairness (-a -f).
# It fails when a search reports an error, or when a search was not complete
# (depth limit hit, out of memory). With --expect-fail it succeeds only when
# the safety search finds an error (--expect-deadlock: an invalid end state,
# every process blocked with work left), and prints the counterexample: that
# is how a model shows it can find the bug its fix removes.
set -uo pipefail

expect_fail=0
expect_what="errors: [1-9]"
case "${1:-}" in
  --expect-fail) expect_fail=1; shift ;;
  --expect-deadlock) expect_fail=1; expect_what="invalid end state"; shift ;;
esac
[ $# -ge 1 ] || { echo "usage: $0 [--expect-fail | --expect-deadlock] <model> [-DNAME=VALUE ...]" >&2; exit 2; }
model=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
src="$here/$model.pml"
[ -f "$src" ] || { echo "check.sh: no model $src" >&2; exit 2; }
for tool in spin cc; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool not found (Debian: apt-get install spin gcc)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/corio-model-$model.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
cp "$src" "$work/"
cd "$work" || exit 2

# Memory per search (MB) and depth bound; a search that hits either is
# reported as incomplete, never as a pass.
memlim=${CORIO_MODEL_MEMLIM:-1536}
depth=${CORIO_MODEL_DEPTH:-100000}
# -O1: on these state spaces the compile costs more than -O2 saves.
copt=${CORIO_MODEL_CFLAGS:--O1}

# incomplete LOG: true when pan says the search did not cover everything.
incomplete() {
  grep -qE "max search depth too small|Search not completed|out of memory|pan: reached -DMEMLIM bound|error: max search depth" "$1"
}

ltls=$(sed -nE 's/^[[:space:]]*ltl[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\1/p' "$model.pml")
claimdef=""
[ -n "$ltls" ] && claimdef=-DNOCLAIM

echo "== $model $* : spin -a"
if ! spin -a "$@" "$model.pml" >spin.log 2>&1; then
  cat spin.log
  exit 1
fi

# ---- safety ----
if ! cc $copt -w -DSAFETY $claimdef -DCOLLAPSE -DMEMLIM="$memlim" -o pan_safety pan.c 2>cc.log; then
  cat cc.log
  exit 1
fi
./pan_safety -m"$depth" >safety.log 2>&1
rc=$?
grep -E "^State-vector|states, stored|transitions|elapsed|errors:|pan:[0-9]+:|violated" safety.log
if [ $expect_fail -eq 1 ]; then
  if grep -qE "errors: [1-9]" safety.log && grep -qE "$expect_what" safety.log &&
     ls ./*.trail >/dev/null 2>&1; then
    echo "== $model $* : counterexample found, as expected; its interleaving:"
    spin -t -c -k ./*.trail "$@" "$model.pml" 2>&1 | tail -n 80
    echo "== PASS (the unfixed variant fails)"
    exit 0
  fi
  echo "== FAIL: expected a counterexample ($expect_what), the search found none"
  cat safety.log
  exit 1
fi
if [ $rc -ne 0 ] || ! grep -q "errors: 0" safety.log || incomplete safety.log; then
  echo "== FAIL: safety search of $model $*"
  cat safety.log
  if ls ./*.trail >/dev/null 2>&1; then
    echo "== counterexample:"
    spin -t -p -k ./*.trail "$@" "$model.pml" 2>&1 | tail -n 120
  fi
  exit 1
fi

# ---- liveness (each ltl property, weak fairness) ----
if [ -n "$ltls" ]; then
  if ! cc $copt -w -DCOLLAPSE -DNFAIR=10 -DMEMLIM="$memlim" -o pan_live pan.c 2>cc.log; then
    cat cc.log
    exit 1
  fi
  for p in $ltls; do
    echo "== $model $* : ltl $p (acceptance cycles, weak fairness)"
    ./pan_live -a -f -m"$depth" -N "$p" >"live_$p.log" 2>&1
    rc=$?
    grep -E "states, stored|elapsed|errors:|pan:[0-9]+:" "live_$p.log"
    if [ $rc -ne 0 ] || ! grep -q "errors: 0" "live_$p.log" || incomplete "live_$p.log"; then
      echo "== FAIL: ltl $p of $model $*"
      cat "live_$p.log"
      if ls ./*.trail >/dev/null 2>&1; then
        spin -t -p -k ./*.trail -N "$p" "$@" "$model.pml" 2>&1 | tail -n 120
      fi
      exit 1
    fi
  done
fi
echo "== PASS $model $*"

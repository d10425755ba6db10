#!/usr/bin/env bash
# Compare benchmark programs on one scenario, run alternately, so that the
# machine's drift hits them all alike. One run moves by about 2% from the
# next; a single pair of runs cannot tell a small change from noise.
#
#   scripts/bench-compare.sh SCENARIO ROUNDS REF PROGRAM...
#   scripts/bench-compare.sh pipe_rt_1p 15 build-bench/bench/bench_floor build-bench/bench/bench_corio
#
# Each round runs REF and every PROGRAM once (SCENARIO as their argument).
# Printed per program: the median of its medians (RESULT field 6), and the
# median of its per-round ratios to REF (REF itself reads 1.0000).
set -uo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0"
  exit 2
fi
scenario=$1
rounds=$2
shift 2
progs=("$@")

declare -A medians ratios
for ((r = 0; r < rounds; r++)); do
  ref=""
  for p in "${progs[@]}"; do
    m=$("$p" "$scenario" 2>/dev/null | awk -F'\t' '$1 == "RESULT" { print $6; exit }')
    if [ -z "$m" ]; then
      echo "bench-compare: $p $scenario printed no RESULT line" >&2
      exit 1
    fi
    [ -z "$ref" ] && ref=$m
    medians[$p]+="$m "
    ratios[$p]+="$(awk -v a="$m" -v b="$ref" 'BEGIN { printf "%.6f", a / b }') "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-50s %12s %14s\n' "program ($scenario, $rounds rounds)" "median" "ratio to ref"
for p in "${progs[@]}"; do
  printf '%-50s %12s %14.4f\n' "$p" "$(echo "${medians[$p]}" | median)" "$(echo "${ratios[$p]}" | median)"
done

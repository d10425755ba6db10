#!/usr/bin/env bash
# The language rows of the benchmark: the same programs in corio-lang
# (bench/lang), Node.js (bench/node), Python asyncio (bench/python) and Go
# where Go has a natural form (the sieve; Go's and corio's C round trips come
# from the main run's raw.tsv), then HTTP hello requests per second under
# wrk for corio-lang, Node's http module and Python asyncio at the same
# connection count. Called by scripts/bench.sh; runs alone too:
#
#   scripts/bench-lang.sh BUILD_DIR OUT_DIR [--quick]
#
# Writes OUT_DIR/raw-lang.tsv and the report OUT_DIR/results-lang.{md,csv,gp,png}.
# The language runs with CORIO_PROCS=1, as the C rows it is compared with.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?build dir}" && pwd)
mkdir -p "${2:?output dir}"; out=$(cd "$2" && pwd)
quick=${3:-}
lang="$build/lang/corio-lang"
raw="$out/raw-lang.tsv"
limit=$([ -n "$quick" ] && echo 120 || echo 600)
mkdir -p "$out"
: >"$raw"
[ -x "$lang" ] || { echo "bench-lang: $lang was not built" >&2; exit 1; }

# one SCENARIO IMPL CMD...: run a program, keep its RESULT line, or a SKIP line.
one() {
  local sc=$1 impl=$2 tmp rc
  shift 2
  tmp=$(mktemp)
  (cd "$root/bench/$impl_dir" && CORIO_PROCS=1 timeout "$limit" "$@") >"$tmp" 2>/dev/null
  rc=$?
  if grep -qE "^RESULT	$sc	" "$tmp"; then
    grep -E "^RESULT	$sc	" "$tmp" >>"$raw"
  else
    printf 'SKIP\t%s\t%s\tFAILED: exit status %s\n' "$sc" "$impl" "$rc" >>"$raw"
    echo "    $impl: $sc failed (exit status $rc)" >&2
  fi
  rm -f "$tmp"
}

have() { command -v "$1" >/dev/null; }
gosieve=""
if have go; then
  mkdir -p "$build/go-lang"
  GOCACHE="$build/go-lang/cache" GO111MODULE=off GOFLAGS= go build -o "$build/go-lang/sieve" \
    "$root/bench/lang/sieve.go" >"$build/go-lang/build.log" 2>&1 && gosieve="$build/go-lang/sieve"
fi
node=$(command -v node || command -v nodejs || true)

for sc in pipe_rt tcp_rt chan_rt sleep_1ms sieve; do
  echo "[lang] $sc" >&2
  impl_dir=lang; one "lang_$sc" lang "$lang" "$sc.lang" $quick
  if [ -n "$node" ]; then impl_dir=node; one "lang_$sc" node "$node" "$sc.js" $quick
  else printf 'SKIP\tlang_%s\tnode\tnot installed\n' "$sc" >>"$raw"; fi
  if have python3; then impl_dir=python; one "lang_$sc" python python3 "$sc.py" $quick
  else printf 'SKIP\tlang_%s\tpython\tnot installed\n' "$sc" >>"$raw"; fi
done
if [ -n "$gosieve" ]; then impl_dir=lang; one lang_sieve go "$gosieve" $quick
else printf 'SKIP\tlang_sieve\tgo\tnot built\n' >>"$raw"; fi

# The C figures of the same round trips (corio's and Go's), from the main run.
if [ -f "$out/raw.tsv" ]; then
  awk -F'\t' 'BEGIN { OFS = "\t"; m["pipe_rt_1p"] = "lang_pipe_rt"; m["tcp_rt"] = "lang_tcp_rt";
                       m["chan_rt"] = "lang_chan_rt"; m["sleep_1ms"] = "lang_sleep_1ms" }
              $1 == "RESULT" && ($2 in m) && ($3 == "corio" || $3 == "go") { $2 = m[$2]; print }' \
    "$out/raw.tsv" >>"$raw"
fi

# HTTP hello under wrk: the same connection count and duration for each server.
http_one() {
  local impl=$1 port=$2
  shift 2
  local pid rps
  (cd "$root" && CORIO_PROCS=1 exec "$@") >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
  done
  wrk -t 2 -c 50 -d "$([ -n "$quick" ] && echo 2 || echo 10)s" "http://127.0.0.1:$port/" >"$out/wrk-$impl.txt" 2>&1
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rps=$(awk '/Requests\/sec/ { print $2 }' "$out/wrk-$impl.txt")
  if [ -n "$rps" ]; then
    printf 'RESULT\tlang_http\t%s\tns\t1\t-\t-\t-\t%.0f\t%s\n' "$impl" "$rps" \
      "wrk -t2 -c50, requests per second (1 P / one event loop)" >>"$raw"
  else
    printf 'SKIP\tlang_http\t%s\tFAILED: no wrk figure (see wrk-%s.txt)\n' "$impl" "$impl" >>"$raw"
  fi
}
if have wrk; then
  echo "[lang] http hello under wrk" >&2
  http_one lang 18081 "$lang" lang/examples/http_hello.lang serve 18081
  [ -n "$node" ] && http_one node 18082 "$node" bench/node/http_hello.js 18082
  have python3 && http_one python 18083 python3 bench/python/http_hello.py 18083
else
  printf 'SKIP\tlang_http\tlang\twrk is not installed\n' >>"$raw"
fi

"$build/bench/bench_report" "$raw" "$out" results-lang lang "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "machine=$(uname -sr) $(uname -m), $(nproc) CPUs" "command=scripts/bench-lang.sh${quick:+ --quick}" \
  "title=corio-lang vs corio's C, Node.js, Python asyncio and Go${quick:+ (quick run: few samples)}"
if have gnuplot; then gnuplot "$out/results-lang.gp" 2>/dev/null || true; fi

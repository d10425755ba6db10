#!/usr/bin/env bash
# corio's main job: build, run the example programs briefly, then run the
# wakeup-latency benchmark against its peers (the raw floor, libuv, Go) and
# write the report.
#
#   scripts/bench.sh            full run (a few minutes on 2 cores)
#   scripts/bench.sh --quick    a few seconds per program: checks that everything runs
#   scripts/bench.sh --wine     also cross-build corio's scenarios with mingw-w64 and run
#                               them under Wine (rows marked as Wine's figures)
#
# Output: the table on the terminal, and in bench/results/ (or $CORIO_BENCH_OUT):
#   results.csv  results.md  results.png  results.gp  raw.tsv     (native run)
#   results-lang.{csv,md,png,gp}  raw-lang.tsv                     (the language rows)
#   results-wine.{csv,md,png,gp}  raw-wine.tsv                     (with --wine)
# Builds in build-bench/ (and build-bench-wine/). Installs the Debian packages it
# lacks with apt-get (needs root or sudo) and says which.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORIO_BENCH_BUILD:-$root/build-bench}
wbuild=${CORIO_BENCH_WINE_BUILD:-$root/build-bench-wine}
out=${CORIO_BENCH_OUT:-$root/bench/results}
quick=""
wine_run=0
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    --wine) wine_run=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $a (try --help)" >&2; exit 2 ;;
  esac
done
command_line="scripts/bench.sh${quick:+ --quick}$([ $wine_run = 1 ] && echo ' --wine')"

say() { printf '\n== %s\n' "$*"; }

# ---- dependencies ----
# nodejs: the language rows (scripts/bench-lang.sh; python3 is the system's).
need=(cmake ninja-build gcc pkg-config libmimalloc-dev libuv1-dev golang-go gnuplot-nox wrk nodejs)
[ $wine_run = 1 ] && need+=(mingw-w64 wine wine64)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_=sudo
  aptlog=$(mktemp)
  if $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >"$aptlog" 2>&1; then
    echo "installed: ${missing[*]}"
  else
    echo "apt-get could not install everything (see $aptlog); peers that are missing are skipped"
  fi
fi
for tool in cmake ninja gcc; do
  command -v $tool >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done

# ---- build ----
say "configuring a Release build in ${build#$root/}"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF \
  >"$build/bench-configure.log" 2>&1 || { cat "$build/bench-configure.log"; exit 1; }
grep -E "^-- bench:" "$build/bench-configure.log" | sed 's/^-- /   /'
say "building (ninja -j2)"
ninja -C "$build" -j2 >"$build/bench-build.log" 2>&1 || { tail -40 "$build/bench-build.log"; exit 1; }
echo "built: $(ls "$build/bench" | grep -E '^bench_' | tr '\n' ' ')"

bin="$build/bench"
gobin="$build/go/bench_go"
notes=()
if command -v go >/dev/null; then
  mkdir -p "$build/go"
  if GOCACHE="$build/go/cache" GOPATH="$build/go/path" GO111MODULE=off GOFLAGS= \
      go build -o "$gobin" "$root"/bench/go/*.go >"$build/go/build.log" 2>&1; then
    echo "built: bench_go with $(go version | awk '{print $3}')"
  else
    cat "$build/go/build.log"
    notes+=("the Go peer did not build (see above): skipped")
    gobin=""
  fi
else
  notes+=("go is not installed: the Go peer is skipped")
  gobin=""
fi
[ -x "$bin/bench_uv" ] || notes+=("libuv (pkg-config libuv) was not found: the libuv peer is skipped")
[ -x "$bin/bench_corio" ] || notes+=("bench_corio was not built (the scheduler is missing): corio rows are skipped")

# ---- examples ----
say "example programs"
shopt -s nullglob
examples=("$build"/examples/example_*)
if [ ${#examples[@]} -eq 0 ]; then
  echo "(no example programs in examples/ yet)"
fi
for ex in "${examples[@]}"; do
  [ -x "$ex" ] || continue
  case ${ex##*/} in
    example_echo_server|example_http_hello)
      # Servers run until stopped: the http_hello benchmark drives the HTTP one.
      echo "-- ${ex#$build/}: a server (run it by hand; http_hello below loads the HTTP one)"
      continue ;;
  esac
  echo "-- ${ex#$build/}"
  timeout 30 "$ex" 2>&1 | head -20
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || echo "   (exit status $rc)"
done

# ---- benchmark ----
mkdir -p "$out"
raw="$out/raw.tsv"
: >"$raw"
dest=$raw
limit=$([ -n "$quick" ] && echo 120 || echo 600)

# run_one SCENARIO IMPL CMD...: run a benchmark program, append its result
# lines to $dest; a failure becomes a SKIP line that says so.
run_one() {
  local sc=$1 impl=$2
  shift 2
  local tmp rc
  tmp=$(mktemp)
  timeout "$limit" "$@" >"$tmp"
  rc=$?
  if grep -qE "^(RESULT|SKIP)	$sc	" "$tmp"; then
    cat "$tmp" >>"$dest"
  elif [ $rc -eq 124 ]; then
    printf 'SKIP\t%s\t%s\tFAILED: timed out after %ss\n' "$sc" "$impl" "$limit" >>"$dest"
    echo "    $impl: timed out" >&2
  else
    printf 'SKIP\t%s\t%s\tFAILED: exit status %s\n' "$sc" "$impl" "$rc" >>"$dest"
    echo "    $impl: failed with exit status $rc" >&2
  fi
  rm -f "$tmp"
}

# to_ns VALUE: wrk's "388.31us" / "2.81ms" / "1.02s" in nanoseconds.
to_ns() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    m = (u == "us") ? 1e3 : (u == "ms") ? 1e6 : (u == "s") ? 1e9 : 1; printf "%.0f", n * m }'
}

# run_http IMPL CMD...: start an HTTP hello server (it prints "PORT <n>" or
# "listening on http://host:<n>/"), load it with wrk (2 threads, 100
# connections, keep-alive), stop it, append a RESULT line (median and p99
# latency from wrk's distribution, requests/s) or a SKIP line to $dest.
run_http() {
  local impl=$1
  shift
  local log wout port="" pid d
  if ! command -v wrk >/dev/null; then
    printf 'SKIP\thttp_hello\t%s\twrk is not installed\n' "$impl" >>"$dest"
    return
  fi
  log=$(mktemp)
  wout=$(mktemp)
  "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    port=$(grep -oE '(PORT |:)[0-9]+' "$log" | grep -oE '[0-9]+$' | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    printf 'SKIP\thttp_hello\t%s\tFAILED: the server did not start\n' "$impl" >>"$dest"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$log" "$wout"
    return
  fi
  d=$([ -n "$quick" ] && echo 1 || echo 5)
  timeout 60 wrk -t2 -c100 -d"${d}s" --latency "http://127.0.0.1:$port/" >"$wout" 2>&1
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local rps reqs p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$wout")
  reqs=$(awk '/requests in/ {print $1}' "$wout")
  p50=$(awk '$1 == "50%" {print $2}' "$wout")
  p99=$(awk '$1 == "99%" {print $2}' "$wout")
  errs=$(grep -E "Socket errors|Non-2xx" "$wout" | tr -s ' ' | tr '\n' ';')
  if [ -z "$rps" ] || [ -z "$p50" ]; then
    printf 'SKIP\thttp_hello\t%s\tFAILED: no wrk figures (%s)\n' "$impl" "$(tail -1 "$wout")" >>"$dest"
  else
    printf 'RESULT\thttp_hello\t%s\tns\t%s\t%s\t%s\t-\t%s\twrk -t2 -c100 -d%ss, keep-alive, 1 P%s\n' \
      "$impl" "$reqs" "$(to_ns "$p50")" "$(to_ns "$p99")" "$rps" "$d" "${errs:+; $errs}" >>"$dest"
  fi
  rm -f "$log" "$wout"
}

# peer_cmd IMPL: the program for IMPL, or empty when it is not available.
peer_cmd() {
  case $1 in
    corio) [ -x "$bin/bench_corio" ] && echo "$bin/bench_corio" ;;
    floor) [ -x "$bin/bench_floor" ] && echo "$bin/bench_floor" ;;
    libuv) [ -x "$bin/bench_uv" ] && echo "$bin/bench_uv" ;;
    go) [ -n "$gobin" ] && echo "$gobin" ;;
  esac
}

scenarios=(yield_rt chan_rt ready_xp pipe_rt_1p pipe_rt_2p tcp_rt sleep_1ms deadline_1ms
           wake_storm echo_1p echo_2p conn_rate http_hello mem_chan mem_io)
titles=("yield round trip" "unbuffered channel round trip" "ready from another P"
        "pipe round trip, 1 P" "pipe round trip, 2 Ps" "TCP loopback round trip"
        "1 ms sleep overshoot" "1 ms read-deadline overshoot" "wake storm, 10k readers"
        "echo, 1000 connections, 1 P" "echo, 1000 connections, 2 Ps"
        "connection rate (dial + accept + echo + close)" "HTTP hello under wrk, 100 connections"
        "memory per coroutine parked on channels" "memory per coroutine parked on I/O")
impls=(corio floor libuv go)
say "benchmark${quick:+ (quick)}: ${#scenarios[@]} scenarios x ${impls[*]}"
start=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
for i in "${!scenarios[@]}"; do
  sc=${scenarios[$i]}
  printf '[%d/%d] %s (%s)\n' $((i + 1)) ${#scenarios[@]} "${titles[$i]}" "$sc" >&2
  for impl in "${impls[@]}"; do
    cmd=$(peer_cmd "$impl")
    if [ -z "$cmd" ]; then
      printf 'SKIP\t%s\t%s\tnot installed or not built\n' "$sc" "$impl" >>"$raw"
      continue
    fi
    case $sc in
      echo_1p|echo_2p)
        # The floor and libuv only take part as threads-per-P echo servers.
        run_one "$sc" "$impl" "$bin/bench_echo_client" "$sc" "$impl" $quick -- \
          "$cmd" echo-server "${sc:5:1}" ;;
      http_hello)
        # corio's server is the example program; Go's is net/http.
        case $impl in
          corio)
            if [ -x "$build/examples/example_http_hello" ]; then
              run_http corio "$build/examples/example_http_hello" 127.0.0.1:0 1
            else
              printf 'SKIP\thttp_hello\tcorio\texamples/http_hello.c was not built\n' >>"$raw"
            fi ;;
          go) run_http go "$cmd" http-server 127.0.0.1:0 1 ;;
          *) printf 'SKIP\thttp_hello\t%s\tnot applicable: no HTTP server\n' "$impl" >>"$raw" ;;
        esac ;;
      *) run_one "$sc" "$impl" "$cmd" "$sc" $quick ;;
    esac
  done
done
elapsed=$(( $(date +%s) - start ))

cpu=$(grep -m1 "model name" /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
machine="$(uname -sr) $(uname -m), ${cpu:-unknown CPU}, $(nproc) CPUs, $(free -g 2>/dev/null | awk '/Mem:/{print $2 " GiB"}'), load average ${load_at_start:-?} at start"
today=$(date -u '+%Y-%m-%d %H:%M UTC')
say "report (benchmark took ${elapsed}s)"
"$bin/bench_report" "$raw" "$out" results corio "date=$today" "machine=$machine" \
  "command=$command_line" "title=corio wakeup latency vs the raw floor, libuv and Go${quick:+ (quick run: few samples)}"
for n in "${notes[@]}"; do echo "note: $n"; done
if command -v gnuplot >/dev/null; then
  gnuplot "$out/results.gp" 2>"$out/gnuplot.log" || cat "$out/gnuplot.log"
else
  echo "note: gnuplot is not installed: no PNG (results.gp is there for later)"
fi

# ---- Wine ----
if [ $wine_run = 1 ]; then
  say "Windows build (mingw-w64) under Wine: Wine's figures, not Windows'"
  tc="$root/cmake/mingw-w64-x86_64.cmake"
  wraw="$out/raw-wine.tsv"
  : >"$wraw"
  if [ ! -f "$tc" ] || ! command -v wine >/dev/null; then
    echo "skipped: needs cmake/mingw-w64-x86_64.cmake and wine"
  elif ! mkdir -p "$wbuild" || ! cmake -S "$root" -B "$wbuild" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=Release \
        -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF >"$wbuild/bench-configure.log" 2>&1 \
      || ! ninja -C "$wbuild" -j2 bench_corio >"$wbuild/bench-build.log" 2>&1; then
    echo "skipped: the mingw build failed (see ${wbuild#$root/}/bench-configure.log and bench-build.log)"
    tail -20 "$wbuild/bench-build.log" 2>/dev/null
  else
    export WINEPREFIX="$wbuild/wineprefix" WINEDEBUG=-all
    mkdir -p "$WINEPREFIX"
    wineserver -p 2>/dev/null   # one persistent wineserver for the whole run
    wexe="$wbuild/bench/bench_corio.exe"
    wine "$wexe" yield_rt --quick >/dev/null 2>&1  # first start creates the prefix
    for i in "${!scenarios[@]}"; do
      sc=${scenarios[$i]}
      printf '[%d/%d] %s under Wine\n' $((i + 1)) ${#scenarios[@]} "${titles[$i]}" >&2
      dest=$wraw
      case $sc in
        echo_1p|echo_2p)
          run_one "$sc" corio-wine "$bin/bench_echo_client" "$sc" corio-wine $quick -- \
            wine "$wexe" echo-server "${sc:5:1}" ;;
        http_hello)
          printf 'SKIP\thttp_hello\tcorio-wine\tnot run under Wine (the example server is native only here)\n' >>"$dest" ;;
        *) run_one "$sc" corio-wine wine "$wexe" "$sc" $quick ;;
      esac
    done
    wineserver -k 2>/dev/null
    cat "$raw" "$wraw" >"$out/raw-wine-combined.tsv"
    "$bin/bench_report" "$out/raw-wine-combined.tsv" "$out" results-wine corio-wine "date=$today" \
      "machine=$machine, $(wine --version 2>/dev/null)" "command=$command_line" \
      "title=corio (mingw-w64 build) under Wine: Wine's figures, not Windows', vs native corio and peers" \
      targets=off
    rm -f "$out/raw-wine-combined.tsv"
    command -v gnuplot >/dev/null && { gnuplot "$out/results-wine.gp" 2>>"$out/gnuplot.log" || true; }
  fi
fi

# ---- the language rows ----
say "language rows: corio-lang vs corio's C, Node.js, Python asyncio, Go (scripts/bench-lang.sh)"
if [ -x "$build/lang/corio-lang" ]; then
  "$root/scripts/bench-lang.sh" "$build" "$out" $quick
else
  echo "skipped: corio-lang was not built"
fi

say "results"
files=(results.csv results.md results.png results-lang.md results-lang.csv)
[ $wine_run = 1 ] && files+=(results-wine.csv results-wine.md results-wine.png)
for f in "${files[@]}"; do
  [ -f "$out/$f" ] && echo "  ${out#$root/}/$f"
done
echo "  raw result lines: ${out#$root/}/raw.tsv$([ $wine_run = 1 ] && echo ", raw-wine.tsv")"

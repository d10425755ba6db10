#!/bin/sh
# Keep one wineserver alive for a test run, so that each test executable starts
# in milliseconds instead of half a second.
#
#   scripts/wine-session.sh start [build-dir]   # default build dir: build-mingw
#   scripts/wine-session.sh stop  [build-dir]
#
# The prefix is <build-dir>/wineprefix (the one scripts/wine-run.sh uses) unless
# WINEPREFIX is set. start creates and initialises the prefix on first use.
set -eu

usage() {
  echo "usage: $0 start|stop [build-dir]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
build=${2:-build-mingw}

if [ -z "${WINEPREFIX:-}" ]; then
  mkdir -p "$build"
  WINEPREFIX="$(cd "$build" && pwd -P)/wineprefix"
fi
export WINEPREFIX
export WINEDEBUG=-all

case "$cmd" in
  start)
    mkdir -p "$WINEPREFIX"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
      echo "wine-session: initialising $WINEPREFIX" >&2
      (
        flock 9
        if [ ! -f "$WINEPREFIX/system.reg" ]; then
          wineboot -i </dev/null >/dev/null 2>&1
          wineserver -w </dev/null >/dev/null 2>&1
        fi
      ) 9>"$WINEPREFIX.lock"
    fi
    # The persistent server, then the prefix's own processes (services.exe and
    # the services it starts) under it, started here with no stdio of ours:
    # otherwise the first test would start them, they would inherit its
    # output pipe and CTest would wait for that pipe to close until the
    # session ends. The server refuses to start twice for a prefix, fine.
    # Neither may hold our caller's pipes (a "| tee" would never finish).
    wineserver -p </dev/null >/dev/null 2>&1 || true
    wineboot </dev/null >/dev/null 2>&1
    ;;
  stop)
    if [ -d "$WINEPREFIX" ]; then
      wineserver -k </dev/null >/dev/null 2>&1 || true
      wineserver -w </dev/null >/dev/null 2>&1 || true
    fi
    ;;
  *)
    usage
    ;;
esac

#!/bin/sh
# Run a Windows executable under Wine; CTest's cross-compiling emulator for the
# mingw-w64 build (cmake/mingw-w64-x86_64.cmake). The exit code passes through
# (Wine reports the low 8 bits of the Windows exit code).
#
# WINEPREFIX defaults to <build dir>/wineprefix, the build dir being the nearest
# directory above the executable that holds a CMakeCache.txt, so that every
# build tree has its own prefix and scripts/wine-session.sh finds the same one.
# A missing prefix is created first (once, under a lock: CTest may run tests
# in parallel), quietly; that takes several seconds.
set -u

if [ $# -lt 1 ]; then
  echo "usage: $0 program.exe [args...]" >&2
  exit 2
fi

find_build_dir() {
  d=$(cd "$(dirname "$1")" 2>/dev/null && pwd -P) || d=$(pwd -P)
  while [ "$d" != "/" ]; do
    if [ -f "$d/CMakeCache.txt" ]; then
      echo "$d"
      return 0
    fi
    d=$(dirname "$d")
  done
  pwd -P
}

if [ -z "${WINEPREFIX:-}" ]; then
  WINEPREFIX="$(find_build_dir "$1")/wineprefix"
fi
export WINEPREFIX
export WINEDEBUG=-all

if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  (
    flock 9
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
      wineboot -i </dev/null >/dev/null 2>&1
    fi
  ) 9>"$WINEPREFIX.lock"
fi

exec wine "$@"

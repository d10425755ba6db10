#!/bin/sh
# usage: run.sh BUILD_DIR CONSUMER_SRC WORK_DIR CC VERSION LTO(ON|OFF)
set -eu
build=$1 src=$2 work=$3 cc=$4 version=$5 lto=$6
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/corio/corio.h"
ls "$prefix"/lib*/libcorio.a "$prefix"/lib*/libcorio.so >/dev/null

echo "== find_package(corio) =="
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer_static"
LD_LIBRARY_PATH=$(dirname "$(ls "$prefix"/lib*/libcorio.so)") "$work/cmake-build/consumer_shared"

echo "== pkg-config corio =="
PKG_CONFIG_PATH=$(dirname "$(ls "$prefix"/lib*/pkgconfig/corio.pc)")
export PKG_CONFIG_PATH
"$cc" -o "$work/consumer_pc" "$src/consumer.c" $(pkg-config --cflags corio) $(pkg-config --libs --static corio)
LD_LIBRARY_PATH=$(dirname "$(ls "$prefix"/lib*/libcorio.so)") "$work/consumer_pc"
echo "== shared library names =="
libdir=$(dirname "$(ls "$prefix"/lib*/libcorio.so)")
major=${version%%.*}
test -f "$libdir/libcorio.so.$version" && test ! -L "$libdir/libcorio.so.$version"
test "$(readlink "$libdir/libcorio.so.$major")" = "libcorio.so.$version"
test "$(readlink "$libdir/libcorio.so")" = "libcorio.so.$major"
readelf -d "$libdir/libcorio.so.$version" | grep -q "(SONAME).*\[libcorio.so.$major\]"
readelf -d "$work/cmake-build/consumer_shared" | grep -q "(NEEDED).*\[libcorio.so.$major\]"
echo "libcorio.so.$version, SONAME libcorio.so.$major"

echo "== static archive under -Wall -Wextra =="
flags="-O2 -Wall -Wextra -Werror"
[ "$lto" = ON ] && flags="$flags -flto"
# The archive by path (pkg-config's -lcorio would pick the shared library).
"$cc" $flags -o "$work/consumer_warn" "$src/consumer.c" $(pkg-config --cflags corio) \
  "$(ls "$prefix"/lib*/libcorio.a)" $(pkg-config --libs --static corio | sed 's/-lcorio//') \
  >"$work/warn.log" 2>&1 || { cat "$work/warn.log"; exit 1; }
if [ -s "$work/warn.log" ]; then cat "$work/warn.log"; exit 1; fi
"$work/consumer_warn"
echo "install consumers: ok"

#!/bin/sh
# usage: run.sh BUILD_DIR CONSUMER_SRC WORK_DIR CC
set -eu
build=$1 src=$2 work=$3 cc=$4
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
echo "install consumers: ok"

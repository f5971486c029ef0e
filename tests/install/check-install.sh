#!/usr/bin/env bash
# Installs memtide from a build tree into a scratch prefix, builds an engine
# against it with find_package and with pkg-config, and profiles that engine
# with the installed memtide (which must find its agent by itself).
set -euo pipefail
build_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/memtide"
test -f "$prefix/include/memtide/annotate.h"
agent=$(find "$prefix" -name libmemtide.so)
test -n "$agent"

cmake -S "$(dirname "$0")/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null

pc_dir=$(dirname "$(find "$prefix" -name memtide.pc)")
cflags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags memtide)
c++ -std=c++17 $cflags "$(dirname "$0")/consumer/consumer.cpp" -o "$work/consumer-pc"

# The memtide on PATH must not be the build tree's: run the installed copy.
out=$(MEMTIDE_QUIET=1 "$prefix/bin/memtide" run -o "$work/c.db" -- "$work/consumer/consumer")
test "$out" = "active=1" || { echo "unexpected output: $out"; exit 1; }
"$work/consumer-pc" | grep -qx "active=0"
"$prefix/bin/memtide" info "$work/c.db" | grep -q "scopes:         1, steps: 1"
echo "install check passed: $prefix"

#!/bin/sh
# build_example.sh <main-build-dir> <out-dir>
#
# Builds the SDK's example plugin (examples/plugin-echo) out of tree, the way a third party
# would: installs only the SDK from <main-build-dir> into a temporary prefix, configures the
# example against it with find_package(PorticoSDK), using the main build's compiler, build type
# and sanitizer setting (so the build signatures match), builds it, runs its own tests (written
# with the installed SDK's test kit, Portico::testkit), and leaves echo.so in <out-dir>
# (created if needed). Exits non-zero, with the failing step's output, on any error.
# The temporary prefix and build folder are removed afterwards.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 <main-build-dir> <out-dir>" >&2
  exit 2
fi
main_build=$(cd "$1" && pwd)
out_dir=$2
source_dir=$(cd "$(dirname "$0")/../../examples/plugin-echo" && pwd)
cmake=${CMAKE:-cmake}

cache_value() {
  sed -n "s/^$1:[A-Z]*=//p" "$main_build/CMakeCache.txt" | head -n 1
}
[ -f "$main_build/CMakeCache.txt" ] || { echo "$main_build is not a CMake build folder" >&2; exit 2; }
build_type=$(cache_value CMAKE_BUILD_TYPE)
compiler=$(cache_value CMAKE_CXX_COMPILER)
generator=$(cache_value CMAKE_GENERATOR)
sanitize=$(cache_value PORTICO_SANITIZE)

cxx_flags=""
link_flags=""
case "$sanitize" in
  ON|on|TRUE|true|1|YES|yes)
    cxx_flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    link_flags="-fsanitize=address,undefined" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/portico-example.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "== installing the SDK from $main_build into $work/prefix"
"$cmake" -DCMAKE_INSTALL_PREFIX="$work/prefix" -P "$main_build/sdk/cmake_install.cmake"

echo "== configuring $source_dir (${build_type:-no build type}, sanitizers ${sanitize:-OFF})"
"$cmake" -S "$source_dir" -B "$work/build" -G "${generator:-Unix Makefiles}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_CXX_COMPILER="$compiler" \
  -DCMAKE_CXX_FLAGS="$cxx_flags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$link_flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$link_flags"

echo "== building"
"$cmake" --build "$work/build"

echo "== the example's own tests, with the installed test kit"
[ -x "$work/build/echo_tests" ] || { echo "echo_tests was not built (GoogleTest missing?)" >&2; exit 1; }
ctest --test-dir "$work/build" --output-on-failure

mkdir -p "$out_dir"
cp "$work/build/echo.so" "$out_dir/echo.so"
echo "== $out_dir/echo.so"

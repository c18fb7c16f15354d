#!/usr/bin/env bash
# Configures and builds Portico. Usage: scripts/build.sh release|test [extra cmake args]
#   release: optimized, into build/release
#   test:    ASan + UBSan, debug info, into build/test
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
case "$kind" in
  release) dir=build/release; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  test) dir=build/test; args=(-DCMAKE_BUILD_TYPE=Debug -DPORTICO_SANITIZE=ON) ;;
  *) echo "usage: $0 release|test" >&2; exit 2 ;;
esac
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${generator[@]}" "${args[@]}" "$@"
fi
cmake --build "$dir" -j "$(nproc)"

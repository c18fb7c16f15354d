#!/usr/bin/env bash
# Store benchmark: deliveries/s (4 KiB, 100 accounts, durability on), metadata reads/s and the
# disk's raw fsync rate, from a Release build (build/release). Bounded: about 15 s of runs.
# Usage: bench/store/run.sh [seconds-per-phase=5] [threads=4] [accounts=100]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
threads=${2:-4}
accounts=${3:-100}
bash scripts/build.sh release >/dev/null
bin=build/release/bench/store/storebench
if [ ! -x "$bin" ]; then
  echo "storebench not built: bench/CMakeLists.txt needs add_subdirectory(store)" >&2
  exit 1
fi
# On the disk of the build folder (not a tmpfs), so fsync means what it means in production.
work=$(mktemp -d "$PWD/build/release/storebench.XXXXXX")
trap 'rm -rf "$work"' EXIT
timeout 60 "$bin" "$work" "$seconds" "$threads" "$accounts"

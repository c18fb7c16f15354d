#!/usr/bin/env bash
# Installs what is missing, builds with ASan + UBSan, and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh test
cd build/test
ctest --output-on-failure -j "$(nproc)" --timeout 600

#!/usr/bin/env bash
# Installs what is missing, builds, and runs Portico in the foreground on config/portico.yaml:
# loopback only, unprivileged ports. The example third-party plugin (examples/plugin-echo) is
# built against the installed SDK and dropped into the plugin folder, as an operator would.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
bash tests/plugins/build_example.sh build/release build/release/plugins >/dev/null
echo "starting: build/release/core/portico serve --config config/portico.yaml"
exec build/release/core/portico serve --config config/portico.yaml

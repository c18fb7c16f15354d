#!/usr/bin/env bash
# Installs what is missing, builds, and runs Portico in the foreground on config/portico.yaml:
# loopback only, unprivileged ports. The example third-party plugin (examples/plugin-echo) is
# built against the installed SDK and dropped into the plugin folder, as an operator would.
# On first start (no directory yet) it creates the demo domain `localhost` with the account
# demo@localhost (password "demo") and postmaster@localhost as an alias of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
bash tests/plugins/build_example.sh build/release build/release/plugins >/dev/null
portico=build/release/core/portico
config=config/portico.yaml
if [ ! -e data/directory.sqlite ]; then
  "$portico" domain add localhost --config "$config"
  printf 'demo\n' | "$portico" user add demo@localhost --name "Demo User" --password-stdin \
    --config "$config"
  "$portico" alias add postmaster@localhost demo@localhost --config "$config"
  echo "demo account: demo@localhost, password demo"
fi
echo "starting: $portico serve --config $config"
exec "$portico" serve --config "$config"

#!/usr/bin/env bash
# Core benchmark: connections accepted, greeted and closed per second, and resident memory per
# idle plain connection at 10,000 idle connections. Release build, the test line protocol
# (tests/plugins/lineproto) on loopback. Prints the figures recorded in BENCHMARKS.md.
# Usage: bench/core-bench.sh [seconds=10] [concurrency=50] [idle=10000]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
concurrency=${2:-50}
idle=${3:-10000}
bash scripts/build.sh release >/dev/null 2>&1
# 10,000 connections need as many descriptors on each side: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/portico.yaml" <<YAML
server:
  hostname: bench.test
  data_dir: data
  plugin_dir: $PWD/build/release/test-plugins/good
  log_level: warn
  metrics: {enabled: false}
plugins:
  lineproto:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $port, tls: none}]
    max_connections: 0
    max_connections_per_address: 0
    session_timeout_enabled: false
YAML
build/release/core/portico serve --config "$work/portico.yaml" 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
echo "## $(date -u +%Y-%m-%d) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
build/release/bench/connbench rate 127.0.0.1 "$port" "$seconds" "$concurrency"
build/release/bench/connbench idle 127.0.0.1 "$port" "$idle" "$pid"

#!/usr/bin/env bash
# fsyncs per message for mail to a remote recipient: portico's smtp-in (release build) relays
# for 127.0.0.1 into the queue (no smtp-out runs, so every message stays queued) under Postfix's
# smtp-source, and strace -f -c counts portico's fsync/fdatasync calls during the burst.
# Usage (needs /usr/sbin/smtp-source from Debian's postfix package, and strace):
#   bench/queue/smtp-remote.sh [messages=1000] [sessions=20] [length=4096]
# Everything lives in a temporary folder under build/release, removed at exit; portico is
# stopped by its own PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
messages=${1:-1000}
sessions=${2:-20}
length=${3:-4096}
smtp_source=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$smtp_source" ] || { echo "smtp-source (Debian package postfix) is needed" >&2; exit 1; }
command -v strace >/dev/null || { echo "strace is needed" >&2; exit 1; }
[ -x build/release/core/portico ] || bash scripts/build.sh release >/dev/null
bin=$PWD/build/release/core/portico
work=$(mktemp -d "$PWD/build/release/smtp-remote.XXXXXX")
pid=
strace_pid=
cleanup() {
  set +e
  [ -n "$strace_pid" ] && kill -INT "$strace_pid" 2>/dev/null && wait "$strace_pid" 2>/dev/null
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/portico.yaml" <<YAML
server:
  hostname: bench.test
  data_dir: data
  plugin_dir: $PWD/build/release/plugins
  log_level: warn
  control_socket: ctl.sock
  metrics: {enabled: false}
plugins:
  smtp-in:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $port, tls: none}]
    relay_whitelist: [127.0.0.1/32]
    max_connections: 0
    max_connections_per_address: 0
YAML
(cd "$work" && exec "$bin" serve --config "$work/portico.yaml" 2>"$work/log") &
pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
strace -qq -f -c -e trace=fsync,fdatasync -o "$work/strace.txt" -p "$pid" &
strace_pid=$!
sleep 1
start=$(date +%s.%N)
timeout 600 "$smtp_source" -s "$sessions" -m "$messages" -l "$length" -f sender@example.test \
  -t rcpt@remote.example -M client.bench.test "127.0.0.1:$port" >"$work/source.out" 2>&1
end=$(date +%s.%N)
kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
strace_pid=
queued=$("$bin" queue list --config "$work/portico.yaml" | tail -1)
echo "smtp-source -s $sessions -m $messages -l $length to rcpt@remote.example: $(python3 -c "print(f'{$messages / ($end - $start):.0f}')") msgs/s under strace; queue: $queued"
awk -v m="$messages" '$NF ~ /^(fsync|fdatasync)$/ {printf "  %-9s %7d calls = %.2f per message\n", $NF, $4, $4 / m}' "$work/strace.txt"

#!/usr/bin/env bash
# XMPP benchmark: messages routed per second between pairs of logged-in clients, and resident
# memory per idle logged-in connection, for portico's xmpp plugin (Release build) and, in the
# same run with the same accounts and the same load generator, a private Prosody from Debian
# (prosody 0.12) on another loopback port. Prints one row per round and server.
#
# Usage (as root, on a throwaway Debian 12 machine):
#   bench/xmpp/run.sh [clients=200] [messages=500] [rounds=3] [idle=1000]
#   bench/xmpp/run.sh 20 50 1 100        # a smoke run
#   PORTICO_ONLY=1 bench/xmpp/run.sh     # skip Prosody
#   ARCHIVE=1 bench/xmpp/run.sh          # portico keeps every message in its archive (XEP-0313;
#                                        # Prosody's configuration here has no archive)
#   BUILD_DIR=build-x JOBS=1 bench/xmpp/run.sh   # where the Release build goes
#   PORTICO_WRAP="heaptrack -o /tmp/x" PORTICO_ONLY=1 bench/xmpp/run.sh 2 10 1 1000  # profile
#   WEBSOCKET=1 bench/xmpp/run.sh        # every client over WebSocket (RFC 7395): portico's
#                                        # web chat listener against Prosody's mod_websocket
#
# The load generator is bench/xmpp/xmppload.py (python3 asyncio, one process, raw XMPP over
# plain TCP with SASL PLAIN: the same bytes for both servers; see its header). Routing: the
# clients log in (roster request, initial presence), then in pairs each sends `messages` chat
# messages of 100-octet bodies to its partner's bare JID, at most 50 unanswered per client;
# msgs/s = all messages received / the time from the first sent to the last received. Idle: `idle`
# clients log in and stay connected 10 s; per connection = (server RSS then - before the logins)
# / idle. Both servers: TLS off (Prosody: c2s_require_encryption = false,
# allow_unencrypted_plain_auth; portico: require_tls false, allow_plaintext_auth_without_tls),
# accounts load1..loadN@example.test with the password "secret" (Prosody: internal_plain files;
# portico: its directory with a sha512-crypt hash), no rate limits. Prosody's modules: roster,
# saslauth, disco, ping, carbons, blocklist, version, posix; no archive, no offline storage.
# Portico with archive off unless ARCHIVE=1, offline storage on (unused: every client is online).
#
# Installs prosody if missing (its system service is never started). Everything lives in a
# temporary folder, removed at exit, with both servers stopped by their own PIDs. The load
# generator runs under `timeout`. Both servers listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
clients=${1:-200}
messages=${2:-500}
rounds=${3:-3}
idle=${4:-1000}
build=${BUILD_DIR:-build/xmpp-release}
jobs=${JOBS:-$(nproc)}
domain=example.test
password=secret
accounts=$((clients > idle ? clients : idle))
archive=$([ -n "${ARCHIVE:-}" ] && echo true || echo false)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say() { printf '%s\n' "$*"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {  # port pid log
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    [ -n "$2" ] && ! kill -0 "$2" 2>/dev/null && break
    sleep 0.1
  done
  cat "$3" >&2 2>/dev/null || true
  return 1
}

if [ -z "${PORTICO_ONLY:-}" ] && ! command -v prosody >/dev/null; then
  say "installing prosody (its system service is not started) ..."
  policy=
  if ! [ -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prosody >/dev/null
  if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# --- the Release build --------------------------------------------------------------------------
build_log=$(mktemp)
if { [ -f "$build/CMakeCache.txt" ] ||
     cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTICO_TESTS=OFF; } \
     >"$build_log" 2>&1 &&
   cmake --build "$build" -j "$jobs" --target portico xmpp >>"$build_log" 2>&1; then
  rm -f "$build_log"
else
  echo "the release build failed ($build); its last lines:" >&2
  tail -20 "$build_log" >&2
  rm -f "$build_log"
  exit 1
fi
bin=$root/$build/core/portico
plugins=$root/$build/plugins

work=$(mktemp -d /var/tmp/xmppbench.XXXXXX)
chmod 755 "$work"
portico_pid=
prosody_pid=
cleanup() {
  [ -n "$portico_pid" ] && kill "$portico_pid" 2>/dev/null && wait "$portico_pid" 2>/dev/null
  [ -n "$prosody_pid" ] && kill "$prosody_pid" 2>/dev/null
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

# --- portico ------------------------------------------------------------------------------------
pport=$(free_port)
wport=$(free_port)
mkdir -p "$work/portico"
pcfg=$work/portico/portico.yaml
cat > "$pcfg" <<YAML
server:
  hostname: bench.test
  data_dir: $work/portico/data
  plugin_dir: $plugins
  log_level: warn
  control_socket: $work/portico/ctl.sock
  metrics: {enabled: false}
plugins:
  xmpp:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $pport, tls: none}]
    require_tls: false
    allow_plaintext_auth_without_tls: true
    archive: $archive
    max_connections: 0
    max_connections_per_address: 0
    web_chat_listeners: [http://127.0.0.1:$wport/xmpp-websocket]
    web_chat_considered_secure: true
YAML
hash=$(python3 -W ignore -c '
import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$password")
"$bin" domain add "$domain" --config "$pcfg" >/dev/null
say "creating $accounts accounts in portico's directory ..."
for i in $(seq 1 "$accounts"); do
  "$bin" user add "load$i@$domain" --password-hash "$hash" --config "$pcfg" >/dev/null
done
# PORTICO_WRAP: a command portico runs under (e.g. "heaptrack -o /tmp/xmpp.heaptrack").
read -r -a wrap <<<"${PORTICO_WRAP:-}"
(cd "$work/portico" && exec "${wrap[@]}" "$bin" serve --config "$pcfg" 2>"$work/portico/log") &
portico_pid=$!
wait_port "$pport" "$portico_pid" "$work/portico/log"

# --- Prosody ------------------------------------------------------------------------------------
if [ -z "${PORTICO_ONLY:-}" ]; then
  xport=$(free_port)
  hport=$(free_port)
  base=$work/prosody
  acc=$base/data/example%2etest/accounts
  mkdir -p "$acc" "$base/certs"
  cat > "$base/prosody.cfg.lua" <<CF
pidfile = "$base/prosody.pid"
data_path = "$base/data"
certificates = "$base/certs"
log = { warn = "$base/prosody.log" }
admins = { }
network_backend = "epoll"
modules_enabled = { "disco"; "roster"; "saslauth"; "blocklist"; "carbons"; "ping"; "version"; "posix"; "websocket"; }
modules_disabled = { "s2s"; "s2s_auth_certs"; "offline"; }
c2s_ports = { $xport }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
s2s_ports = { }
s2s_interfaces = { }
component_ports = { }
http_ports = { $hport }
http_interfaces = { "127.0.0.1" }
https_ports = { }
consider_websocket_secure = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
VirtualHost "$domain"
CF
  for i in $(seq 1 "$accounts"); do
    printf 'return {\n\t["password"] = "%s";\n};\n' "$password" > "$acc/load$i.dat"
  done
  chown -R prosody:prosody "$base"
  setpriv --reuid=prosody --regid=prosody --init-groups -- \
    prosody --config "$base/prosody.cfg.lua" -D >/dev/null 2>&1
  wait_port "$xport" "" "$base/prosody.log"
  for _ in $(seq 50); do [ -s "$base/prosody.pid" ] && break; sleep 0.1; done
  prosody_pid=$(cat "$base/prosody.pid")
fi

# WEBSOCKET=1: every client speaks XMPP over WebSocket (RFC 7395) to the web chat listener of
# portico and to Prosody's mod_websocket, instead of TCP.
load() {  # port pid args...
  local port=$1 pid=$2
  shift 2
  if [ -n "${WEBSOCKET:-}" ]; then
    if [ "$port" = "$pport" ]; then port=$wport; else port=$hport; fi
    set -- "$@" --websocket /xmpp-websocket
  fi
  # Debian's interpreter: it sees python3-websockets whatever else is first on the PATH.
  timeout 300 /usr/bin/python3 "$root/bench/xmpp/xmppload.py" --port "$port" --pid "$pid" "$@"
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" | head -1; }

say "clients $clients, $messages messages each, $rounds rounds; idle $idle; archive $archive"
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  order="portico prosody"
  [ $((r % 2)) = 0 ] && order="prosody portico"
  for server in $order; do
    if [ "$server" = portico ]; then port=$pport; pid=$portico_pid; else
      [ -n "${PORTICO_ONLY:-}" ] && continue
      port=$xport; pid=$prosody_pid
    fi
    out=$(load "$port" "$pid" --clients "$clients" --msgs "$messages")
    rate=$(echo "$out" | field msgs_per_s)
    got=$(echo "$out" | field received)
    errors=$(echo "$out" | field errors)
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    say "round $r $server: $rate msgs/s ($got received, $errors errors), peak RSS ${hwm} KiB," \
        "load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
if [ "$idle" -gt 0 ]; then
  for server in portico prosody; do
    if [ "$server" = portico ]; then port=$pport; pid=$portico_pid; else
      [ -n "${PORTICO_ONLY:-}" ] && continue
      port=$xport; pid=$prosody_pid
    fi
    out=$(load "$port" "$pid" --clients "$idle" --hold 10)
    say "idle $server: $(echo "$out" | grep -o 'idle_clients=.*')"
  done
fi

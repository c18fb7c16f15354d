#!/usr/bin/env bash
# POP3 benchmark: messages per second retrieved from portico's pop plugin (Release build) by
# parallel sessions, each logging in to its own account and RETRieving its whole 1000-message
# maildrop (pipelined, no DELE, then QUIT), and portico's memory under that load; in the same run
# the same load against a private Dovecot (Debian's dovecot-pop3d) serving the same messages
# from Maildirs on another loopback port; prints both, and the ratio.
#
# Usage (as root, on a throwaway Debian 12 machine):
#   bench/pop/run.sh [sessions=10] [rounds=5] [messages=1000] [size=mixed] [window=16]
#   bench/pop/run.sh 10 2           # a quick run
#   bench/pop/run.sh 10 5 1000 4096 # every message 4,096 octets
#   PORTICO_ONLY=1 bench/pop/run.sh # skip Dovecot
#   PERF=1 bench/pop/run.sh         # also print portico's CPU profile (perf record -g)
#   TLS=1 bench/pop/run.sh          # every session says STLS first: portico's listener is
#                                   # starttls, Dovecot has ssl = yes (a self-signed P-256 cert)
#   BUILD_DIR=build-x JOBS=1 bench/pop/run.sh  # where the Release build goes (default
#                                               # build/pop-release), with how many jobs
#
# Each of the `sessions` sessions uses its own account (POP3 locks a maildrop), holding the same
# `messages` messages (CRLF lines, some starting with "." so byte-stuffing is exercised) and
# retrieves them `rounds` times over, a new connection and login each time, with
# up to `window` RETR commands outstanding (both servers advertise PIPELINING). One untimed round
# first warms both up (accounts opened, Dovecot's index built). The load generator is
# bench/pop/popbench.cpp, the same for both servers; it prints its own CPU time. Both servers
# check the same sha512-crypt password hash at each login (portico's directory imports it).
# Messages: `size` "mixed" gives real-looking mail, 1-60 KB drawn from a log-normal law (median
# about 3 KB, 5 MB per maildrop), every fifth one multipart/mixed with a base64 attachment; a
# number gives messages of exactly that many octets, one text part.
#
# Memory: portico is one process. Its idle RSS is taken before the first session; its VmHWM is
# then reset (/proc/PID/clear_refs), so the VmHWM read after the timed rounds is the peak under
# the load (warm-up included), and the peak RSS per active session is (that peak - idle RSS) /
# sessions. Its RssAnon is sampled every 50 ms. Dovecot is a master with a process per login and
# per POP3 session (and auth, config, log, anvil, stats); its figures are the largest sums, over
# samples every 50 ms during the same rounds, of VmRSS and of PSS (proportional set size, from
# smaps_rollup: shared pages counted once) over all of the instance's processes.
#
# Installs dovecot-pop3d (its system service is never started: a policy-rc.d denies it during
# the install). Everything else lives in a temporary folder on the disk, removed at exit, with
# portico and the private Dovecot stopped by their own PIDs; each load run is bounded by
# `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
sessions=${1:-10}
rounds=${2:-5}
messages=${3:-1000}
size=${4:-mixed}
window=${5:-16}
build=${BUILD_DIR:-build/pop-release}
jobs=${JOBS:-$(nproc)}
domain=example.test
password='bench password'
if [ "$size" = mixed ]; then sizes="1-60 KB (mixed, some multipart)"; else sizes="$size octets"; fi
run_timeout=$((60 + sessions * rounds * messages / 500))  # seconds: generous, and still bounded

say() { printf '%s\n' "$*"; }
note() { printf 'note: %s\n' "$*" >&2; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {  # port pid log
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    [ -n "$2" ] && ! kill -0 "$2" 2>/dev/null && break
    sleep 0.1
  done
  cat "$3" >&2 2>/dev/null || true
  return 1
}
cpu_snapshot() { head -1 /proc/stat; }
cpu_busy() {  # percentage of all CPUs busy between two snapshots of /proc/stat's cpu line
  python3 - "$1" "$2" <<'PY'
import sys
a = [int(x) for x in sys.argv[1].split()[1:]]
b = [int(x) for x in sys.argv[2].split()[1:]]
d = [y - x for x, y in zip(a, b)]
total = sum(d[:8]) or 1
print(f"{100 * (total - d[3] - d[4]) / total:.0f}")
PY
}
# CPU seconds of a process and its reaped children, plus its live descendants.
tree_cpu() {
  python3 - "$1" <<'PY'
import os, sys
hz = os.sysconf("SC_CLK_TCK")
root = int(sys.argv[1])
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()
parent, total = {}, 0.0
for p in os.listdir("/proc"):
    if p.isdigit():
        try: parent[int(p)] = int(stat(p)[1])
        except OSError: pass
def under(pid):
    while pid > 1:
        if pid == root: return True
        pid = parent.get(pid, 0)
    return False
for pid in parent:
    if not under(pid): continue
    try: f = stat(pid)
    except OSError: continue
    total += (int(f[11]) + int(f[12])) / hz
    if pid == root: total += (int(f[13]) + int(f[14])) / hz
print(f"{total:.2f}")
PY
}

# --- Dovecot ------------------------------------------------------------------------------------
have_dovecot() { [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/pop3 ]; }
if [ -z "${PORTICO_ONLY:-}" ] && ! have_dovecot; then
  if [ "$(id -u)" = 0 ]; then
    say "installing dovecot-pop3d (its system service is not started) ..."
    policy=
    if ! [ -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-pop3d >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-pop3d >/dev/null 2>&1; } ||
      note "apt-get install dovecot-pop3d failed"
    if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    note "not root: cannot install dovecot-pop3d"
  fi
fi

# --- the Release build --------------------------------------------------------------------------
build_log=$(mktemp)
if { [ -f "$build/CMakeCache.txt" ] ||
     cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTICO_TESTS=OFF; } \
     >"$build_log" 2>&1 &&
   cmake --build "$build" -j "$jobs" >>"$build_log" 2>&1; then
  rm -f "$build_log"
else
  echo "the release build failed ($build); its last lines:" >&2
  tail -20 "$build_log" >&2
  rm -f "$build_log"
  exit 1
fi
bin=$root/$build/core/portico
plugins=$root/$build/plugins
popbench=$root/$build/bench/popbench
[ -n "$(ls "$plugins"/*pop* 2>/dev/null)" ] || { echo "no pop plugin in $plugins" >&2; exit 1; }
[ -x "$popbench" ] || { echo "popbench not built: bench/CMakeLists.txt" >&2; exit 1; }

# --- temporary folder, cleanup ------------------------------------------------------------------
# On the disk (/tmp is not a tmpfs here). 0755: Dovecot's processes (user nobody) walk into it.
work=$(mktemp -d /tmp/portico-popbench.XXXXXX)
chmod 755 "$work"
portico_pid=
dovecot_pid=
sampler_pid=
stop_pid() {  # pid: TERM, wait up to 10 s, KILL
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  set +e
  [ -n "$sampler_pid" ] && stop_pid "$sampler_pid"
  if [ -n "$portico_pid" ]; then stop_pid "$portico_pid"; wait "$portico_pid" 2>/dev/null; fi
  [ -n "$dovecot_pid" ] && stop_pid "$dovecot_pid"
  if [ -n "${KEEP_WORK:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fstype=$(stat -f -c %T "$work")

# --- the messages: one Maildir, copied into every account of both servers ------------------------
# Names carry S= and W= (size, and size with CRLF line ends: the same, the files use CRLF), as
# Dovecot's own deliveries do, so Dovecot need not read a file to learn its size.
python3 - "$work/maildir" "$messages" "$size" <<'PY'
import base64, os, random, sys
from email.utils import formatdate
root, count, size = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
rng = random.Random(1939)
people = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
words = ("mail message server client retrieve octets line header body dot stuffing meeting "
         "report budget schedule release queue deliver pipelining session maildrop").split()

def text(octets):  # CRLF lines of words, about `octets` long; 5 % start with "."
    lines, length = [], 0
    while length < octets:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12)))
        if rng.random() < 0.05:
            line = "." + line
        lines.append(line)
        length += len(line) + 2
    return "\r\n".join(lines) + "\r\n"

for i in range(1, count + 1):
    frm, to, cc = rng.sample(people, 3)
    date = formatdate(1700000000 + i * 97)
    head = (f"Return-Path: <{frm}@remote.test>\r\n"
            f"Received: from client.remote.test (client.remote.test [192.0.2.1])\r\n"
            f"\tby mx.example.test with ESMTP id {i:08x}; {date}\r\n"
            f"Message-ID: <{i}.{rng.randrange(10**9)}@remote.test>\r\n"
            f"Date: {date}\r\n"
            f"From: {frm.capitalize()} <{frm}@remote.test>\r\n"
            f"To: {to}@example.test\r\nCc: {cc}@example.test\r\n"
            f"Subject: message {i} {rng.choice(words)} {rng.choice(words)}\r\n"
            f"MIME-Version: 1.0\r\n")
    if size != "mixed":  # fixed size, one text part
        n = int(size)
        body = "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        data = (head + body + text(n))[: max(n, len(head + body))]
        data = data[:-2] + "\r\n" if not data.endswith("\r\n") else data
    else:
        # 1-60 KB, log-normal (median about 3 KB, a long tail up to 60 KB), as mail is;
        # every 5th message multipart/mixed: a text part of half its size, then a base64
        # attachment of about as much.
        n = max(1000, min(60000, int(rng.lognormvariate(8.0, 1.0))))
        if i % 5 == 0:
            att = base64.encodebytes(rng.randbytes(n // 3)).decode().replace("\n", "\r\n")
            body = (f"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
                    "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text(n // 2) +
                    f"--b{i}\r\nContent-Type: application/octet-stream\r\n"
                    f"Content-Disposition: attachment; filename=\"f{i}.bin\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" + att + f"--b{i}--\r\n")
        else:
            body = "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text(n - len(head) - 48)
        data = head + body
    data = data.encode()
    name = f"{1700000000 + i}.M{i}P1.bench,S={len(data)},W={len(data)}:2,"
    with open(os.path.join(root, "cur", name), "wb") as f:
        f.write(data)
PY
msg_octets=$(find "$work/maildir/cur" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
hash=$(python3 -W ignore -c '
import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$password")

# --- the memory sampler -------------------------------------------------------------------------
# sampler PID OUT: every 50 ms sums VmRSS, RssAnon and PSS over PID and its descendants, keeps
# the largest sums (and the process count at the largest RSS) in OUT; stops on TERM or after
# run_timeout seconds. Returns once the first sample is taken.
start_sampler() {
  python3 - "$1" "$2" "$run_timeout" <<'PY' &
import os, signal, sys, time
root, out, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
peak = {"rss": 0, "pss": 0, "anon": 0, "procs": 0}
def write(*_):
    with open(out, "w") as f:
        f.write(f"{peak['rss']} {peak['pss']} {peak['procs']} {peak['anon']}\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, write)
def field(path, name):
    with open(path) as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    return 0
end = time.monotonic() + limit
while time.monotonic() < end:
    parent = {}
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            parent[int(p)] = int(s[s.rindex(")") + 2:].split()[1])
        except OSError:
            pass
    rss = pss = anon = procs = 0
    for pid in parent:
        q = pid
        while q > 1 and q != root: q = parent.get(q, 0)
        if q != root: continue
        try:
            rss += field(f"/proc/{pid}/status", "VmRSS:")
            anon += field(f"/proc/{pid}/status", "RssAnon:")
            pss += field(f"/proc/{pid}/smaps_rollup", "Pss:")
            procs += 1
        except OSError:
            pass
    if rss > peak["rss"]: peak.update(rss=rss, procs=procs)
    peak["pss"] = max(peak["pss"], pss)
    peak["anon"] = max(peak["anon"], anon)
    if not os.path.exists(out + ".ready"):
        open(out + ".ready", "w").close()  # one sample taken: start_sampler returns
    time.sleep(0.05)
write()
PY
  sampler_pid=$!
  for _ in $(seq 200); do [ -e "$2.ready" ] && return 0; sleep 0.05; done
  note "the memory sampler did not start"
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=; }

# One load run against 127.0.0.1:$1 (label $2, server PID $3): the idle memory first (no session
# yet), an untimed warm-up round, then the timed rounds; the sampler runs over both. Sets out,
# busy, cpu, idle_rss, idle_pss, idle_anon, rss_peak, pss_peak, procs_peak, anon_peak (KiB).
load() {
  local port=$1 label=$2 pid=$3 rc=0 c0 c1 cpu0
  start_sampler "$pid" "$work/$label.idle"
  sleep 0.3
  stop_sampler
  read -r idle_rss idle_pss _ idle_anon < "$work/$label.idle"
  start_sampler "$pid" "$work/$label.mem"
  timeout "$run_timeout" "$popbench" 127.0.0.1 "$port" "$sessions" 1 "bench%d@$domain" \
    "$password" "$window" "$messages" >"$work/$label.warmup" 2>&1 ||
    note "$label: warm-up failed: $(tail -2 "$work/$label.warmup")"
  cpu0=$(tree_cpu "$pid")
  c0=$(cpu_snapshot)
  timeout "$run_timeout" "$popbench" 127.0.0.1 "$port" "$sessions" "$rounds" "bench%d@$domain" \
    "$password" "$window" "$messages" "$run_timeout" >"$work/$label.out" 2>&1 || rc=$?
  c1=$(cpu_snapshot)
  cpu=$(python3 -c "print(f'{$(tree_cpu "$pid") - $cpu0:.1f}')")
  stop_sampler
  busy=$(cpu_busy "$c0" "$c1")
  read -r rss_peak pss_peak procs_peak anon_peak < "$work/$label.mem"
  out=$(grep '^messages=' "$work/$label.out" || true)
  [ "$rc" = 0 ] || note "$label: popbench exited $rc: $(tail -3 "$work/$label.out")"
  return "$rc"
}
figure() { sed -E "s/.*\<$1=([^ ]+).*/\1/" <<<"$2"; }

# --- portico ------------------------------------------------------------------------------------
pport=$(free_port)
ptls=none
if [ -n "${TLS:-}" ]; then
  ptls=starttls
  export POPBENCH_STLS=1  # popbench: STLS after the greeting, for both servers
fi
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
  pop:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $pport, tls: $ptls}]
    allow_plaintext_auth_without_tls: true
    max_connections: 0
    max_connections_per_address: 0
YAML
"$bin" domain add "$domain" --config "$pcfg" >/dev/null
for i in $(seq 0 $((sessions - 1))); do
  "$bin" user add "bench$i@$domain" --password-hash "$hash" --config "$pcfg" >/dev/null
  "$bin" import --maildir "$work/maildir" --user "bench$i@$domain" --config "$pcfg" >/dev/null
done
(cd "$work/portico" && exec "$bin" serve --config "$pcfg" 2>"$work/portico/log") &
portico_pid=$!
wait_port "$pport" "$portico_pid" "$work/portico/log"
perf_pid=
if [ -n "${PERF:-}" ]; then
  perf record -q -F 999 -g -o "$work/perf.data" -p "$portico_pid" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 1
fi
p_rc=0
# VmHWM since start-up includes start-up's own peak; "5" in clear_refs sets it back to the
# current RSS (Linux 4.0), so the VmHWM read after the load is the load's peak.
p_start_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$portico_pid/status")
echo 5 > "/proc/$portico_pid/clear_refs" 2>/dev/null || note "cannot reset portico's VmHWM"
load "$pport" portico "$portico_pid" || p_rc=$?
p_out=$out p_busy=$busy p_cpu=$cpu p_pss=$pss_peak p_idle=$idle_rss p_idle_anon=$idle_anon
p_anon=$anon_peak p_rss=$rss_peak
p_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$portico_pid/status")
if [ -n "$perf_pid" ]; then
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
  perf report -i "$work/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1 \
    -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -E 's/[ -]+$//; s/ +/ /g' |
    cut -c1-140 | head -50 > "$work/perf.txt" || true
fi
p_errors=$(grep -c -E '^\S+Z (error|critical)' "$work/portico/log" || true)
stop_pid "$portico_pid"
wait "$portico_pid" 2>/dev/null || true
portico_pid=

# --- Dovecot ------------------------------------------------------------------------------------
d_status="not run"
if [ -n "${PORTICO_ONLY:-}" ]; then
  d_status="skipped (PORTICO_ONLY)"
elif [ "$(id -u)" != 0 ] || ! have_dovecot; then
  d_status="not set up (needs root and the dovecot-pop3d package)"
else
  dport=$(free_port)
  dv=$work/dovecot
  mkdir -p "$dv/run" "$dv/state" "$dv/home"
  uid=$(id -u nobody) gid=$(id -g nobody)
  : > "$dv/passwd"
  for i in $(seq 0 $((sessions - 1))); do
    mkdir -p "$dv/home/bench$i"
    cp -r "$work/maildir" "$dv/home/bench$i/Maildir"
    printf 'bench%s@%s:{CRYPT}%s:%s:%s::%s::\n' "$i" "$domain" "$hash" "$uid" "$gid" \
      "$dv/home/bench$i" >> "$dv/passwd"
  done
  chown -R nobody:nogroup "$dv/home"
  dssl="ssl = no"
  if [ -n "${TLS:-}" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench.test \
      -days 2 -keyout "$dv/key.pem" -out "$dv/cert.pem" >/dev/null 2>&1
    dssl=$(printf 'ssl = yes\nssl_cert = <%s\nssl_key = <%s' "$dv/cert.pem" "$dv/key.pem")
  fi
  # Dovecot's built-in defaults otherwise (as Debian ships it: a login process per connection,
  # a pop3 process per session), POP3 only, plaintext logins allowed on loopback.
  cat > "$dv/dovecot.conf" <<CONF
base_dir = $dv/run
state_dir = $dv/state
instance_name = popbench
protocols = pop3
listen = 127.0.0.1
$dssl
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = $dv/log
mail_location = maildir:~/Maildir
first_valid_uid = $uid
passdb {
  driver = passwd-file
  args = $dv/passwd
}
userdb {
  driver = passwd-file
  args = $dv/passwd
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
  if /usr/sbin/dovecot -c "$dv/dovecot.conf" >"$dv/start.log" 2>&1; then
    for _ in $(seq 50); do [ -s "$dv/run/master.pid" ] && break; sleep 0.1; done
    dovecot_pid=$(cat "$dv/run/master.pid" 2>/dev/null || true)
  fi
  if [ -z "$dovecot_pid" ] || ! wait_port "$dport" "$dovecot_pid" "$dv/log"; then
    d_status="not set up (dovecot did not start: $(tail -1 "$dv/start.log" "$dv/log" 2>/dev/null))"
  else
    d_rc=0
    load "$dport" dovecot "$dovecot_pid" || d_rc=$?
    d_out=$out d_busy=$busy d_cpu=$cpu d_rss=$rss_peak d_pss=$pss_peak d_procs=$procs_peak
    d_idle_pss=$idle_pss
    if [ "$d_rc" = 0 ]; then d_status=ok; else d_status="popbench exited $d_rc"; fi
  fi
fi

# --- report -------------------------------------------------------------------------------------
total=$((sessions * rounds * messages))
say "## pop benchmark $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
say "load: popbench, ${TLS:+STLS first, }$sessions parallel sessions × $rounds rounds × RETR of $messages messages of $sizes (CRLF; $msg_octets octets per maildrop), window $window pipelined RETRs, QUIT without DELE; $total messages per server after 1 untimed round; data on $fstype"
p_rate=$(figure rate "$p_out")
say "portico: ${p_rate:-?} msgs/s ($p_out; status $p_rc), CPU ${p_cpu}s = $(python3 -c "print(f'{1e6 * $p_cpu / $total:.0f}')") µs/msg; machine CPU busy ${p_busy}%; error lines in log: $p_errors"
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
per_session=$(python3 -c "print(f'{($p_hwm - $p_idle) / $sessions:.0f}')")
say "portico: idle RSS $(mib "$p_idle") MiB (RssAnon $(mib "$p_idle_anon") MiB); under the load peak RSS (VmHWM) $(mib "$p_hwm") MiB, peak RssAnon $(mib "$p_anon") MiB, peak PSS $(mib "$p_pss") MiB (sampled); start-up's VmHWM $(mib "$p_start_hwm") MiB"
say "portico: peak RSS per active session (VmHWM under the load - idle RSS) / $sessions = $per_session KiB"
if [ -s "$work/perf.txt" ]; then
  say "portico's CPU profile during the run (perf, self time, >= 1%):"
  sed 's/^/  /' "$work/perf.txt"
fi
if [ "$d_status" = ok ] || [ "${d_status#popbench}" != "$d_status" ]; then
  d_rate=$(figure rate "$d_out")
  say "dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1): ${d_rate:-?} msgs/s ($d_out; status: $d_status), CPU ${d_cpu}s = $(python3 -c "print(f'{1e6 * $d_cpu / $total:.0f}')") µs/msg; machine CPU busy ${d_busy}%"
  say "dovecot: peak RSS $(mib "$d_rss") MiB (sum of VmRSS over its $d_procs processes then), peak PSS $(mib "$d_pss") MiB (sum of smaps_rollup Pss over its processes); idle PSS $(mib "$d_idle_pss") MiB"
  if [ -n "$p_rate" ] && [ -n "$d_rate" ]; then
    ratio=$(python3 -c "print(f'{$p_rate / $d_rate:.2f}')")
    say "ratio portico/dovecot: $ratio (msgs/s); portico's peak RSS / dovecot's peak PSS: $(python3 -c "print(f'{$p_hwm / $d_pss:.2f}')")"
    say "row: portico ${p_rate} msg/s | dovecot ${d_rate} msg/s | ratio $ratio | portico peak RSS $(mib "$p_hwm") MiB (idle $(mib "$p_idle")), RssAnon $(mib "$p_anon") MiB | per session $per_session KiB | dovecot peak PSS $(mib "$d_pss") MiB"
  fi
else
  say "dovecot: $d_status — portico measured alone"
fi

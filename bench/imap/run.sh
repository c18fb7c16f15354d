#!/usr/bin/env bash
# IMAP benchmark: IMAP commands per second answered by portico's imap plugin (Release build) for
# parallel clients doing what mail clients do, checking every reply, and portico's memory under
# that load; in the same run the same load against a private Dovecot (Debian's dovecot-imapd)
# serving the same messages from Maildirs on another loopback port, the rounds alternating which
# server goes first; prints a row per round, both servers' figures, and the ratios.
#
# Usage (as root, on a throwaway Debian 12 machine):
#   bench/imap/run.sh [clients=10] [rounds=3] [messages=1000] [size=mixed] [sessions=20]
#   bench/imap/run.sh 2 1 100             # a smoke run
#   bench/imap/run.sh 10 5 1000 4096      # every message 4,096 octets
#   IDLE_CONNECTIONS=2000 bench/imap/run.sh 10 0   # only the idle-connection memory (no rounds)
#   IDLE_CONNECTIONS=2000 DOVECOT_IDLE_CONNECTIONS=500 bench/imap/run.sh   # rounds, then idle
#   PORTICO_ONLY=1 bench/imap/run.sh      # skip Dovecot
#   IDLE_TLS=1 IDLE_CONNECTIONS=2000 bench/imap/run.sh 10 0  # idle connections over TLS too
#   SEARCH_COST=1 bench/imap/run.sh 10 0  # what SEARCH BODY/TEXT/SUBJECT cost (search_cost.py)
#   IMAPBENCH_OPTS="fetches=5 per_login=4 idle_ms=20 shared=1" bench/imap/run.sh  # the mix
#   IMAPBENCH_OPTS=append_noop=1 bench/imap/run.sh  # NOOPs after APPEND until the server has
#                     # said EXISTS (for a server that does not say it in APPEND's reply)
#   ROUND_SECONDS=120 bench/imap/run.sh   # a round stops starting sessions after this (300)
#   BUILD_DIR=build-x JOBS=1 bench/imap/run.sh  # where the Release build goes (default
#                                                # build/imap-release), with how many jobs
#
# The load generator is bench/imap/imapbench.cpp, the same for both servers (see its header):
# each of `clients` clients logs in to its own account (shared=1: all to one), and `sessions`
# times per round does, one command at a time: LOGIN, SELECT INBOX, UID FETCH 1:* (UID FLAGS
# RFC822.SIZE), UID FETCH of 3 random messages' BODY.PEEK[HEADER] and of 3 others' BODY.PEEK[],
# UID STORE +FLAGS (\Seen), UID SEARCH UNSEEN, UID SEARCH SUBJECT, UID STORE -FLAGS (\Seen),
# APPEND (synchronizing literal), UID FETCH of the appended message, UID STORE +FLAGS.SILENT
# (\Deleted), UID EXPUNGE of it (the mailbox keeps its size), NOOP, IDLE/DONE, LOGOUT: 20
# commands a session. Every reply is checked (tagged OK, the untagged data expected, sizes,
# bodies and headers byte-identical to the messages loaded, APPENDUID, EXPUNGE, BYE); any error
# fails the run. One untimed session per client first warms both servers up (Dovecot builds its
# index and cache). Round r runs portico then Dovecot when r is odd, Dovecot then portico when
# it is even; both servers run during the whole benchmark, the one not under load idle.
# Messages: as bench/pop/run.sh: `size` "mixed" gives real-looking mail, 1-60 KB log-normal
# (median about 3 KB, 5 MB a mailbox), every fifth one multipart/mixed with a base64
# attachment; a number gives messages of exactly that many octets. Both servers check the same
# sha512-crypt password hash at each login.
#
# CPU: each server's CPU seconds over a round (Dovecot's: its master and live processes plus the
# reaped ones), imapbench's own, and "other": the machine's busy CPU seconds (/proc/stat) minus
# those two (loopback TCP softirq, and whatever else ran: the biggest other processes are named),
# with the load average at the end of the round.
# Memory: portico is one process. Its idle RSS is taken before the first session; its VmHWM is
# reset (/proc/PID/clear_refs) before each of its runs, so the VmHWM read after a run is that
# run's peak; the largest over the rounds is given. Dovecot is a master with a process per
# connection (and per login while logging in; auth, config, log, anvil, stats); its figures are
# the largest sums, over samples every 50 ms during its runs, of VmRSS and of PSS (from
# smaps_rollup: shared pages counted once) over all of the instance's processes.
# Idle connections (IDLE_CONNECTIONS=N): after the rounds, N connections (over the `clients`
# accounts) each LOGIN, SELECT INBOX and IDLE; with all idling, the server's RSS, RssAnon and
# PSS (Dovecot: sums over its processes) are read, and per connection = (that - before) / N.
# Dovecot gets DOVECOT_IDLE_CONNECTIONS (default N, at most 500: a process each). With
# IDLE_TLS=1, portico is also measured with N connections over implicit TLS (its development
# certificate; bench/imap/tls_idle.py, one asyncio process), after the plain ones have ended.
#
# Installs dovecot-imapd (its system service is never started: a policy-rc.d denies it during
# the install). Everything else lives in a temporary folder on the disk, removed at exit, with
# portico and the private Dovecot stopped by their own PIDs; each load run is bounded by
# `timeout`. Both servers listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
clients=${1:-10}
rounds=${2:-3}
messages=${3:-1000}
size=${4:-mixed}
sessions=${5:-20}
build=${BUILD_DIR:-build/imap-release}
jobs=${JOBS:-$(nproc)}
idle_n=${IDLE_CONNECTIONS:-0}
d_idle_n=${DOVECOT_IDLE_CONNECTIONS:-$((idle_n < 500 ? idle_n : 500))}
round_seconds=${ROUND_SECONDS:-300}
read -r -a bench_opts <<<"${IMAPBENCH_OPTS:-}"
domain=example.test
password='bench password'
if [ "$size" = mixed ]; then sizes="1-60 KB (mixed, some multipart)"; else sizes="$size octets"; fi
run_timeout=$((round_seconds + 60))  # seconds: imapbench stops starting sessions before
biggest=$((idle_n > d_idle_n ? idle_n : d_idle_n))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$biggest" -gt 0 ] && [ "$(ulimit -n)" -lt $((biggest + 200)) ]; then
  echo "ulimit -n is $(ulimit -n): too low for $biggest idle connections" >&2
  exit 1
fi

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

# --- Dovecot ------------------------------------------------------------------------------------
have_dovecot() { [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ]; }
if [ -z "${PORTICO_ONLY:-}" ] && ! have_dovecot; then
  if [ "$(id -u)" = 0 ]; then
    say "installing dovecot-imapd (its system service is not started) ..."
    policy=
    if ! [ -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null 2>&1; } ||
      note "apt-get install dovecot-imapd failed"
    if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    note "not root: cannot install dovecot-imapd"
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
imapbench=$root/$build/bench/imapbench
[ -n "$(ls "$plugins"/*imap* 2>/dev/null)" ] || { echo "no imap plugin in $plugins" >&2; exit 1; }
[ -x "$imapbench" ] || { echo "imapbench not built: bench/CMakeLists.txt" >&2; exit 1; }

# --- temporary folder, cleanup ------------------------------------------------------------------
# On the disk (/tmp is not a tmpfs here). 0755: Dovecot's processes (user nobody) walk into it.
work=$(mktemp -d /tmp/portico-imapbench.XXXXXX)
chmod 755 "$work"
portico_pid=
dovecot_pid=
sampler_pid=
idle_pid=
stop_pid() {  # pid: TERM, wait up to 10 s, KILL
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  set +e
  [ -n "$sampler_pid" ] && stop_pid "$sampler_pid"
  [ -n "$idle_pid" ] && stop_pid "$idle_pid"
  if [ -n "$portico_pid" ]; then stop_pid "$portico_pid"; wait "$portico_pid" 2>/dev/null; fi
  [ -n "$dovecot_pid" ] && stop_pid "$dovecot_pid"
  if [ -n "${KEEP_WORK:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fstype=$(stat -f -c %T "$work")

# --- measuring helpers (python, one file) -------------------------------------------------------
cat > "$work/measure.py" <<'PY'
import json, os, signal, sys, time
HZ = os.sysconf("SC_CLK_TCK")
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.index("(") + 1:s.rindex(")")], s[s.rindex(")") + 2:].split()
def parents():
    out = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try: out[int(p)] = int(stat(p)[1][1])
            except OSError: pass
    return out
def tree(root, parent):  # root and its descendants
    def under(pid):
        while pid > 1:
            if pid == root: return True
            pid = parent.get(pid, 0)
        return False
    return [pid for pid in parent if under(pid)]
def field(path, name):
    with open(path) as f:
        for line in f:
            if line.startswith(name): return int(line.split()[1])
    return 0
def mem(root):  # KiB summed over the tree: rss pss anon, and the process count
    rss = pss = anon = procs = 0
    for pid in tree(root, parents()):
        try:
            rss += field(f"/proc/{pid}/status", "VmRSS:")
            anon += field(f"/proc/{pid}/status", "RssAnon:")
            pss += field(f"/proc/{pid}/smaps_rollup", "Pss:")
            procs += 1
        except OSError: pass
    return rss, pss, anon, procs
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "busy":  # two /proc/stat cpu lines -> busy % of all CPUs, busy CPU seconds
    a = [int(x) for x in args[0].split()[1:]]
    b = [int(x) for x in args[1].split()[1:]]
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8]) or 1
    print(f"{100 * (total - d[3] - d[4]) / total:.0f} {(total - d[3] - d[4]) / HZ:.2f}")
elif cmd == "treecpu":  # CPU seconds of a process, its reaped children and live descendants
    root = int(args[0]); total = 0.0
    for pid in tree(root, parents()):
        try: f = stat(pid)[1]
        except OSError: continue
        total += (int(f[11]) + int(f[12])) / HZ
        if pid == root: total += (int(f[13]) + int(f[14])) / HZ
    print(f"{total:.2f}")
elif cmd == "treemem":
    print(*mem(int(args[0])))
elif cmd == "procsnap":  # every process's CPU ticks, to compare with later
    snap = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                name, f = stat(p)
                snap[p] = [name, int(f[11]) + int(f[12]), f[19]]
            except OSError: pass
    with open(args[0], "w") as f: json.dump(snap, f)
elif cmd == "others":  # SNAP ROOT...: the 3 biggest CPU users since SNAP, outside the ROOT trees
    with open(args[0]) as f: snap = json.load(f)
    parent = parents()
    skip = {os.getpid(), os.getppid()}
    for r in args[1:]: skip.update(tree(int(r), parent))
    by = {}
    for pid in parent:
        if pid in skip: continue
        try: name, f = stat(pid)
        except OSError: continue
        old = snap.get(str(pid))
        ticks = int(f[11]) + int(f[12]) - (old[1] if old and old[2] == f[19] else 0)
        if ticks > 0: by[name] = by.get(name, 0) + ticks
    top = sorted(by.items(), key=lambda kv: -kv[1])[:3]
    print(", ".join(f"{n} {t / HZ:.1f}s" for n, t in top) or "none")
elif cmd == "sample":  # ROOT OUT LIMIT: peak sums every 50 ms until TERM
    root, out, limit = int(args[0]), args[1], float(args[2])
    peak = {"rss": 0, "pss": 0, "anon": 0, "procs": 0}
    def write(*_):
        with open(out, "w") as f:
            f.write(f"{peak['rss']} {peak['pss']} {peak['procs']} {peak['anon']}\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, write)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        rss, pss, anon, procs = mem(root)
        if rss > peak["rss"]: peak.update(rss=rss, procs=procs)
        peak["pss"] = max(peak["pss"], pss)
        peak["anon"] = max(peak["anon"], anon)
        if not os.path.exists(out + ".ready"): open(out + ".ready", "w").close()
        time.sleep(0.05)
    write()
PY
measure() { python3 "$work/measure.py" "$@"; }
calc() { python3 -c "print($1)"; }
start_sampler() {  # pid out
  python3 "$work/measure.py" sample "$1" "$2" "$run_timeout" &  # not via a function: its PID
  sampler_pid=$!
  for _ in $(seq 200); do [ -e "$2.ready" ] && return 0; sleep 0.05; done
  note "the memory sampler did not start"
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=; }

# --- the messages: one Maildir, copied into every account of both servers ------------------------
# Names carry S= and W= (size, and size with CRLF line ends: the same, the files use CRLF), as
# Dovecot's own deliveries do, so Dovecot need not read a file to learn its size. The same
# messages as bench/pop/run.sh (Subject "message N word word", a unique Message-ID each).
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

# --- portico ------------------------------------------------------------------------------------
pport=$(free_port)
ptport=$(free_port)
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
  imap:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $pport, tls: none}, {address: 127.0.0.1, port: $ptport, tls: implicit}]
    allow_plaintext_auth_without_tls: true
    enable_idle: true
    max_connections: 0
    max_connections_per_address: 0
YAML
"$bin" domain add "$domain" --config "$pcfg" >/dev/null
for i in $(seq 0 $((clients - 1))); do
  "$bin" user add "bench$i@$domain" --password-hash "$hash" --config "$pcfg" >/dev/null
  "$bin" import --maildir "$work/maildir" --user "bench$i@$domain" --config "$pcfg" >/dev/null
done
(cd "$work/portico" && exec "$bin" serve --config "$pcfg" 2>"$work/portico/log") &
portico_pid=$!
wait_port "$pport" "$portico_pid" "$work/portico/log"
p_start_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$portico_pid/status")

# --- Dovecot ------------------------------------------------------------------------------------
d_status="not run"
if [ -n "${PORTICO_ONLY:-}" ]; then
  d_status="skipped (PORTICO_ONLY)"
elif [ "$(id -u)" != 0 ] || ! have_dovecot; then
  d_status="not set up (needs root and the dovecot-imapd package)"
else
  dport=$(free_port)
  dv=$work/dovecot
  mkdir -p "$dv/run" "$dv/state" "$dv/home"
  uid=$(id -u nobody) gid=$(id -g nobody)
  : > "$dv/passwd"
  for i in $(seq 0 $((clients - 1))); do
    mkdir -p "$dv/home/bench$i"
    cp -r "$work/maildir" "$dv/home/bench$i/Maildir"
    printf 'bench%s@%s:{CRYPT}%s:%s:%s::%s::\n' "$i" "$domain" "$hash" "$uid" "$gid" \
      "$dv/home/bench$i" >> "$dv/passwd"
  done
  chown -R nobody:nogroup "$dv/home"
  # Dovecot's built-in defaults otherwise (as Debian ships it: a login process per connection,
  # an imap process per session), IMAP only, plaintext logins allowed on loopback; only the
  # limits raised that the idle connections (and a shared account) would hit.
  d_procs=$((d_idle_n + clients + 100))
  cat > "$dv/dovecot.conf" <<CONF
base_dir = $dv/run
state_dir = $dv/state
instance_name = imapbench
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $dv/log
mail_location = maildir:~/Maildir
first_valid_uid = $uid
mail_max_userip_connections = 10000
default_client_limit = $((2 * d_procs + 1000))
passdb {
  driver = passwd-file
  args = $dv/passwd
}
userdb {
  driver = passwd-file
  args = $dv/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = $((d_procs > 1024 ? d_procs : 1024))
}
protocol imap {
  mail_max_userip_connections = 10000
}
CONF
  if /usr/sbin/dovecot -c "$dv/dovecot.conf" >"$dv/start.log" 2>&1; then
    for _ in $(seq 50); do [ -s "$dv/run/master.pid" ] && break; sleep 0.1; done
    dovecot_pid=$(cat "$dv/run/master.pid" 2>/dev/null || true)
  fi
  if [ -z "$dovecot_pid" ] || ! wait_port "$dport" "$dovecot_pid" "$dv/log"; then
    d_status="not set up (dovecot did not start: $(tail -1 "$dv/start.log" "$dv/log" 2>/dev/null))"
    dovecot_pid=
  else
    d_status=ok
    d_version=$(/usr/sbin/dovecot --version | cut -d' ' -f1)
  fi
fi

# --- the load -----------------------------------------------------------------------------------
# One run of imapbench against server $1 (portico|dovecot) with $2 sessions per client. Sets
# out, by, rc, cpu, ccpu (imapbench's), busy (%), other (CPU s), others (biggest), rss_peak,
# pss_peak, procs_peak, anon_peak (KiB; portico: rss_peak is the run's VmHWM), loadavg.
run_load() {
  local server=$1 n=$2 port pid c0 c1 cpu0 label="$1.$3"
  if [ "$server" = portico ]; then port=$pport pid=$portico_pid; else port=$dport pid=$dovecot_pid; fi
  [ "$server" = portico ] && { echo 5 > "/proc/$pid/clear_refs" 2>/dev/null ||
    note "cannot reset portico's VmHWM"; }
  start_sampler "$pid" "$work/$label.mem"
  measure procsnap "$work/$label.procs"
  cpu0=$(measure treecpu "$pid")
  c0=$(head -1 /proc/stat)
  rc=0
  timeout "$run_timeout" "$imapbench" 127.0.0.1 "$port" "$clients" "$n" "bench%d@$domain" \
    "$password" "$work/maildir" "seconds=$round_seconds" "seed=$3" "${bench_opts[@]}" \
    >"$work/$label.out" 2>&1 || rc=$?
  c1=$(head -1 /proc/stat)
  cpu=$(calc "f'{$(measure treecpu "$pid") - $cpu0:.1f}'")
  others=$(measure others "$work/$label.procs" "$portico_pid" ${dovecot_pid:+"$dovecot_pid"})
  loadavg=$(cut -d' ' -f1 /proc/loadavg)
  stop_sampler
  read -r busy busy_s < <(measure busy "$c0" "$c1")
  read -r rss_peak pss_peak procs_peak anon_peak < "$work/$label.mem"
  if [ "$server" = portico ]; then rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status"); fi
  out=$(grep '^commands=' "$work/$label.out" || true)
  by=$(sed -n 's/^by_command (count\/mean latency)://p' "$work/$label.out")
  ccpu=$(figure client_cpu "$out")
  other=$(calc "f'{$busy_s - $cpu - ${ccpu:-0}:.1f}'")
  if [ "$rc" != 0 ]; then
    note "$server: imapbench exited $rc:"
    grep -v '^by_command' "$work/$label.out" | tail -12 | sed 's/^/  /' >&2
  fi
  return 0
}
figure() { sed -nE "s/.*\<$1=([^ ]+).*/\1/p" <<<"$2"; }
servers=(portico)
[ "$d_status" = ok ] && servers+=(dovecot)

# Idle memory, before any session.
read -r p_idle _ p_idle_anon _ < <(measure treemem "$portico_pid")
[ "$d_status" = ok ] && read -r _ d_idle_pss _ d_idle_procs < <(measure treemem "$dovecot_pid")

failed=0
declare -A rate commands rssmax pssmax anonmax procsmax byc
for s in "${servers[@]}"; do rssmax[$s]=0 pssmax[$s]=0 anonmax[$s]=0 procsmax[$s]=0; done
if [ "$rounds" -gt 0 ]; then
  for s in "${servers[@]}"; do  # warm-up: one session per client, untimed
    run_load "$s" 1 0
    if [ "$rc" != 0 ]; then failed=1; note "$s: the warm-up failed"; fi
    rssmax[$s]=$rss_peak pssmax[$s]=$pss_peak anonmax[$s]=$anon_peak procsmax[$s]=$procs_peak
  done
fi
say "## imap benchmark $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "load: imapbench, $clients clients (own accounts${IMAPBENCH_OPTS:+; $IMAPBENCH_OPTS}) × $sessions sessions a round (LOGIN ... LOGOUT, 20 commands, every reply checked) × $rounds rounds, after 1 untimed session per client; $messages messages of $sizes a mailbox ($msg_octets octets); data on $fstype; portico $pport, dovecot ${d_version:-(none)} ${dport:-}; dovecot: $d_status"
[ "$rounds" -gt 0 ] &&
  printf '%-5s %-8s %-8s %9s %9s %7s %9s %9s %8s %6s %6s  %s\n' round first server "cmds/s" \
    "sess/s" "srv CPU" "µs/cmd" "bench CPU" "other" "busy" "load1" "other processes"
for r in $(seq 1 "$rounds"); do
  order=("${servers[@]}")
  if [ $((r % 2)) = 0 ] && [ "${#servers[@]}" = 2 ]; then order=(dovecot portico); fi
  for s in "${order[@]}"; do
    run_load "$s" "$sessions" "$r"
    k="$s.$r"
    rate[$k]=$([ "$rc" = 0 ] && figure rate "$out") commands[$k]=$(figure commands "$out")
    byc[$s]=$by
    [ "$rc" = 0 ] || failed=1
    [ "$rss_peak" -gt "${rssmax[$s]}" ] && rssmax[$s]=$rss_peak procsmax[$s]=$procs_peak
    [ "$pss_peak" -gt "${pssmax[$s]}" ] && pssmax[$s]=$pss_peak
    [ "$anon_peak" -gt "${anonmax[$s]}" ] && anonmax[$s]=$anon_peak
    percmd=$(calc "f'{1e6 * $cpu / max(1, ${commands[$k]:-0}):.0f}'")
    printf '%-5s %-8s %-8s %9s %9s %7ss %9s %8ss %7ss %5s%% %6s  %s\n' "$r" "${order[0]}" "$s" \
      "${rate[$k]:-FAIL}" "$(figure session_rate "$out")" "$cpu" "$percmd" "${ccpu:-?}" \
      "$other" "$busy" "$loadavg" "$others"
  done
  if [ "${#servers[@]}" = 2 ] && [ -n "${rate[portico.$r]}" ] && [ -n "${rate[dovecot.$r]}" ]; then
    say "      round $r ratio portico/dovecot: $(calc "f'{${rate[portico.$r]} / ${rate[dovecot.$r]}:.2f}'")"
  fi
done

# --- idle connections ---------------------------------------------------------------------------
# Sets idle_line, mem_before (rss pss anon procs), mem_with, for server $1 with $2 connections.
idle_measure() {
  local server=$1 n=$2 pid port
  case $server in
    portico) port=$pport pid=$portico_pid ;;
    portico-tls) port=$ptport pid=$portico_pid ;;
    *) port=$dport pid=$dovecot_pid ;;
  esac
  mem_before=$(measure treemem "$pid")
  if [ "$server" = portico-tls ]; then
    python3 "$root/bench/imap/tls_idle.py" 127.0.0.1 "$port" "$n" "$clients" "bench%d@$domain" \
      "$password" $((run_timeout)) >"$work/idle.$server" 2>&1 &
  else
    "$imapbench" 127.0.0.1 "$port" "$clients" 1 "bench%d@$domain" "$password" "$work/maildir" \
      "idle=$n" hold=$((run_timeout)) "${bench_opts[@]}" >"$work/idle.$server" 2>&1 &
  fi
  idle_pid=$!
  for _ in $(seq $((run_timeout * 10))); do
    grep -q '^ready' "$work/idle.$server" && break
    kill -0 "$idle_pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 2  # let the server settle
  mem_with=$(measure treemem "$pid")
  kill -USR1 "$idle_pid" 2>/dev/null || true
  local irc=0
  wait "$idle_pid" || irc=$?
  idle_pid=
  idle_line="$(grep '^ready' "$work/idle.$server" || true); $(grep '^idle' "$work/idle.$server" || true)"
  if [ "$irc" != 0 ]; then
    failed=1
    note "$server: idle imapbench exited $irc: $(grep -v '^ready\|^idle' "$work/idle.$server" | tail -5)"
  fi
}
idle_report() {  # server n
  local rb pb ab pcb rw pw aw pcw
  read -r rb pb ab pcb <<<"$mem_before"
  read -r rw pw aw pcw <<<"$mem_with"
  say "$1: $2 idle connections (LOGIN, SELECT INBOX, IDLE): RSS $(mib "$rb") -> $(mib "$rw") MiB, PSS $(mib "$pb") -> $(mib "$pw") MiB, RssAnon $(mib "$ab") -> $(mib "$aw") MiB ($pcb -> $pcw processes); per connection: RSS $(calc "f'{($rw - $rb) / $2:.1f}'") KiB, PSS $(calc "f'{($pw - $pb) / $2:.1f}'") KiB, RssAnon $(calc "f'{($aw - $ab) / $2:.1f}'") KiB [$idle_line]"
}
mib() { calc "f'{$1 / 1024:.1f}'"; }

# --- report -------------------------------------------------------------------------------------
summary() {  # server: mean and median of the rounds' rates
  local s=$1 v=()
  for r in $(seq 1 "$rounds"); do [ -n "${rate[$s.$r]:-}" ] && v+=("${rate[$s.$r]}"); done
  [ "${#v[@]}" -gt 0 ] || { echo "? ?"; return; }
  calc "(lambda v: f'{sum(v) / len(v):.0f} {sorted(v)[len(v) // 2]:.0f}')([${v[*]/%/,}])"
}
if [ "$rounds" -gt 0 ]; then
  read -r p_mean p_median < <(summary portico)
  say "portico: mean ${p_mean} cmds/s, median ${p_median} over $rounds rounds; by command (last round: count/mean latency):${byc[portico]:-}"
  say "portico: idle RSS $(mib "$p_idle") MiB (RssAnon $(mib "$p_idle_anon") MiB); under the load peak RSS (VmHWM, largest of the runs) $(mib "${rssmax[portico]}") MiB, peak RssAnon $(mib "${anonmax[portico]}") MiB, peak PSS $(mib "${pssmax[portico]}") MiB (sampled); start-up's VmHWM $(mib "$p_start_hwm") MiB; peak RSS per client (peak - idle) / $clients = $(calc "f'{(${rssmax[portico]} - $p_idle) / $clients:.0f}'") KiB; error lines in its log: $(grep -c -E '^\S+Z (error|critical)' "$work/portico/log" || true)"
  if [ "$d_status" = ok ]; then
    read -r d_mean d_median < <(summary dovecot)
    say "dovecot $d_version: mean ${d_mean} cmds/s, median ${d_median}; by command (last round):${byc[dovecot]:-}"
    say "dovecot: idle PSS $(mib "$d_idle_pss") MiB ($d_idle_procs processes); under the load peak RSS $(mib "${rssmax[dovecot]}") MiB (sum of VmRSS over its ${procsmax[dovecot]} processes then), peak PSS $(mib "${pssmax[dovecot]}") MiB (sum of smaps_rollup Pss)"
    if [ "$p_mean" != "?" ] && [ "$d_mean" != "?" ]; then
      ratio=$(calc "f'{$p_mean / $d_mean:.2f}'")
      say "ratio portico/dovecot: $ratio (mean cmds/s), $(calc "f'{$p_median / $d_median:.2f}'") (median); memory: portico's peak RSS / dovecot's peak PSS $(calc "f'{${rssmax[portico]} / ${pssmax[dovecot]}:.2f}'")"
      say "row: portico ${p_mean} cmds/s | dovecot ${d_mean} cmds/s | ratio $ratio | portico peak RSS $(mib "${rssmax[portico]}") MiB (idle $(mib "$p_idle")) | dovecot peak PSS $(mib "${pssmax[dovecot]}") MiB, RSS sum $(mib "${rssmax[dovecot]}") MiB"
    fi
  else
    say "dovecot: $d_status — portico measured alone"
  fi
fi
if [ -n "${SEARCH_COST:-}" ]; then
  say "portico: $(python3 "$root/bench/imap/search_cost.py" 127.0.0.1 "$pport" "bench0@$domain" "$password" 2>&1 | tail -1)"
  [ "$d_status" = ok ] &&
    say "dovecot: $(python3 "$root/bench/imap/search_cost.py" 127.0.0.1 "$dport" "bench0@$domain" "$password" 2>&1 | tail -1)"
fi
if [ "$idle_n" -gt 0 ]; then
  idle_measure portico "$idle_n"
  idle_report portico "$idle_n"
  if [ -n "${IDLE_TLS:-}" ]; then
    idle_measure portico-tls "$idle_n"
    idle_report "portico over TLS" "$idle_n"
  fi
  if [ "$d_status" = ok ] && [ "$d_idle_n" -gt 0 ]; then
    idle_measure dovecot "$d_idle_n"
    idle_report dovecot "$d_idle_n"
  fi
fi
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$failed" != 0 ]; then
  say "FAILED: some imapbench run found a wrong reply or an error (see the notes above)"
  exit 1
fi

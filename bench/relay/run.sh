#!/usr/bin/env bash
# Relay benchmark: messages per second through portico end to end — smtp-source sends to
# smtp-in, which queues them durably for a routed remote domain, and smtp-out delivers them to
# Postfix's smtp-sink — from the first byte sent until the sink has received the last message;
# and in the same run the same load through a private Postfix instance (Debian's package)
# relaying to the same kind of sink. Also each server's peak memory, its disk writes and flushes
# per message, and how many connections it opened to the sink.
#
# Usage (as root, on a throwaway Debian 12 machine):
#   bench/relay/run.sh [messages=5000] [sessions=20] [length=4096]
#   PORTICO_ONLY=1 bench/relay/run.sh 1000
#   BENCH_DIR=/mnt/x bench/relay/run.sh  # the temporary folder (queues, spools) under /mnt/x
#                                        # instead of /tmp: another file system
#   BUSY=1 bench/relay/run.sh 2000   # instead: smtp-in's local acceptance rate alone, then
#                                    # while 50 slow deliveries hold smtp-out's threads
#
# Nothing acknowledged before it is durable: portico answers 250 once the message is in its
# queue (fsync'd), Postfix once its queue file is. Everything lives in a temporary folder on the
# disk, removed at exit; the servers are stopped by their own PIDs; every run is bounded by
# `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
messages=${1:-5000}
sessions=${2:-20}
length=${3:-4096}
run_timeout=$((120 + messages / 5))
sender=sender@bench.test

say() { printf '%s\n' "$*"; }
note() { printf 'note: %s\n' "$*" >&2; }
now() { date +%s.%N; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
[ "$(id -u)" = 0 ] || { echo "run as root (postfix, smtp-sink)" >&2; exit 1; }
bash scripts/deps.sh >/dev/null
smtp_source=/usr/sbin/smtp-source
smtp_sink=/usr/sbin/smtp-sink
build_log=$(mktemp)
if ! bash scripts/build.sh release >"$build_log" 2>&1; then
  tail -20 "$build_log" >&2
  exit 1
fi
rm -f "$build_log"
bin=$root/build/release/core/portico
plugins=$root/build/release/plugins

work=$(mktemp -d "${BENCH_DIR:-/tmp}/portico-relaybench.XXXXXX")
chmod 755 "$work"
chattr +T "$work" 2>/dev/null || true
pids=()
postfix_etc=
cleanup() {
  set +e
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  if [ -n "$postfix_etc" ]; then postfix -c "$postfix_etc" stop >/dev/null 2>&1; fi
  if [ -n "${KEEP_WORK:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A sink that exits once it has received `count` messages; its PID in sink_pid.
start_sink() {
  local port=$1 count=$2 shift_args=("${@:3}")
  "$smtp_sink" -u nobody -M "$count" "${shift_args[@]}" "127.0.0.1:$port" 256 \
    >"$work/sink.$port.log" 2>&1 &
  sink_pid=$!
  pids+=("$sink_pid")
  wait_port "$port" || { echo "smtp-sink did not start" >&2; exit 1; }
}
# Peak of the sum of a process tree's PSS (kB), sampled every 0.2 s while $1 lives.
sample_pss() {
  local stop_pid=$1 out=$2; shift 2
  python3 - "$stop_pid" "$out" "$@" <<'PY' &
import os, sys, time
stop, out, roots = int(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
def tree(pids):
    seen, todo = set(), list(pids)
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except OSError:
                pass
    while todo:
        p = todo.pop()
        if p in seen: continue
        seen.add(p); todo.extend(children.get(p, []))
    return seen
def pss(p):
    try:
        for line in open(f"/proc/{p}/smaps_rollup"):
            if line.startswith("Pss:"): return int(line.split()[1])
    except OSError:
        return 0
    return 0
peak = 0
while os.path.exists(f"/proc/{stop}"):
    peak = max(peak, sum(pss(p) for p in tree(roots)))
    time.sleep(0.2)
open(out, "w").write(str(peak))
PY
}

# Write requests and cache flushes the disk under the work folder has completed so far
# (/proc/diskstats fields 8 and 19): every process's, so a run counts its neighbours' too.
disk_counts() {
  local dev
  dev=$(basename "$(findmnt -no SOURCE --target "$work" 2>/dev/null)" 2>/dev/null)
  awk -v d="$dev" '$3 == d { print $8, $19; found = 1 } END { if (!found) print 0, 0 }' \
    /proc/diskstats
}

# TCP connections this machine has opened so far (/proc/net/snmp, Tcp ActiveOpens): every
# process's, so a run counts its neighbours' too.
active_opens() {
  awk '$1 == "Tcp:" { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ActiveOpens") c = i; h = 1 }
                      else print $c }' /proc/net/snmp
}

relay_run() {  # relay_run LABEL SMTPD_PORT SINK_PORT ROOT_PIDS...: sets r_elapsed, r_rc, r_pss,
  # r_disk ("W writes, F flushes" per message, from the first byte sent to the last message),
  # r_out (connections the server opened to the sink: the machine's new ones less the load's)
  local label=$1 port=$2 sport=$3; shift 3
  start_sink "$sport" "$((messages + 1))"
  timeout 60 "$smtp_source" -s 1 -m 1 -l "$length" -f "$sender" -t "rcpt@relay.test" \
    -M client.bench.test "127.0.0.1:$port" >"$work/$label.warmup" 2>&1 || note "$label warm-up failed"
  sample_pss "$sink_pid" "$work/$label.pss" "$@"
  local t0 t1 d0 d1
  d0=$(disk_counts)
  local o0
  o0=$(active_opens)
  t0=$(now)
  r_rc=0
  timeout "$run_timeout" "$smtp_source" -s "$sessions" -m "$messages" -l "$length" \
    -f "$sender" -t "rcpt@relay.test" -M client.bench.test "127.0.0.1:$port" \
    >"$work/$label.out" 2>&1 || r_rc=$?
  r_accepted=$(python3 -c "print(f'{$(now) - $t0:.2f}')")
  # The sink exits once the last message is in.
  for _ in $(seq $((run_timeout * 10))); do kill -0 "$sink_pid" 2>/dev/null || break; sleep 0.1; done
  t1=$(now)
  d1=$(disk_counts)
  r_out=$(($(active_opens) - o0 - messages))
  r_disk=$(python3 -c "a, b = '$d0'.split(), '$d1'.split(); print(f'{(int(b[0]) - int(a[0])) / $messages:.1f} writes, {(int(b[1]) - int(a[1])) / $messages:.1f} flushes')")
  kill -0 "$sink_pid" 2>/dev/null && { note "$label: the sink did not get every message"; r_rc=124; }
  r_elapsed=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  sleep 0.3
  r_pss=$(cat "$work/$label.pss" 2>/dev/null || echo 0)
}

# --- portico ------------------------------------------------------------------------------------
pport=$(free_port)
psink=$(free_port)
mkdir -p "$work/portico"
pcfg=$work/portico/portico.yaml
cat > "$pcfg" <<YAML
server:
  hostname: bench.test
  data_dir: data
  plugin_dir: $plugins
  log_level: warn
  control_socket: ctl.sock
  metrics: {enabled: false}
plugins:
  smtp-in:
    enabled: true
    listeners: [{address: 127.0.0.1, port: $pport, tls: none}]
    relay_whitelist: [127.0.0.0/8]
    forbid_unauth_pipelining: false
    max_connections: 0
  smtp-out:
    enabled: true
    routes: ["relay.test 127.0.0.1:$psink"]
    enable_tls_if_supported: false
    queue_scan_interval: 100ms
    # BUSY: every delivery thread may hold the one slow destination
    max_connections_per_destination: $([ -n "${BUSY:-}" ] && echo 50 || echo 10)
YAML
"$bin" domain add local.test --config "$pcfg" >/dev/null
printf 'bench password' | "$bin" user add alice@local.test --password-stdin --config "$pcfg" >/dev/null
(cd "$work/portico" && exec "$bin" serve --config "$pcfg" 2>"$work/portico/log") &
portico_pid=$!
pids+=("$portico_pid")
wait_port "$pport" || { cat "$work/portico/log" >&2; exit 1; }
p_idle=$(awk '/^VmRSS/ {print $2}' "/proc/$portico_pid/status")

if [ -n "${BUSY:-}" ]; then
  # smtp-in's local acceptance alone, then with 50 deliveries held by a sink that waits 30 s
  # before answering DATA.
  local_rate() {
    local t0 rc=0
    t0=$(now)
    timeout "$run_timeout" "$smtp_source" -s "$sessions" -m "$messages" -l "$length" \
      -f "$sender" -t alice@local.test -M client.bench.test "127.0.0.1:$pport" \
      >"$work/local.out" 2>&1 || rc=$?
    python3 -c "print(f'{$messages / ($(now) - $t0):.0f}')"
    [ "$rc" = 0 ] || note "smtp-source exited $rc"
  }
  alone=$(local_rate)
  "$smtp_sink" -u nobody -w 30 "127.0.0.1:$psink" 256 >"$work/slow.log" 2>&1 &
  pids+=("$!")
  wait_port "$psink"
  timeout 120 "$smtp_source" -s 20 -m 200 -l "$length" -f "$sender" -t rcpt@relay.test \
    -M client.bench.test "127.0.0.1:$pport" >"$work/background.out" 2>&1
  sleep 2
  open=$(ss -tn state established "( dport = :$psink )" | tail -n +2 | wc -l)
  busy=$(local_rate)
  say "## smtp-in while smtp-out is busy $(date -u +%Y-%m-%d) — $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  say "local acceptance (smtp-source -s $sessions -m $messages -l $length to a local account): $alone msgs/s alone, $busy msgs/s with $open deliveries open to a sink that holds each for 30 s"
  exit 0
fi

relay_run portico "$pport" "$psink" "$portico_pid"
p_elapsed=$r_elapsed p_rc=$r_rc p_accepted=$r_accepted p_disk=$r_disk p_out=$r_out
p_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$portico_pid/status")
p_pss=$r_pss
# The sink counts a message before portico has recorded its 250: give the queue 10 s to empty.
for _ in $(seq 100); do
  p_queue=$("$bin" queue list --config "$pcfg" | tail -1)
  case $p_queue in "0 entries"* | "") break ;; esac
  sleep 0.1
done
p_errors=$(grep -c -E ' (error|critical) ' "$work/portico/log" || true)

# --- Postfix ------------------------------------------------------------------------------------
f_status="not run"
if [ -n "${PORTICO_ONLY:-}" ]; then
  f_status="skipped (PORTICO_ONLY)"
else
  fport=$(free_port)
  fsink=$(free_port)
  pf=$work/postfix
  postfix_etc=$pf/etc
  mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
  chown postfix:postfix "$pf/data"
  cat > "$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
transport_maps = inline:{ relay.test=smtp:[127.0.0.1]:$fsink }
smtp_tls_security_level = none
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
CF
  sed -E "s|^smtp( +)inet .*|127.0.0.1:$fport inet n - n - - smtpd|" /etc/postfix/master.cf \
    > "$pf/etc/master.cf"
  postconf -c "$pf/etc" -F '*/*/chroot = n' >/dev/null
  if postfix -c "$pf/etc" check >"$pf/setup.log" 2>&1 &&
     postfix -c "$pf/etc" start >>"$pf/setup.log" 2>&1 && wait_port "$fport"; then
    master=$(head -1 "$pf/spool/pid/master.pid" | tr -d ' ')
    relay_run postfix "$fport" "$fsink" "$master"
    f_elapsed=$r_elapsed f_accepted=$r_accepted f_pss=$r_pss f_disk=$r_disk f_out=$r_out
    f_status=$([ "$r_rc" = 0 ] && echo ok || echo "status $r_rc")
  else
    # postfix writes its fatal errors to the terminal only, else to its log
    f_status="not set up: $(tail -2 "$pf/setup.log" "$pf/maillog" 2>/dev/null | tr '\n' ' ')"
  fi
fi

rate() { python3 -c "print(f'{$1 / $2:.0f}')"; }
say "## relay benchmark $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "load: smtp-source -s $sessions -m $messages -l $length to rcpt@relay.test, routed to smtp-sink on loopback; timed from the first byte sent to the last message at the sink"
say "portico: $(rate "$messages" "$p_elapsed") msgs/s end to end ($messages in ${p_elapsed}s; all accepted after ${p_accepted}s), status $p_rc, queue afterwards: $p_queue, error lines: $p_errors; RSS idle $((p_idle / 1024)) MiB, peak $((p_hwm / 1024)) MiB, peak PSS $((p_pss / 1024)) MiB; disk per message: $p_disk; connections to the sink: $p_out"
if [ "$f_status" = ok ]; then
  say "postfix $(postconf -d -h mail_version): $(rate "$messages" "$f_elapsed") msgs/s end to end ($messages in ${f_elapsed}s; all accepted after ${f_accepted}s); peak PSS of its processes $((f_pss / 1024)) MiB; disk per message: $f_disk; connections to the sink: $f_out"
  say "ratio portico/postfix (end to end): $(python3 -c "print(f'{$f_elapsed / $p_elapsed:.2f}')")"
else
  say "postfix: $f_status"
fi

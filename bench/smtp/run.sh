#!/usr/bin/env bash
# smtp-in benchmark: messages per second accepted by portico's smtp-in (Release build, durability
# on: a 250 after DATA means the message is fsync'd in the local mailbox) under Postfix's
# smtp-source, portico's peak resident memory (VmHWM), and in the same run the same load against
# a private Postfix instance (Debian's package) delivering to a virtual Maildir on another
# loopback port; prints the ratio and the disk's plain write+fsync rate.
#
# Usage (as root, on a throwaway Debian 12 machine):
#   bench/smtp/run.sh [messages=10000] [sessions=20] [length=4096]
#   bench/smtp/run.sh 2000           # a quick run
#   PORTICO_ONLY=1 bench/smtp/run.sh # skip Postfix
#   STRACE=1 bench/smtp/run.sh 500   # also count portico's fsyncs per message (strace -c; slow)
#   STRACE=1 STRACE_CALLS=openat,unlink bench/smtp/run.sh 500   # other system calls
#   PERF=1 bench/smtp/run.sh 2000    # also print portico's CPU profile (perf record -g)
#
# Installs postfix (for /usr/sbin/smtp-source and the comparison) with debconf preseeded to "No
# configuration", so no system-wide Postfix is configured or started. Everything else lives in a
# temporary folder on the disk (not a tmpfs), removed at exit, with portico and the private
# Postfix stopped by their own PIDs. Each load run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
messages=${1:-10000}
sessions=${2:-20}
length=${3:-4096}
domain=example.test
user=alice
sender=sender@remote.test
run_timeout=$((120 + messages / 5))  # seconds: generous, and still bounded

say() { printf '%s\n' "$*"; }
note() { printf 'note: %s\n' "$*" >&2; }
now() { date +%s.%N; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# "busy iowait" percentages of all CPUs between two snapshots of /proc/stat's cpu line.
cpu_snapshot() { head -1 /proc/stat; }
cpu_usage() {
  python3 - "$1" "$2" <<'PY'
import sys
a = [int(x) for x in sys.argv[1].split()[1:]]
b = [int(x) for x in sys.argv[2].split()[1:]]
d = [y - x for x, y in zip(a, b)]
total = sum(d[:8]) or 1
idle, iowait = d[3], d[4]
print(f"{100 * (total - idle - iowait) / total:.0f} {100 * iowait / total:.0f}")
PY
}

# --- smtp-source (and Postfix) --------------------------------------------------------------
smtp_source=$(command -v smtp-source || true)
[ -z "$smtp_source" ] && [ -x /usr/sbin/smtp-source ] && smtp_source=/usr/sbin/smtp-source
if [ -z "$smtp_source" ] || { [ -z "${PORTICO_ONLY:-}" ] && ! [ -x /usr/sbin/postfix ]; }; then
  if [ "$(id -u)" = 0 ]; then
    say "installing postfix (debconf: No configuration) ..."
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null 2>&1; } ||
      note "apt-get install postfix failed"
  else
    note "not root: cannot install postfix"
  fi
  smtp_source=$(command -v smtp-source || true)
  [ -z "$smtp_source" ] && [ -x /usr/sbin/smtp-source ] && smtp_source=/usr/sbin/smtp-source
fi
if [ -z "$smtp_source" ]; then
  echo "smtp-source (Debian package postfix) is needed as the load generator" >&2
  exit 1
fi

build_log=$(mktemp)
if ! bash scripts/build.sh release >"$build_log" 2>&1; then
  echo "the release build failed (scripts/build.sh release); its last lines:" >&2
  tail -20 "$build_log" >&2
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"
bin=$root/build/release/core/portico
plugins=$root/build/release/plugins
[ -f "$plugins/smtp-in.so" ] || [ -n "$(ls "$plugins"/*smtp-in* 2>/dev/null)" ] ||
  { echo "the smtp-in plugin is not built in $plugins" >&2; exit 1; }

# --- temporary folder, cleanup ----------------------------------------------------------------
# On the disk (/tmp is not a tmpfs here; the file system type is printed), so fsync means what it means in
# production. 0755: Postfix's daemons (user postfix) and virtual(8) (user nobody) walk into it.
work=$(mktemp -d /tmp/portico-smtpbench.XXXXXX)
chmod 755 "$work"
# ext4's "top of a directory hierarchy" flag: the folders made in it (portico's, Postfix's) are
# spread to inode groups of their own, like folders at the root of the file system, instead of
# the group next to /tmp that every other process's temporary files (and the previous run's
# removed ones) churn. On ext4 without a journal a new inode skips every inode of its group
# freed in the last 5 minutes, so without this each server would pay for files others deleted.
chattr +T "$work" 2>/dev/null || note "chattr +T $work failed: runs may share an inode group"
portico_pid=
postfix_etc=
cleanup() {
  set +e
  if [ -n "$portico_pid" ] && kill -0 "$portico_pid" 2>/dev/null; then
    kill "$portico_pid"
    for _ in $(seq 100); do kill -0 "$portico_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$portico_pid" 2>/dev/null
    wait "$portico_pid" 2>/dev/null
  fi
  if [ -n "$postfix_etc" ]; then
    local master_pid
    master_pid=$(head -1 "$work/postfix/spool/pid/master.pid" 2>/dev/null | tr -d ' ')
    postfix -c "$postfix_etc" stop >/dev/null 2>&1
    if [ -n "$master_pid" ]; then
      for _ in $(seq 100); do kill -0 "$master_pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$master_pid" 2>/dev/null
    fi
  fi
  if [ -n "${KEEP_WORK:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fstype=$(stat -f -c %T "$work")
# ext4 without a journal (no /proc/fs/jbd2/<device>-*) fsyncs differently: each fsync of a new
# file also writes its folder, and new inodes skip recently deleted ones (a scan that grows with
# the files other work just removed), so say which it is.
device=$(basename "$(df --output=source "$work" | tail -1)")
if [ "$fstype" = ext2/ext3 ] || [ "$fstype" = ext4 ]; then
  if ls -d /proc/fs/jbd2/"$device"-* >/dev/null 2>&1; then fstype="$fstype (journal)"; else fstype="$fstype (no journal)"; fi
fi

# --- the disk's plain fsync rate ----------------------------------------------------------------
fsync_rate=$(python3 - "$work/fsync.test" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
block = b"\0" * 4096
n, start = 0, time.monotonic()
while n < 2000 and time.monotonic() - start < 5:
    os.write(fd, block)
    os.fsync(fd)
    n += 1
elapsed = time.monotonic() - start
os.close(fd)
os.unlink(sys.argv[1])
print(f"{n / elapsed:.0f}")
PY
)

# --- portico ------------------------------------------------------------------------------------
pport=$(free_port)
mkdir -p "$work/portico"
cat > "$work/portico/portico.yaml" <<YAML
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
    max_connections: 0
    max_connections_per_address: 0
YAML
pcfg=$work/portico/portico.yaml
"$bin" domain add "$domain" --config "$pcfg" >/dev/null
printf 'bench password' | "$bin" user add "$user@$domain" --password-stdin --config "$pcfg" >/dev/null
(cd "$work/portico" && exec "$bin" serve --config "$pcfg" 2>"$work/portico/log") &
portico_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$pport") 2>/dev/null && break
  kill -0 "$portico_pid" 2>/dev/null || { cat "$work/portico/log" >&2; exit 1; }
  sleep 0.1
done
rss_idle=$(awk '/^VmRSS/ {print $2}' "/proc/$portico_pid/status")

# One load run: smtp-source against 127.0.0.1:$1; sets elapsed, busy, iowait; returns its status.
# A single warm-up message first (not timed): the account is opened and the processes are up.
load() {
  local port=$1 label=$2 t0 t1 c0 c1 rc=0
  timeout 60 "$smtp_source" -s 1 -m 1 -l "$length" -f "$sender" -t "$user@$domain" \
    -M client.bench.test "127.0.0.1:$port" >"$work/$label.warmup" 2>&1 ||
    note "$label: warm-up message failed: $(tail -1 "$work/$label.warmup")"
  c0=$(cpu_snapshot)
  t0=$(now)
  load_start=$t0
  timeout "$run_timeout" "$smtp_source" -s "$sessions" -m "$messages" -l "$length" \
    -f "$sender" -t "$user@$domain" -M client.bench.test "127.0.0.1:$port" \
    >"$work/$label.out" 2>&1 || rc=$?
  t1=$(now)
  c1=$(cpu_snapshot)
  elapsed=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  read -r busy iowait < <(cpu_usage "$c0" "$c1")
  if [ "$rc" != 0 ]; then note "$label: smtp-source exited $rc: $(tail -3 "$work/$label.out")"; fi
  return "$rc"
}
rate() { python3 -c "print(f'{$1 / $2:.0f}')"; }
cpu_seconds() {  # utime + stime of a process, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

strace_pid=
strace_calls=${STRACE_CALLS:-fsync,fdatasync,rename,link,unlink}
if [ -n "${STRACE:-}" ]; then
  strace -f -c -e trace="$strace_calls" -o "$work/strace.txt" -p "$portico_pid" &
  strace_pid=$!
  sleep 1
fi
perf_pid=
if [ -n "${PERF:-}" ]; then
  perf record -q -F 499 -g -o "$work/perf.data" -p "$portico_pid" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 1
fi
cpu0=$(cpu_seconds "$portico_pid")
p_rc=0
load "$pport" portico || p_rc=$?
p_elapsed=$elapsed p_busy=$busy p_iowait=$iowait
p_cpu=$(python3 -c "print(f'{$(cpu_seconds "$portico_pid") - $cpu0:.1f}')")
p_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$portico_pid/status")
if [ -n "$strace_pid" ]; then
  kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
fi
if [ -n "$perf_pid" ]; then
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
  perf report -i "$work/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1.5 \
    -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed -E 's/[ -]+$//; s/ +/ /g' |
    cut -c1-140 | head -40 > "$work/perf.txt" || true
fi
out=$work/export
"$bin" export --maildir "$out" --user "$user@$domain" --config "$pcfg" >/dev/null
p_stored=$(find "$out/new" "$out/cur" -type f 2>/dev/null | wc -l)
p_queued=$("$bin" queue list --config "$pcfg" | tail -1)
p_errors=$(grep -c -E '^\S+Z (error|critical)' "$work/portico/log" || true)
rm -rf "$out"
kill "$portico_pid"
wait "$portico_pid" 2>/dev/null || true
portico_pid=

# --- Postfix ------------------------------------------------------------------------------------
f_status="not run"
if [ -n "${PORTICO_ONLY:-}" ]; then
  f_status="skipped (PORTICO_ONLY)"
elif [ "$(id -u)" != 0 ] || ! [ -x /usr/sbin/postfix ]; then
  f_status="not set up (needs root and the postfix package)"
else
  fport=$(free_port)
  pf=$work/postfix
  postfix_etc=$pf/etc
  mkdir -p "$pf/etc" "$pf/spool" "$pf/data" "$pf/vmail"
  chown postfix:postfix "$pf/data"
  chown nobody:nogroup "$pf/vmail"
  printf '%s@%s %s/%s/\n' "$user" "$domain" "$domain" "$user" > "$pf/etc/vmailbox"
  cat > "$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $domain
virtual_mailbox_base = $pf/vmail
virtual_mailbox_maps = texthash:$pf/etc/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 100
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
smtpd_banner = \$myhostname ESMTP
CF
  # Debian's master.cf, with smtpd on our loopback port and no chroot (the queue folder is ours).
  sed -E "s|^smtp( +)inet .*|127.0.0.1:$fport inet n - n - - smtpd|" /etc/postfix/master.cf \
    > "$pf/etc/master.cf"
  postconf -c "$pf/etc" -F '*/*/chroot = n' >/dev/null
  if postfix -c "$pf/etc" check >"$pf/setup.log" 2>&1 &&
     postfix -c "$pf/etc" start >>"$pf/setup.log" 2>&1; then
    up=
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$fport") 2>/dev/null && { up=1; break; }
      sleep 0.1
    done
    if [ -z "$up" ]; then
      f_status="not set up (smtpd never listened on $fport; see maillog)"
      tail -20 "$pf/maillog" >&2 2>/dev/null || true
    else
      f_rc=0
      load "$fport" postfix || f_rc=$?
      f_elapsed=$elapsed f_busy=$busy f_iowait=$iowait
      # Postfix acknowledges once the queue file is fsync'd; it delivers afterwards. Wait (bounded)
      # until every message is in the Maildir, for the accepted-and-delivered rate.
      box=$pf/vmail/$domain/$user
      deadline=$(( $(date +%s) + run_timeout ))
      while :; do
        f_stored=$(find "$box/new" "$box/cur" -type f 2>/dev/null | wc -l)
        [ "$f_stored" -ge "$((messages + 1))" ] && break
        [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.2
      done
      f_delivered_elapsed=$(python3 -c "print(f'{$(now) - $load_start:.2f}')")
      if [ "$f_rc" = 0 ]; then f_status=ok; else f_status="smtp-source exited $f_rc"; fi
    fi
  else
    f_status="not set up (postfix check/start failed: $(tail -1 "$pf/setup.log"))"
  fi
fi

# --- report -------------------------------------------------------------------------------------
p_rate=$(rate "$messages" "$p_elapsed")
say "## smtp-in benchmark $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "load: smtp-source -s $sessions -m $messages -l $length (one connection per message), to one local account, after 1 warm-up message (stored counts include it); disk for the data: $fstype"
say "disk fsync rate (4 KiB write + fsync, one file): $fsync_rate /s"
say "portico: $p_rate msgs/s accepted ($messages in ${p_elapsed}s, smtp-source status $p_rc), stored $p_stored, queue: $p_queued, error lines in log: $p_errors"
say "portico: peak RSS (VmHWM) $((p_hwm / 1024)) MiB ($p_hwm kB; idle RSS $rss_idle kB), CPU ${p_cpu}s = $(python3 -c "print(f'{1e3 * $p_cpu / $messages:.2f}')") ms/msg; machine CPU busy ${p_busy}%, iowait ${p_iowait}%"
if [ -f "$work/strace.txt" ]; then
  say "portico syscalls during the run (strace -f -c; per message = calls / $((messages + 1)), warm-up included):"
  awk -v m="$((messages + 1))" -v calls="^(${strace_calls//,/|})\$" '$NF ~ calls {printf "  %-10s %8d  %.2f/msg\n", $NF, $4, $4 / m}' "$work/strace.txt"
fi
if [ -s "$work/perf.txt" ]; then
  say "portico's CPU profile during the run (perf, self time, >= 1.5%):"
  sed 's/^/  /' "$work/perf.txt"
fi
if [ "$f_status" = ok ] || [ "${f_status#smtp-source}" != "$f_status" ]; then
  f_rate=$(rate "$messages" "$f_elapsed")
  say "postfix $(postconf -d -h mail_version): $f_rate msgs/s accepted ($messages in ${f_elapsed}s, status: $f_status), stored in the Maildir $f_stored, the last of the timed ones after ${f_delivered_elapsed}s = $(rate "$((f_stored - 1))" "$f_delivered_elapsed") msgs/s accepted+delivered; machine CPU busy ${f_busy}%, iowait ${f_iowait}%"
  say "ratio portico/postfix (accepted msgs/s): $(python3 -c "print(f'{$p_rate / $f_rate:.2f}')")"
else
  say "postfix: $f_status — portico measured alone"
fi

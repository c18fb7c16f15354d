#!/usr/bin/env bash
# The fresh-machine check: the README's two commands on a minimal Debian 12 that has never seen
# this project.
#
#   bash scripts/fresh-check.sh            (as root)
#
# 1. Builds a minimal Debian 12 (bookworm) root with debootstrap (--variant=minbase), from the
#    Debian archive this machine's apt already uses (or $FRESH_MIRROR).
# 2. Puts a clean clone of HEAD in it (committed work only: what CI and a new user get).
# 3. Inside it, as root: the test command (`bash scripts/test.sh`) to the end; then the run
#    command (`bash scripts/run.sh`) started in the background, one message sent to it with
#    swaks, read back over POP3 after STLS with Python's poplib, and the server stopped by its
#    PID with SIGTERM.
# 4. Unmounts what it mounted and removes the root, on success and on failure alike.
#
# Downloads are cached in $FRESH_CACHE (default /var/cache/portico-fresh: debootstrap's and
# apt's .deb files only), so a second run fetches nothing; the machine in the root is still new.
# FRESH_KEEP=1 keeps the root for inspection (it is still unmounted). Exit 0 only when every
# step passed; the log of each step is printed on failure, and a summary with timings at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (debootstrap, chroot, mount)" >&2; exit 2; }

suite=bookworm
cache=${FRESH_CACHE:-/var/cache/portico-fresh}
work_parent=${FRESH_DIR:-/var/tmp}

# The archive this machine's apt uses for Debian itself.
mirror=${FRESH_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
           grep -v -- '-security' | grep -m1 debian || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^deb +(\[[^]]*\] +)?https?://[^ ]+ +bookworm +' /etc/apt/sources.list \
           /etc/apt/sources.list.d/*.list | awk '{for(i=2;i<=NF;i++) if ($i ~ /^http/) {print $i; exit}}')
fi
mirror=${mirror:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null; then
  echo "== installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

# The run command listens on these loopback ports; another server on them would make the
# check talk to the wrong program.
for port in 2525 1100; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "fresh-check: 127.0.0.1:$port is in use on this machine; stop that server first" >&2
    exit 2
  fi
done

mkdir -p "$cache/debootstrap" "$cache/apt"
root=$(mktemp -d "$work_parent/portico-fresh.XXXXXX")
# mktemp makes it 0700; as the root folder of a machine it must be 0755, or no unprivileged
# user inside (smtp-sink runs as nobody) can reach anything.
chmod 755 "$root"
logs=$(mktemp -d "${TMPDIR:-/tmp}/portico-fresh-logs.XXXXXX")
summary=()
started=$(date +%s)

unmount_all() {
  # Deepest first; a busy mount is detached lazily so nothing stays attached to the tree.
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$root/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

cleanup() {
  local status=$?
  local run_pid
  run_pid=$(cat "$logs/run.pid" 2>/dev/null || true)
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill "$run_pid" 2>/dev/null || true
    sleep 2
    kill -9 "$run_pid" 2>/dev/null || true
  fi
  unmount_all
  if findmnt -rn -o TARGET | grep -qF "$root/"; then
    echo "fresh-check: mounts remain under $root; not removing it" >&2
  elif [ "${FRESH_KEEP:-0}" = 1 ]; then
    echo "fresh-check: kept $root"
  else
    rm -rf --one-file-system "$root"
  fi
  rm -rf "$logs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step NAME COMMAND...: runs a step with its output in a log, prints the log if it fails.
step() {
  local name=$1
  shift
  local t0 t1
  t0=$(date +%s)
  echo "== $name"
  local rc=0
  # A subshell with -e of its own: inside `if` or `||`, bash would ignore -e in the step.
  (set -e; "$@") >"$logs/$name.log" 2>&1 || rc=$?
  if [ $rc -eq 0 ]; then
    t1=$(date +%s)
    summary+=("ok    $name ($((t1 - t0)) s)")
  else
    t1=$(date +%s)
    summary+=("FAIL  $name ($((t1 - t0)) s)")
    echo "---- $name failed; its log:"
    tail -n 200 "$logs/$name.log"
    print_summary
    exit 1
  fi
}

print_summary() {
  echo
  # The commit that was cloned (HEAD may have moved on while the check ran).
  local tested
  tested=$(git -C "$root/root/portico" rev-parse --short HEAD 2>/dev/null || echo "not cloned")
  echo "fresh-check summary (Debian $suite from $mirror, commit $tested):"
  printf '  %s\n' "${summary[@]}"
  echo "  total $(($(date +%s) - started)) s"
}

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

make_root() {
  debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "$suite" "$root" "$mirror"
  # The same archive for apt inside, with updates and security like a real installation.
  local security=${mirror%/debian}/debian-security
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  echo "portico-fresh" >"$root/etc/hostname"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
  mount --bind "$cache/apt" "$root/var/cache/apt/archives"
  mount -t tmpfs tmpfs "$root/tmp"
}

clone_head() {
  git clone --quiet --no-hardlinks "$here" "$root/root/portico"
  git -C "$root/root/portico" log -1 --format='cloned %h %s'
}

test_command() {
  in_root bash -c 'cd /root/portico && bash scripts/test.sh'
}

# The run command in the background, then one message in by SMTP and out by POP3 with STLS.
run_command() {
  # chroot, env and bash exec, and run.sh ends by exec'ing the server: $! is its PID in the end.
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c 'cd /root/portico && exec bash scripts/run.sh' >"$logs/run-server.log" 2>&1 &
  local run_pid=$!
  echo "$run_pid" >"$logs/run.pid"
  echo "run command started, PID $run_pid"
  local waited=0
  until in_root bash -c '(exec 3<>/dev/tcp/127.0.0.1/1100) 2>/dev/null' &&
        grep -q '^starting:' "$logs/run-server.log"; do
    kill -0 "$run_pid" 2>/dev/null || { cat "$logs/run-server.log"; echo "the run command ended"; return 1; }
    [ $waited -lt 1800 ] || { cat "$logs/run-server.log"; echo "not listening after 30 min"; return 1; }
    sleep 5
    waited=$((waited + 5))
  done
  tail -n 5 "$logs/run-server.log"
  local token
  token="fresh-check-$(date +%s)-$$"
  in_root swaks --server 127.0.0.1:2525 --from someone@example.net --to demo@localhost \
    --header "Subject: $token" --body "sent by the fresh-machine check" --tls
  in_root python3 - "$token" <<'EOF'
import poplib, ssl, sys
token = sys.argv[1]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the run command's self-signed development certificate
pop = poplib.POP3("127.0.0.1", 1100, timeout=30)
pop.stls(context=ctx)
pop.user("demo@localhost")
pop.pass_("demo")
count, _ = pop.stat()
found = False
for i in range(1, count + 1):
    lines = pop.retr(i)[1]
    if any(token.encode() in line for line in lines):
        found = True
pop.quit()
print(f"POP3 after STLS: {count} message(s), the swaks message {'found' if found else 'MISSING'}")
sys.exit(0 if found else 1)
EOF
  kill -TERM "$run_pid"
  local i
  for i in $(seq 1 30); do
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$run_pid" 2>/dev/null; then
    echo "the server did not stop within 30 s of SIGTERM"
    return 1
  fi
  wait "$run_pid" || true
  rm -f "$logs/run.pid"
  echo "server stopped by SIGTERM"
  tail -n 5 "$logs/run-server.log"
}

step debootstrap make_root
step clone clone_head
step test-command test_command
tail -n 15 "$logs/test-command.log"
step run-command run_command
cat "$logs/run-command.log"
print_summary

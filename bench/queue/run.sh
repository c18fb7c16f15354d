#!/usr/bin/env bash
# Queue benchmark: fsyncs per enqueued message with one caller and with many (group commit),
# counted with strace, and the cost of the queue's per-state figures over a large spool.
# Usage: bench/queue/run.sh [messages=2000] [threads=16] [entries-for-stats=10000]
#   BUILD_DIR=build/test bench/queue/run.sh   # use another build (default build/release,
#                                             # built by scripts/build.sh release if missing)
# Everything lives in a temporary folder on the build's disk (not a tmpfs), removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
messages=${1:-2000}
threads=${2:-16}
entries=${3:-10000}
build=${BUILD_DIR:-build/release}
if [ ! -x "$build/bench/queuebench" ]; then
  if [ "$build" = build/release ]; then bash scripts/build.sh release >/dev/null; fi
fi
bin=$build/bench/queuebench
[ -x "$bin" ] || { echo "queuebench is not built in $build" >&2; exit 1; }
command -v strace >/dev/null || { echo "strace is needed (apt-get install strace)" >&2; exit 1; }
# A sanitizer build's leak check cannot run under strace's ptrace; it is not what is measured.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
work=$(mktemp -d "$PWD/$build/queuebench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "## queue benchmark $(date -u +%Y-%m-%d) — $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(stat -f -c %T "$work"), $build"

# fsyncs per message: strace -c counts every fsync/fdatasync of the process and its threads.
count() {
  local label=$1 n=$2 t=$3
  rm -rf "$work/q"
  timeout 600 strace -f -c -e trace=fsync,fdatasync -o "$work/strace.txt" \
    "$bin" enqueue "$work/q" "$t" "$n" | sed "s/^/$label: /"
  awk -v m="$n" -v label="$label" '$NF ~ /^(fsync|fdatasync)$/ {
      printf "%s: %-9s %7d calls = %.2f per message\n", label, $NF, $4, $4 / m }' \
    "$work/strace.txt"
}
count "1 thread" "$messages" 1
count "$threads threads" "$messages" "$threads"

# stats() over a large spool (filled without strace).
rm -rf "$work/q"
timeout 600 "$bin" enqueue "$work/q" "$threads" "$entries" 512 | sed 's/^/fill: /'
timeout 120 "$bin" stats "$work/q"

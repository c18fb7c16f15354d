#!/usr/bin/env python3
"""smtp-in with and without spam checking, in the same run: messages per second accepted by
portico (Release build, durability on) under Postfix's smtp-source, with server.spam_filter off
and then on against a private rspamd from Debian (tests/integration/rspamd_support.py: the stock
rules without the network modules, one normal worker per core), in alternating rounds. For each
run: the rate, portico's CPU seconds and peak RSS (VmHWM), rspamd's CPU seconds (all its
processes), and with checking on the mean check latency from portico's /metrics
(portico_spam_check_seconds) and the outcomes. Every message must be in the mailbox afterwards.

Usage (as root, on a throwaway Debian 12 machine; installs nothing but builds Release):
    python3 bench/spam/run.py [--messages 3000] [--sessions 20] [--length 4096 16384]
                              [--rounds 2] [--max-checks 30]
SKIP_BUILD=1 uses build/release as it is; PERF=1 prints portico's CPU profile of the first
round with checking on (perf record -g). Every server started here is stopped by its PID;
each load is bounded by a timeout.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import rspamd_support  # noqa: E402

BIN = os.path.join(ROOT, "build", "release", "core", "portico")
PLUGINS = os.path.join(ROOT, "build", "release", "plugins")
DOMAIN = "example.test"
USER = f"alice@{DOMAIN}"
SENDER = "sender@remote.test"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids):
    hz = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / hz
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def group_pids(pgid):
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid:
                    pids.append(int(name))
            except (ProcessLookupError, PermissionError):
                pass
    return pids


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def smtp_source():
    for path in (shutil.which("smtp-source"), "/usr/sbin/smtp-source"):
        if path and os.access(path, os.X_OK):
            return path
    sys.exit("smtp-source (Debian package postfix) is needed as the load generator")


class Portico:
    def __init__(self, work, name, spam_filter, max_checks):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.config = os.path.join(self.dir, "portico.yaml")
        sf = "\n".join(f"    {k}: {v}" for k, v in spam_filter.items())
        with open(self.config, "w") as f:
            f.write(f"""server:
  hostname: bench.test
  data_dir: data
  plugin_dir: {PLUGINS}
  log_level: info
  control_socket: ctl.sock
  metrics: {{enabled: true, address: 127.0.0.1, port: 0}}
  spam_filter:
{sf}
plugins:
  smtp-in:
    enabled: true
    listeners: [{{address: 127.0.0.1, port: {self.port}, tls: none}}]
    max_connections: 0
    max_connections_per_address: 0
  smtp-out:
    enabled: false
    max_spam_check_threads: {max_checks}
""")
        self.cli("domain", "add", DOMAIN)
        self.cli("user", "add", USER, "--password-stdin", input_text="bench password")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.config], cwd=self.dir,
                                     stderr=self.log)
        deadline = time.monotonic() + 30
        self.metrics = None
        while time.monotonic() < deadline and self.metrics is None:
            time.sleep(0.1)
            with open(self.log.name) as f:
                m = re.search(r"metrics on (http://\S+/metrics)", f.read())
            if m:
                self.metrics = m.group(1)
        if self.metrics is None:
            self.stop()
            sys.exit("portico did not start: " + open(self.log.name).read()[-2000:])

    def cli(self, *args, input_text=None):
        r = subprocess.run([BIN, *args, "--config", self.config], input=input_text, text=True,
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            sys.exit(f"portico {' '.join(args)}: {r.stderr}")
        return r.stdout

    def scrape(self):
        with urllib.request.urlopen(self.metrics, timeout=10) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            m = re.match(r"^(portico_spam_\w+)(\{[^}]*\})? (\S+)$", line)
            if m:
                values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return values

    def stored(self):
        out = tempfile.mkdtemp(prefix="portico-spambench-export-")
        try:
            self.cli("export", "--maildir", out, "--user", USER)
            return sum(len(os.listdir(os.path.join(out, d)))
                       for d in ("new", "cur") if os.path.isdir(os.path.join(out, d)))
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def load(source, port, messages, sessions, length):
    subprocess.run([source, "-s", "1", "-m", "1", "-l", str(length), "-f", SENDER, "-t", USER,
                    "-M", "client.bench.test", f"127.0.0.1:{port}"], timeout=60,
                   capture_output=True)  # warm-up, not timed
    t0 = time.monotonic()
    r = subprocess.run([source, "-s", str(sessions), "-m", str(messages), "-l", str(length), "-f",
                        SENDER, "-t", USER, "-M", "client.bench.test", f"127.0.0.1:{port}"],
                       timeout=120 + messages, capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    if r.returncode != 0:
        print(f"note: smtp-source exited {r.returncode}: {r.stderr[-300:]}", file=sys.stderr)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--length", type=int, nargs="+", default=[4096, 16384])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-checks", type=int, default=30)
    a = ap.parse_args()
    if not os.environ.get("SKIP_BUILD"):
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build.sh"), "release"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("the release build failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    source = smtp_source()
    work = tempfile.mkdtemp(prefix="portico-spambench.", dir="/tmp")
    os.chmod(work, 0o755)
    rspamd = rspamd_support.Rspamd(os.path.join(work, "rspamd"),
                                   normal_workers=os.cpu_count() or 2)
    try:
        os.makedirs(rspamd.dir)
        rspamd.start()
        print(f"rspamd {rspamd.normal_workers} normal worker(s); {a.messages} messages, "
              f"{a.sessions} sessions, max_spam_check_threads {a.max_checks}; "
              f"load average before: {open('/proc/loadavg').read().split()[0]}")
        print("length  round  checking  msgs/s  portico-cpu-s  rspamd-cpu-s  portico-VmHWM-MiB"
              "  mean-check-ms  outcomes")
        n = 0
        for length in a.length:
            rates = {"off": [], "on": []}
            for rnd in range(1, a.rounds + 1):
                for mode in ("off", "on"):
                    n += 1
                    settings = {"enabled": "true" if mode == "on" else "false",
                                "address": "127.0.0.1", "port": rspamd.normal_port,
                                "timeout": "30s", "max_message_size": "0"}
                    p = Portico(work, f"portico-{n}", settings, a.max_checks)
                    try:
                        rspamd_pids = group_pids(rspamd.proc.pid)
                        r0, c0 = cpu_seconds(rspamd_pids), cpu_seconds([p.proc.pid])
                        before = p.scrape()
                        perf = None
                        if os.environ.get("PERF") and mode == "on" and rnd == 1:
                            perf = subprocess.Popen(
                                ["perf", "record", "-q", "-F", "499", "-g", "-o",
                                 os.path.join(work, f"perf-{length}.data"), "-p",
                                 str(p.proc.pid)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
                            time.sleep(1)
                        elapsed = load(source, p.port, a.messages, a.sessions, length)
                        if perf is not None:
                            perf.send_signal(signal.SIGINT)
                            perf.wait(timeout=60)
                            report = subprocess.run(
                                ["perf", "report", "-i", os.path.join(work, f"perf-{length}.data"),
                                 "--stdio", "--no-children", "--sort", "dso,symbol",
                                 "--percent-limit", "1.5", "-g", "none"],
                                capture_output=True, text=True).stdout
                            print("\n".join(line[:150] for line in report.splitlines()
                                            if line and not line.startswith("#"))[:6000])
                        r1, c1 = cpu_seconds(rspamd_pids), cpu_seconds([p.proc.pid])
                        after = p.scrape()
                        hwm = vm_hwm_kib(p.proc.pid) / 1024
                        stored = p.stored()
                    finally:
                        p.stop()
                    rate = a.messages / elapsed
                    rates[mode].append(rate)
                    count = after.get("portico_spam_check_seconds_count", 0) - \
                        before.get("portico_spam_check_seconds_count", 0)
                    total = after.get("portico_spam_check_seconds_sum", 0) - \
                        before.get("portico_spam_check_seconds_sum", 0)
                    mean = f"{1000 * total / count:.1f}" if count else "-"
                    outcomes = ",".join(
                        re.sub(r'.*"(\w+)".*', r"\1", k) + f"={int(v)}" for k, v in after.items()
                        if k.startswith("portico_spam_check_outcomes_total")) or "-"
                    lost = "" if stored == a.messages + 1 else f"  STORED {stored}!"
                    print(f"{length:6}  {rnd:5}  {mode:8}  {rate:6.0f}  {c1 - c0:13.1f}  "
                          f"{r1 - r0:12.1f}  {hwm:17.1f}  {mean:>13}  {outcomes}{lost}",
                          flush=True)
            for i, (off, on) in enumerate(zip(rates["off"], rates["on"]), 1):
                print(f"{length:6}  round {i}: checking on/off = {on / off:.2f}")
    finally:
        rspamd.stop()
        if os.environ.get("KEEP_WORK"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

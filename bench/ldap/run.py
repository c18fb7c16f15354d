#!/usr/bin/env python3
"""ldap: address-book searches and binds per second, portico's ldap plugin against OpenLDAP's
slapd (Debian 12's, a private instance), the same 10,000 people in both, in the same run.

For each mode (mail: equality search (mail=userN@example.test), N random; cn: substring search
(cn=*smi*); bind: one simple bind per operation as a random user on a persistent connection),
R rounds alternating which server goes first, 8 client threads by default, each run bounded by an
operation count and seconds. The load generator is bench/ldap/ldap_load.c (libldap), the same for
both servers; each of its threads connects and binds once (as a user of the domain: portico
answers only bound users) before the clock starts, and everything below is measured from then on.
For each run: operations/s, latency p50/p99, the server's CPU per operation, the generator's own
CPU (% of one core), the machine's busy share, the other processes' CPU (someone else's builds),
the load average, and the server's peak VmRSS and PSS sampled every 50 ms. Per mode, VmHWM too
(reset through /proc/PID/clear_refs when the mode starts, so it includes the connection binds).
The password hash's own rate (yescrypt verifications/s: 1 and 2 threads where the servers run,
2 threads on both cores; just before the bind rounds and again at the end) is measured with
bench/ldap/hashrate.c, since portico's binds are bounded by it.

The data (deterministic, --seed): 10,000 people userN@example.test, N = 1..10000, with a given
name, a surname (weighted lists, like a real directory: Smith is the commonest surname, and
Goldsmith, Smithers, Smiley, Smithson also contain "smi"), cn "Given Surname" and a telephone
number. The count of entries matching (cn=*smi*) is printed; every cn search must return exactly
that many entries, every mail search exactly one, on both servers.

- portico: the release build (build/release, built here with `cmake --build -j JOBS` (default
  1) for the targets portico and ldap unless SKIP_BUILD=1), a temporary config with only the ldap
  plugin (a plain listener on a loopback port, allow_plaintext_auth_without_tls, size_limit 0,
  visible_domains own, log_level warn), the domain and the 10,000 accounts created through the CLI,
  one `portico user add ADDRESS --password-hash H --given-name G --surname S --phone P` each: no
  bulk import exists. H is ONE yescrypt hash ($y$, libxcrypt's default cost, the kind portico
  itself makes) of the bench password, shared by all accounts; accounts are made with
  --create-parallel processes (default 2).
- slapd: back_mdb under the temporary folder, suffix dc=example,dc=test, the same DNs
  (uid=userN,ou=people,dc=example,dc=test), `index objectClass eq`, `index uid eq`,
  `index mail,cn eq,sub`, sizelimit unlimited, loglevel none, the default 16 threads;
  userPassword {SSHA} (slappasswd); loaded with slapadd; run as `slapd -d 0 -u openldap` (so its
  PID is the one started here). A second database, dc=crypt,dc=test, holds --crypt-users entries
  whose userPassword is {CRYPT} with the same yescrypt hash as portico's: binds there show slapd
  bounded by the same hash (mode "bind-yescrypt", slapd only).

Pinning (default): both servers run on core 0, the load generator on core 1 (as the peers'
reference figures were measured); --no-pin lets every process use both cores.

Usage (as root, Debian 12 with slapd, libldap-dev, libcrypt-dev, gcc):
    python3 bench/ldap/run.py [--rounds 3] [--threads 8] [--ops 200000] [--secs 20]
                              [--bind-secs 20] [--modes mail cn bind bind-yescrypt]
                              [--users 10000] [--no-pin] [--create-parallel 2]
                              [--account-cache DIR] [--slapd-substr-any-len N]
Making the 10,000 accounts takes about 20 minutes on 2 cores (each `portico user add` costs
~130 ms, much of it the yescrypt hash, 16 MiB, that the directory makes at every start for
unknown users' logins, even in a CLI command);
--account-cache DIR keeps the resulting data folder and reuses it while the people and the hash
are the same.
SKIP_BUILD=1 uses build/release as it is; JOBS=N compiles with N jobs (default 1); PERF=1
records portico's CPU profile (perf record -g) during its first round of each mode and prints
it (that round's figure is then lower: perf costs the server time); KEEP_WORK=1 keeps the
temporary folder. Every server started here is stopped by its own PID; every load run is bounded
by its operation count, its seconds and a timeout.
"""

import argparse
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build", "release")
BIN = os.path.join(BUILD, "core", "portico")
LDAP_SO = os.path.join(BUILD, "plugins", "ldap.so")
DOMAIN = "example.test"
BASE = "dc=example,dc=test"
DN_TEMPLATE = "uid=user%d,ou=people,dc=example,dc=test"
CRYPT_BASE = "dc=crypt,dc=test"
CRYPT_DN_TEMPLATE = "uid=user%d,ou=people,dc=crypt,dc=test"
PASSWORD = "bench password"
SUBSTRING = "smi"
SCHEMA = "/etc/ldap/schema"

# (name, weight): weights roughly follow US name frequencies (census 2010 surnames, SSA given
# names), scaled; what matters is a realistic, skewed spread and a realistic share of "smi".
GIVEN = [
    ("James", 33), ("Mary", 29), ("Robert", 31), ("Patricia", 16), ("John", 32), ("Jennifer", 15),
    ("Michael", 30), ("Linda", 14), ("David", 28), ("Elizabeth", 15), ("William", 26),
    ("Barbara", 13), ("Richard", 22), ("Susan", 12), ("Joseph", 20), ("Jessica", 12),
    ("Thomas", 19), ("Sarah", 12), ("Charles", 18), ("Karen", 11), ("Christopher", 18),
    ("Nancy", 10), ("Daniel", 17), ("Lisa", 10), ("Matthew", 15), ("Betty", 9), ("Anthony", 12),
    ("Margaret", 9), ("Mark", 12), ("Sandra", 8), ("Donald", 11), ("Ashley", 8), ("Steven", 11),
    ("Kimberly", 8), ("Paul", 10), ("Emily", 8), ("Andrew", 10), ("Donna", 7), ("Joshua", 10),
    ("Michelle", 7), ("Kenneth", 9), ("Carol", 7), ("Kevin", 9), ("Amanda", 7), ("Brian", 9),
    ("Melissa", 6), ("George", 8), ("Deborah", 6), ("Timothy", 7), ("Stephanie", 6),
    ("Ronald", 7), ("Rebecca", 6), ("Jason", 7), ("Laura", 5), ("Priya", 3), ("Wei", 3),
    ("Fatima", 3), ("Olga", 2), ("Hiroshi", 2), ("Ana", 4), ("Luis", 4), ("Ahmed", 3),
]
SURNAMES = [
    ("Smith", 24), ("Johnson", 19), ("Williams", 16), ("Brown", 14), ("Jones", 14),
    ("Garcia", 11), ("Miller", 11), ("Davis", 11), ("Rodriguez", 10), ("Martinez", 10),
    ("Hernandez", 10), ("Lopez", 9), ("Gonzalez", 9), ("Wilson", 9), ("Anderson", 9),
    ("Thomas", 8), ("Taylor", 8), ("Moore", 8), ("Jackson", 8), ("Martin", 8), ("Lee", 7),
    ("Perez", 7), ("Thompson", 7), ("White", 7), ("Harris", 7), ("Sanchez", 6), ("Clark", 6),
    ("Ramirez", 6), ("Lewis", 6), ("Robinson", 6), ("Walker", 6), ("Young", 5), ("Allen", 5),
    ("King", 5), ("Wright", 5), ("Scott", 5), ("Torres", 5), ("Nguyen", 5), ("Hill", 5),
    ("Flores", 5), ("Green", 5), ("Adams", 5), ("Nelson", 5), ("Baker", 5), ("Hall", 5),
    ("Rivera", 4), ("Campbell", 4), ("Mitchell", 4), ("Carter", 4), ("Roberts", 4),
    ("Patel", 4), ("Kim", 4), ("Chen", 4), ("Schmidt", 3), ("Mueller", 2), ("Kowalski", 2),
    ("Novak", 2), ("Tanaka", 2), ("Ivanova", 2), ("Okafor", 2), ("Silva", 3), ("Rossi", 2),
    ("Goldsmith", 2), ("Smithers", 1), ("Smiley", 1), ("Smithson", 1), ("Desmond", 2),
    ("Osmanovic", 1), ("Kessler", 2), ("Hammond", 2),
]
# The list above is the head of the distribution (common surnames, and a few rarer ones that
# contain "smi" or nearly do), drawn for a fifth of people; the rest get a surname from a long
# tail of 1,500 made-up ones (none contains "smi").
HEAD_SHARE = 0.2
TAIL_PARTS = (
    ["Al", "Bar", "Cal", "Dar", "El", "Fen", "Gar", "Har", "Ire", "Jan", "Kel", "Lan", "Mar",
     "Nor", "Or", "Pen", "Quin", "Ros", "Sal", "Tor", "Ul", "Val", "Wes", "Yar", "Zel"],
    ["", "den", "ver", "ling", "ton", "mer"],
    ["s", "son", "ley", "ford", "berg", "wick", "ski", "ez", "ard", "ow"],
)


def say(*args):
    print(*args, flush=True)


def people(n, seed):
    """[(number, given, surname, phone)], the same for a given n and seed on any Python 3."""
    rng = random.Random(seed)
    g_names = [g for g, _ in GIVEN]
    g_cum = list(_cumulative(w for _, w in GIVEN))
    s_names = [s for s, _ in SURNAMES]
    s_cum = list(_cumulative(w for _, w in SURNAMES))
    tail = [a + b + c for a in TAIL_PARTS[0] for b in TAIL_PARTS[1] for c in TAIL_PARTS[2]]
    assert not any(SUBSTRING in t.lower() for t in tail)
    out = []
    for i in range(1, n + 1):
        g = g_names[_pick(g_cum, rng.random())]
        if rng.random() < HEAD_SHARE:
            s = s_names[_pick(s_cum, rng.random())]
        else:
            s = tail[int(rng.random() * len(tail))]
        out.append((i, g, s, f"+1 555 {i // 10000:03d} {i % 10000:04d}"))
    return out


def _cumulative(weights):
    total = 0
    for w in weights:
        total += w
        yield total


def _pick(cum, x):
    target = x * cum[-1]
    for i, c in enumerate(cum):
        if target < c:
            return i
    return len(cum) - 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, secs=60):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
    except OSError as e:
        say(f"note: cannot reset the peak RSS of {pid}: {e}")


def cpu_seconds(pid):
    hz = os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / hz
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def cpu_snapshot():
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def busy_percent(a, b):
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8]) or 1
    return 100.0 * (total - d[3] - d[4]) / total


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def compilers_running():
    """How many compiler/linker processes are running (other people's builds), for the record."""
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/comm") as f:
                    if f.read().strip() in ("cc1plus", "cc1", "ld", "collect2", "lto1"):
                        n += 1
            except OSError:
                pass
    return n


def process_ticks():
    """{pid: (name, utime + stime ticks)} of every process now."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    text = f.read()
                head, tail = text.rsplit(")", 1)
                fields = tail.split()
                out[int(name)] = (head.split("(", 1)[1], int(fields[11]) + int(fields[12]))
            except (OSError, IndexError, ValueError):
                pass
    return out


def others_cpu(before, after, exclude):
    """CPU seconds used between two process_ticks() by processes not in `exclude` (pids), and
    the top three of them by name."""
    hz = os.sysconf("SC_CLK_TCK")
    by_name = {}
    for pid, (name, ticks) in after.items():
        if pid in exclude:
            continue
        delta = ticks - before.get(pid, (name, 0))[1]  # a new process: all its ticks
        if delta > 0:
            by_name[name] = by_name.get(name, 0) + delta / hz
    top = sorted(by_name.items(), key=lambda kv: -kv[1])[:3]
    return sum(by_name.values()), top


class Sampler(threading.Thread):
    """Samples one process's VmRSS and PSS every 50 ms until stopped; keeps the peaks."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_pss = pid, 0, 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak_rss = max(self.peak_rss, status_kib(self.pid, "VmRSS"))
            self.peak_pss = max(self.peak_pss, pss_kib(self.pid))
            self._stop_event.wait(0.05)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=5)


def stop_pid(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        say(f"note: {name} (pid {proc.pid}) ignored SIGTERM for 20 s; SIGKILL to that pid")
        proc.kill()
        proc.wait(timeout=10)


def compile_tools(outdir):
    tools = {}
    for name, libs in (("ldap_load", ["-lldap", "-llber"]), ("hashrate", ["-lcrypt"])):
        out = os.path.join(outdir, name)
        r = subprocess.run(["gcc", "-O2", "-Wall", "-pthread", "-o", out,
                            os.path.join(HERE, name + ".c"), *libs],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.exit(f"compiling {name}.c failed (needs gcc, libldap-dev, libcrypt-dev):\n"
                     f"{r.stderr}")
        tools[name] = out
    return tools


def build_release():
    jobs = os.environ.get("JOBS", "1")
    if not os.path.isfile(os.path.join(BUILD, "CMakeCache.txt")):
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        r = subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, *gen, "-DCMAKE_BUILD_TYPE=Release"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("cmake failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    r = subprocess.run(["cmake", "--build", BUILD, "-j", jobs, "--target", "portico", "ldap"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("the release build failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])


# -- slapd ------------------------------------------------------------------------------------

class Slapd:
    def __init__(self, work, port, data, ssha, crypt_hash, crypt_users, cpus,
                 substr_any_len=None):
        self.dir = os.path.join(work, "slapd")
        self.port = port
        for sub in ("db", "crypt-db"):
            os.makedirs(os.path.join(self.dir, sub))
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""# generated by bench/ldap/run.py: a private slapd, loopback only
include {SCHEMA}/core.schema
include {SCHEMA}/cosine.schema
include {SCHEMA}/inetorgperson.schema
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
loglevel none
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited
{f"index_substr_any_len {substr_any_len}" if substr_any_len else ""}

database mdb
maxsize 1073741824
suffix "{BASE}"
rootdn "cn=admin,{BASE}"
directory {self.dir}/db
index objectClass eq
index uid eq
index mail,cn eq,sub
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read

database mdb
maxsize 268435456
suffix "{CRYPT_BASE}"
rootdn "cn=admin,{CRYPT_BASE}"
directory {self.dir}/crypt-db
index objectClass eq
index uid eq
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
""")
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
                    f"o: Example Test\ndc: example\n\n")
            for ou in ("people", "aliases", "lists"):
                f.write(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
            for i, g, s, phone in data:
                f.write(f"dn: uid=user{i},ou=people,{BASE}\nobjectClass: inetOrgPerson\n"
                        f"uid: user{i}\ncn: {g} {s}\nsn: {s}\ngivenName: {g}\n"
                        f"mail: user{i}@{DOMAIN}\ntelephoneNumber: {phone}\n"
                        f"userPassword: {ssha}\n\n")
        crypt_ldif = os.path.join(self.dir, "crypt.ldif")
        with open(crypt_ldif, "w") as f:
            f.write(f"dn: {CRYPT_BASE}\nobjectClass: dcObject\nobjectClass: organization\n"
                    f"o: Crypt Test\ndc: crypt\n\n")
            f.write(f"dn: ou=people,{CRYPT_BASE}\nobjectClass: organizationalUnit\n"
                    f"ou: people\n\n")
            for i in range(1, crypt_users + 1):
                f.write(f"dn: uid=user{i},ou=people,{CRYPT_BASE}\nobjectClass: account\n"
                        f"objectClass: simpleSecurityObject\nuid: user{i}\n"
                        f"userPassword: {{CRYPT}}{crypt_hash}\n\n")
        for suffix, path in ((BASE, ldif), (CRYPT_BASE, crypt_ldif)):
            r = subprocess.run(["slapadd", "-q", "-f", self.conf, "-b", suffix, "-l", path],
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                sys.exit(f"slapadd failed: {r.stdout}{r.stderr}")
        subprocess.run(["chown", "-R", "openldap:openldap", self.dir], check=True)
        os.chmod(self.dir, 0o755)
        self.log = open(os.path.join(self.dir, "slapd.stderr"), "w+")
        cmd = ["slapd", "-d", "0", "-f", self.conf, "-h", f"ldap://127.0.0.1:{port}/",
               "-u", "openldap", "-g", "openldap"]
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if not wait_port(port, self.proc):
            self.stop()
            sys.exit("slapd did not start: " + open(self.log.name).read()[-2000:])
        self.pid = self.proc.pid  # taskset execs slapd: the same PID

    def stop(self):
        stop_pid(self.proc, "slapd")
        self.log.close()


# -- portico ----------------------------------------------------------------------------------

def data_digest(data, yescrypt):
    h = hashlib.sha256(yescrypt.encode())
    for row in data:
        h.update(repr(row).encode())
    return h.hexdigest()


def cached_hash(cache, data):
    """The yescrypt hash of a usable account cache (see --account-cache), or None."""
    try:
        with open(os.path.join(cache, "marker.json")) as f:
            marker = json.load(f)
        if marker["digest"] == data_digest(data, marker["hash"]) and \
                os.path.isdir(os.path.join(cache, "data")):
            return marker["hash"]
    except (OSError, ValueError, KeyError):
        pass
    return None


class Portico:
    def __init__(self, work, port, data, yescrypt, parallel, cpus, cache=None):
        self.dir = os.path.join(work, "portico")
        plugin_dir = os.path.join(self.dir, "plugins")
        os.makedirs(plugin_dir)
        shutil.copy2(LDAP_SO, plugin_dir)  # only the ldap plugin is installed
        self.port = port
        self.config = os.path.join(self.dir, "portico.yaml")
        with open(self.config, "w") as f:
            f.write(f"""# generated by bench/ldap/run.py
server:
  hostname: bench.test
  data_dir: data
  plugin_dir: {plugin_dir}
  log_level: warn
  control_socket: ctl.sock
  metrics: {{enabled: false}}
plugins:
  ldap:
    enabled: true
    listeners: [{{address: 127.0.0.1, port: {port}, tls: none}}]
    allow_plaintext_auth_without_tls: true
    visible_domains: own
    allow_anonymous: false
    size_limit: 0
""")
        t0 = time.monotonic()
        self.reused = bool(cache) and cached_hash(cache, data) == yescrypt
        if self.reused:
            shutil.copytree(os.path.join(cache, "data"), os.path.join(self.dir, "data"),
                            symlinks=True)
        else:
            self.cli("domain", "add", DOMAIN)
            self._create_accounts(data, yescrypt, parallel)
            if cache:
                shutil.rmtree(cache, ignore_errors=True)
                shutil.copytree(os.path.join(self.dir, "data"), os.path.join(cache, "data"),
                                symlinks=True)
                with open(os.path.join(cache, "marker.json"), "w") as f:
                    json.dump({"digest": data_digest(data, yescrypt), "hash": yescrypt}, f)
        self.create_secs = time.monotonic() - t0
        self.log = open(os.path.join(self.dir, "portico.log"), "w+")
        cmd = [BIN, "serve", "--config", self.config]
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_port(port, self.proc):
            self.stop()
            sys.exit("portico did not start: " + open(self.log.name).read()[-2000:])
        self.pid = self.proc.pid

    def cli(self, *args):
        r = subprocess.run([BIN, *args, "--config", self.config], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            sys.exit(f"portico {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def _create_accounts(self, data, yescrypt, parallel):
        """One `portico user add` per account (no bulk path exists), `parallel` at a time."""
        pending = list(data)
        running = []
        done = 0
        started = time.monotonic()
        while pending or running:
            while pending and len(running) < parallel:
                i, g, s, phone = pending.pop(0)
                args = [BIN, "user", "add", f"user{i}@{DOMAIN}", "--password-hash", yescrypt,
                        "--given-name", g, "--surname", s, "--phone", phone,
                        "--config", self.config]
                running.append((args, subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                                       stderr=subprocess.PIPE, text=True)))
            args, p = running.pop(0)
            try:
                _, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                sys.exit(f"{' '.join(args[:4])}: timed out")
            if p.returncode != 0:
                sys.exit(f"{' '.join(args[:4])}: {err}")
            done += 1
            if done % 1000 == 0:
                say(f"  {done} accounts ({time.monotonic() - started:.0f} s)")

    def stop(self):
        stop_pid(self.proc, "portico")
        self.log.close()


# -- the runs ---------------------------------------------------------------------------------

def run_load(tools, server, mode, a, expected_cn, cpus, label, perf_out=None, exclude=()):
    """One bounded ldap_load run against `server`; `exclude`: the pids of the servers started
    here, left out of the other processes' CPU."""
    if mode == "bind-yescrypt":
        base, template, users, load_mode = CRYPT_BASE, CRYPT_DN_TEMPLATE, a.crypt_users, "bind"
    else:
        base, template, users, load_mode = BASE, DN_TEMPLATE, a.users, mode
    secs = a.bind_secs if load_mode == "bind" else a.secs
    cmd = [tools["ldap_load"], "-H", f"ldap://127.0.0.1:{server.port}", "-m", load_mode,
           "-t", str(a.threads), "-n", str(a.ops), "-s", str(secs), "-b", base, "-D", template,
           "-w", PASSWORD, "-u", str(users), "-d", DOMAIN, "-f", SUBSTRING,
           "-e", str(expected_cn), "-S", str(a.seed)]
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    perf = None
    gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + secs + 120
    # Connections are made and bound before the clock starts: measure from LDAP_LOAD_START on.
    # (Read from the raw pipe, so that communicate() below gets whatever follows.)
    first = b""
    while b"\n" not in first and time.monotonic() < deadline:
        ready, _, _ = select.select([gen.stdout], [], [], 1)
        if ready:
            chunk = os.read(gen.stdout.fileno(), 4096)
            if not chunk:
                break
            first += chunk
    sampler = Sampler(server.pid)
    others = compilers_running()
    ticks0 = process_ticks()
    load0, cpu0, stat0 = loadavg(), cpu_seconds(server.pid), cpu_snapshot()
    sampler.start()
    if perf_out and first.startswith(b"LDAP_LOAD_START"):
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "499", "-g", "-o", perf_out,
                                 "-p", str(server.pid)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        out, err = gen.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        gen.kill()
        out, err = gen.communicate()
        err += b"\n(ldap_load killed after its timeout)"
    finally:
        sampler.stop()
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=120)
    cpu1, stat1, load1 = cpu_seconds(server.pid), cpu_snapshot(), loadavg()
    ticks1 = process_ticks()
    other_secs, other_top = others_cpu(ticks0, ticks1, {*exclude, gen.pid, os.getpid()}
                                       | ({perf.pid} if perf is not None else set()))
    r = subprocess.CompletedProcess(cmd, gen.returncode, (first + out).decode(errors="replace"),
                                    err.decode(errors="replace"))
    m = re.search(r"ops=(\d+) entries=(\d+) errors=(\d+) wall=([\d.]+)s rate=(\d+) ops/s "
                  r"p50=([\d.]+)ms p99=([\d.]+)ms max=([\d.]+)ms client_cpu=([\d.]+)s "
                  r"connect=([\d.]+)s", r.stdout)
    if not m:
        sys.exit(f"{label}: ldap_load said:\n{r.stdout}{r.stderr}")
    ops, entries, errors = int(m[1]), int(m[2]), int(m[3])
    result = {
        "label": label, "ops": ops, "entries": entries, "errors": errors,
        "wall": float(m[4]), "rate": int(m[1]) / max(float(m[4]), 1e-9),
        "p50": float(m[6]), "p99": float(m[7]),
        "max": float(m[8]), "client_cpu": float(m[9]), "connect": float(m[10]),
        "server_cpu": cpu1 - cpu0, "busy": busy_percent(stat0, stat1),
        "load": (load0, load1), "others": others, "other_cpu": other_secs,
        "other_top": other_top,
        "rss_mib": sampler.peak_rss / 1024, "pss_mib": sampler.peak_pss / 1024,
        "stderr": r.stderr.strip(),
    }
    result["cpu_per_op_us"] = 1e6 * result["server_cpu"] / ops if ops else 0
    return result


def perf_report(path):
    r = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "--sort",
                        "dso,symbol", "--percent-limit", "1", "-g", "none"],
                       capture_output=True, text=True, timeout=300)
    return "\n".join(line[:160] for line in r.stdout.splitlines()
                     if line and not line.startswith("#"))[:8000]


def hash_rates(tools, yescrypt, secs, pin):
    """{label: (verifications/s, ms each, load average before)}: one thread and two threads where
    the servers run (core 0 when pinned: two is what portico's auth pool runs at once there), and
    two threads on both cores."""
    out = {}
    runs = [("1 thread on core 0", 1, "0"), ("2 threads on core 0", 2, "0")] if pin else \
        [("1 thread", 1, None)]
    runs.append(("2 threads on both cores", 2, None))
    for label, threads, cpus in runs:
        cmd = [tools["hashrate"], "rate", yescrypt, PASSWORD, str(threads), str(secs), "100000"]
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        load0 = loadavg()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
        m = re.search(r"rate=([\d.]+)/s per_verification=([\d.]+)ms", r.stdout)
        if not m:
            sys.exit("hashrate: " + r.stdout + r.stderr)
        out[label] = (float(m[1]), float(m[2]), load0)
    return out


def fmt_rate(rate):
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}"


def fmt_row(mode, rnd, name, res):
    per_op = res["entries"] / res["ops"] if res["ops"] else 0
    gen = 100 * res["client_cpu"] / ((res["wall"] + res["connect"]) or 1)
    top = ", ".join(f"{n} {c:.1f}" for n, c in res["other_top"][:2]) or "-"
    return (f"| {mode} | {rnd} | {name} | {fmt_rate(res['rate'])} | {res['ops']:,} in "
            f"{res['wall']:.1f} s"
            f" | {per_op:.0f} | {res['p50']:.2f} / {res['p99']:.2f} | {res['cpu_per_op_us']:.0f}"
            f" | {gen:.0f} % | {res['busy']:.0f} % | {res['other_cpu']:.1f} s ({top})"
            f" | {res['load'][0]:.1f} → {res['load'][1]:.1f} | {res['rss_mib']:.1f} / "
            f"{res['pss_mib']:.1f} | {res['errors']} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ops", type=int, default=200000, help="operations per run at most")
    ap.add_argument("--secs", type=float, default=20, help="seconds per search run at most")
    ap.add_argument("--bind-secs", type=float, default=20, help="seconds per bind run at most")
    ap.add_argument("--modes", nargs="+", default=["mail", "cn", "bind", "bind-yescrypt"],
                    choices=["mail", "cn", "bind", "bind-yescrypt"])
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--crypt-users", type=int, default=100,
                    help="slapd entries with the yescrypt {CRYPT} password (dc=crypt,dc=test)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin the servers to core 0 and the generator to core 1")
    ap.add_argument("--create-parallel", type=int, default=2,
                    help="`portico user add` processes at once while making the accounts")
    ap.add_argument("--hash-secs", type=float, default=10)
    ap.add_argument("--slapd-substr-any-len", type=int, metavar="N",
                    help="slapd's index_substr_any_len (default: slapd's own, 4, which cannot "
                         "serve a 3-character *smi* from the index; 3 lets it)")
    ap.add_argument("--account-cache", metavar="DIR",
                    help="keep a copy of portico's data folder with the accounts here, and reuse "
                         "it when the people and the hash are the same (skips 10,000 CLI calls)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (slapd is started as the openldap user)")
    for tool in ("slapd", "slapadd", "slappasswd", "gcc", "taskset"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is needed (Debian packages slapd, gcc, util-linux)")
    if os.environ.get("PERF") and not shutil.which("perf"):
        sys.exit("PERF=1 needs perf (linux-perf)")
    pin_server = "0" if a.pin else None
    pin_client = "1" if a.pin else None
    if not os.environ.get("SKIP_BUILD"):
        say(f"building portico and the ldap plugin (release, -j {os.environ.get('JOBS', '1')})")
        build_release()
    if not (os.path.isfile(BIN) and os.path.isfile(LDAP_SO)):
        sys.exit(f"no release build at {BUILD} (run without SKIP_BUILD)")

    work = tempfile.mkdtemp(prefix="portico-ldapbench.", dir="/tmp")
    os.chmod(work, 0o755)
    slapd = portico = None
    try:
        tools = compile_tools(work)
        data = people(a.users, a.seed)
        expected_cn = sum(1 for _, g, s, _ in data if SUBSTRING in f"{g} {s}".lower())
        yescrypt = (a.account_cache and cached_hash(a.account_cache, data)) or subprocess.run(
            [tools["hashrate"], "make", PASSWORD, "$y$"], capture_output=True, text=True,
            check=True).stdout.strip()
        ssha = subprocess.run(["slappasswd", "-h", "{SSHA}", "-s", PASSWORD],
                              capture_output=True, text=True, check=True).stdout.strip()
        say(f"{a.users} people; (cn=*{SUBSTRING}*) matches {expected_cn} of them "
            f"({100 * expected_cn / a.users:.1f} %); portico's hash {yescrypt[:10]}... (yescrypt),"
            f" slapd's {{SSHA}}; {a.threads} client threads; servers "
            f"{'on core 0, the generator on core 1' if a.pin else 'and generator unpinned'}")
        with open("/proc/cpuinfo") as f:
            model = re.search(r"model name\s*:\s*(.*)", f.read())
        say(f"machine: {os.cpu_count()} cores, {model[1] if model else '?'}, load average "
            f"{loadavg():.2f}, {compilers_running()} compiler processes running")

        t0 = time.monotonic()
        slapd = Slapd(work, free_port(), data, ssha, yescrypt, a.crypt_users, pin_server,
                      a.slapd_substr_any_len)
        say(f"slapd {slapd.pid} on 127.0.0.1:{slapd.port} ({time.monotonic() - t0:.1f} s to "
            f"generate and slapadd)")
        if not (a.account_cache and cached_hash(a.account_cache, data) == yescrypt):
            say(f"creating {a.users} portico accounts through the CLI "
                f"({a.create_parallel} at a time)...")
        portico = Portico(work, free_port(), data, yescrypt, a.create_parallel, pin_server,
                          a.account_cache)
        if portico.reused:
            say(f"portico {portico.pid} on 127.0.0.1:{portico.port} (accounts copied from "
                f"{a.account_cache}, made there earlier with the same CLI calls)")
        else:
            say(f"portico {portico.pid} on 127.0.0.1:{portico.port} (accounts made in "
                f"{portico.create_secs:.0f} s, {1000 * portico.create_secs / a.users:.1f} ms "
                f"each)")
        servers = {"slapd": slapd, "portico": portico}
        pids = {slapd.pid, portico.pid}

        # Warm-up and correctness, untimed: portico builds its in-memory DIT at the first search;
        # every cn search must return expected_cn entries and every mail search one, on both.
        for name, srv in servers.items():
            for mode, ops in (("mail", 2000), ("cn", 20), ("bind", 16)):
                if mode == "bind" and name == "portico":
                    ops = 8
                w = argparse.Namespace(**{**vars(a), "ops": ops, "secs": 60, "bind_secs": 60})
                res = run_load(tools, srv, mode, w, expected_cn, pin_client, f"warm-up {name}",
                               exclude=pids)
                if res["errors"] or res["ops"] != ops:
                    sys.exit(f"warm-up {name} {mode}: {res['ops']} ok, {res['errors']} errors: "
                             f"{res['stderr']}")
            say(f"warm-up {name}: mail, cn ({expected_cn} entries each) and bind answered "
                f"correctly; idle RSS {status_kib(srv.pid, 'VmRSS') / 1024:.1f} MiB, PSS "
                f"{pss_kib(srv.pid) / 1024:.1f} MiB")

        say("\n| mode | round | server | ops/s | ops in wall | entries/op | p50 / p99 ms |"
            " server CPU µs/op | generator CPU (% of a core) | machine busy |"
            " other processes' CPU s (top) | load avg | peak RSS / PSS MiB | errors |")
        say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        results = {}
        peaks = {}
        rates_before = None
        for mode in a.modes:
            if mode.startswith("bind") and rates_before is None:
                # the hash's own rate next to the bind rounds, once before them and once after
                rates_before = hash_rates(tools, yescrypt, a.hash_secs, a.pin)
            order_names = ["slapd"] if mode == "bind-yescrypt" else ["slapd", "portico"]
            for srv in servers.values():
                reset_peak(srv.pid)
            for rnd in range(1, a.rounds + 1):
                names = order_names if rnd % 2 == 1 else list(reversed(order_names))
                for name in names:
                    perf_out = None
                    if os.environ.get("PERF") and name == "portico" and rnd == 1:
                        perf_out = os.path.join(work, f"perf-{mode}.data")
                    res = run_load(tools, servers[name], mode, a, expected_cn, pin_client,
                                   f"{mode} {rnd} {name}", perf_out, pids)
                    results.setdefault((mode, name), []).append(res)
                    say(fmt_row(mode, rnd, name, res))
                    if res["errors"]:
                        say(f"  errors: {res['stderr']}")
                    if perf_out:
                        say(f"\nportico's profile, {mode}, round 1:\n{perf_report(perf_out)}\n")
            for name in order_names:
                peaks[(mode, name)] = status_kib(servers[name].pid, "VmHWM") / 1024

        say(f"\nhash rate: yescrypt verifications ({yescrypt[:7]}..., libxcrypt's default cost),"
            f" {a.hash_secs:.0f} s each")
        rates = hash_rates(tools, yescrypt, a.hash_secs, a.pin)
        if rates_before:  # the mean of the two measurements
            for label, (rate, per, load0) in rates_before.items():
                say(f"  before the binds, {label}: {rate:.1f}/s ({per:.1f} ms of wall time each;"
                    f" load average {load0:.1f})")
        for label, (rate, per, load0) in rates.items():
            say(f"  {'after the binds, ' if rates_before else ''}{label}: {rate:.1f}/s ({per:.1f} "
                f"ms of wall time each; load average {load0:.1f})")
        if rates_before:
            rates = {k: ((v[0] + rates_before[k][0]) / 2, v[1], v[2]) for k, v in rates.items()}

        say("\nsummary (median of the rounds; portico/slapd per round; peak RSS: the largest VmRSS"
            " sampled under the load / VmHWM over the mode, its connection binds included):")
        for mode in a.modes:
            s_runs = results.get((mode, "slapd"), [])
            p_runs = results.get((mode, "portico"), [])
            line = f"  {mode:13}"
            for name, runs in (("slapd", s_runs), ("portico", p_runs)):
                if runs:
                    line += (f" {name} {fmt_rate(statistics.median(r['rate'] for r in runs))}/s"
                             f" ({statistics.median(r['cpu_per_op_us'] for r in runs):,.0f} µs "
                             f"CPU/op, peak RSS {max(r['rss_mib'] for r in runs):.1f} / "
                             f"{peaks[(mode, name)]:.1f} MiB);")
            if s_runs and p_runs:
                ratios = [pp["rate"] / ss["rate"] for pp, ss in zip(p_runs, s_runs) if ss["rate"]]
                line += " ratios " + ", ".join(f"{x:.2f}" if x >= 0.1 else f"{x:.5f}"
                                               for x in ratios)
            say(line)
        refs = ["1 thread on core 0", "2 threads on core 0"] if a.pin else \
            ["1 thread", "2 threads on both cores"]
        for mode, name in (("bind", "portico"), ("bind-yescrypt", "slapd")):
            if (mode, name) in results:
                rate = statistics.median(r["rate"] for r in results[(mode, name)])
                say(f"  {name} yescrypt binds / the hash's own rate (mean of the measurements): " +
                    ", ".join(
                    f"{rate:.1f} / {rates[ref][0]:.1f} = {rate / rates[ref][0]:.2f} ({ref})"
                    for ref in refs))
        say(f"load average at the end {loadavg():.2f}")
    finally:
        for srv in (portico, slapd):
            if srv is not None and getattr(srv, "proc", None) is not None:
                srv.stop()
        if os.environ.get("KEEP_WORK"):
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

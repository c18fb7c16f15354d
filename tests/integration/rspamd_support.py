"""A private rspamd for the integration tests (Python 3 standard library only).

`Rspamd(tmpdir, password=None)` runs Debian's /usr/bin/rspamd (3.4) in the foreground with a
configuration of its own, written under `tmpdir`:

    with Rspamd(tmpdir, password="secret") as r:
        reply = r.check(message, {"IP": "192.0.2.1", "From": "a@example.org", ...})
        status, body = r.learn("spam", message)

What it guarantees:
- Isolation: a normal worker (/checkv2) and a controller worker (/learnspam, /learnham, /ping,
  /stat), each on its own free 127.0.0.1 port (`normal_port`, `controller_port`); no
  proxy, no fuzzy storage, nothing on rspamd's default ports. The stock files of /etc/rspamd
  are included, but never /etc/rspamd/local.d or override.d (LOCAL_CONFDIR is <tmpdir>/conf).
  State (db, run and log folders, bayes sqlite files) lives under `tmpdir`; the one exception
  is the cache of compiled hyperscan databases, shared between instances (see HS_CACHE_DIR).
  No Redis.
- No network: the modules that query DNS or fetch remote data are disabled (rbl, surbl,
  emails, spf, dkim, dmarc, arc, asn, fuzzy_check, phishing, hfilter, once_received,
  multimap, whitelist, mx_check, ...) and the resolver points at a dead loopback port. A check
  of a small message answers in a few milliseconds.
- Determinism: GTUBE test patterns are on; per request, the `Settings` header can move the
  action thresholds (`settings_header()`), and the message header X-Portico-Test-Action forces
  an action through force_actions (`TEST_ACTIONS`, with an SMTP message for reject, soft
  reject and greylist). milter_headers adds its headers (the reply's "milter" object).
- Learning: bayes with the sqlite3 backend (min_learns 1, min_token_hits 1: one learn of
  each class is enough for BAYES_SPAM/BAYES_HAM); with a password, the controller
  answers 401 to any request without it (no secure_ip exemption).
- Bounded: start() waits at most `start_timeout` s for both workers to answer /ping and raises
  with rspamd's log tail otherwise; stop() (also __exit__) sends SIGTERM to the process it
  started, SIGKILL to its process group after a bound, and waits until none of them is left.

Run as root (as in CI), rspamd refuses to start workers as root: they run as _rspamd
(`-u _rspamd -g _rspamd`, the folders they write chowned to it) when that user exists and can
reach `tmpdir`, else rspamd gets `--insecure`.

Self-test: python3 tests/integration/rspamd_support.py
Recording of tests/unit/filter/replies: python3 tests/integration/rspamd_support.py --record DIR
"""

import grp
import json
import os
import pwd
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RSPAMD = "/usr/bin/rspamd"
RSPAMD_USER = "_rspamd"

# GTUBE patterns of rspamd 3.4 (a line of a text or HTML part). Only the first is matched by
# default; the other three need options.enable_test_patterns (set here unless
# test_patterns=False). Replies: symbol GTUBE, messages.smtp_message "Gtube pattern", no other
# symbol and no "milter" object (the filters are skipped).
GTUBE_REJECT = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
GTUBE_ADD_HEADER = b"YJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
GTUBE_REWRITE_SUBJECT = b"ZJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
GTUBE_NO_ACTION = b"AJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

# A message header that forces an action (force_actions rules of this configuration): value ->
# (rspamd's action, options of the rule; "message" becomes messages.smtp_message, "subject"
# the rewritten subject, %s the original one).
TEST_ACTION_HEADER = "X-Portico-Test-Action"
TEST_ACTIONS = {
    "reject": ("reject", {"message": "5.7.1 Rejected by the test header"}),
    "soft-reject": ("soft reject", {"message": "4.7.1 Try again later (test header)"}),
    "greylist": ("greylist", {"message": "4.7.1 Greylisted (test header)"}),
    "add-header": ("add header", {}),
    "rewrite-subject": ("rewrite subject", {"subject": "[SPAM] %s"}),
    "no-action": ("no action", {}),
}

# milter_headers routines enabled here (none needs the network). X-Rspamd-Server says
# "rspamd.test"; Authentication-Results names the MTA-Name request header (else this host).
MILTER_ROUTINES = ["x-spamd-result", "x-rspamd-server", "x-rspamd-queue-id", "x-rspamd-action",
                   "x-spam-level", "x-spam-status", "authentication-results",
                   "remove-spam-flag"]

# Modules that would query DNS, fetch remote maps or need Redis: all disabled. (dkim and
# fuzzy_check are C modules, left out of options.filters as well.)
DISABLED_MODULES = [
    "antivirus", "arc", "asn", "aws_s3", "bimi", "clickhouse", "clustering", "dcc", "dkim",
    "dkim_signing", "dmarc", "dynamic_conf", "elastic", "emails", "external_relay",
    "external_services", "fuzzy_check", "fuzzy_collect", "greylist", "hfilter", "history_redis",
    "http_headers", "ip_score", "maps_stats", "metadata_exporter", "metric_exporter", "multimap",
    "mx_check", "neural", "once_received", "p0f", "phishing", "ratelimit", "rbl", "replies",
    "reputation", "rspamd_update", "spamassassin", "spamtrap", "spf", "surbl", "url_redirector",
    "whitelist", "bayes_expiry",
]

# The schemas rspamd 3.4 gives the bayes statfiles (sqlite3 backend) and the learn cache
# (src/libstat/backends/sqlite3_backend.c, src/libstat/learn_cache/sqlite3_cache.c). The files
# are created before rspamd starts: otherwise the controller and the normal worker race to
# create them (seen once in about twenty trial runs: every learn of that instance failed with
# 500 "cannot commit checkpoint: database is locked"; none since the files are made here).
STATFILE_SCHEMA = (
    "CREATE TABLE tokenizer(data BLOB);"
    "CREATE TABLE users(id INTEGER PRIMARY KEY,name TEXT,learns INTEGER);"
    "CREATE TABLE languages(id INTEGER PRIMARY KEY,name TEXT,learns INTEGER);"
    "CREATE TABLE tokens(token INTEGER NOT NULL,"
    "user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "language INTEGER NOT NULL REFERENCES languages(id) ON DELETE CASCADE,"
    "value INTEGER,modified INTEGER,"
    "CONSTRAINT tid UNIQUE (token, user, language) ON CONFLICT REPLACE);"
    "CREATE UNIQUE INDEX IF NOT EXISTS un ON users(name);"
    "CREATE INDEX IF NOT EXISTS tok ON tokens(token);"
    "CREATE UNIQUE INDEX IF NOT EXISTS ln ON languages(name);"
    "PRAGMA user_version=1;"
    "INSERT INTO users(id, name, learns) VALUES(0, 'default',0);"
    "INSERT INTO languages(id, name, learns) VALUES(0, 'default',0);")
LEARN_CACHE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS learns(id INTEGER PRIMARY KEY,flag INTEGER NOT NULL,"
    "digest TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS d ON learns(digest);")
STAT_FILES = {"bayes.ham.sqlite": STATFILE_SCHEMA, "bayes.spam.sqlite": STATFILE_SCHEMA,
              "learn_cache.sqlite": LEARN_CACHE_SCHEMA}

# rspamd compiles its URL TLD matcher (9,600 suffixes) with hyperscan when it starts: about
# 15 s of CPU, unless the compiled database is in options.hs_cache_dir. Cache files are named
# by the hash of what they hold, checked when loaded and written through a temporary file and a
# rename, so instances share one folder by default and only the first start on a machine pays.
# PORTICO_RSPAMD_CACHE or hs_cache_dir= choose another folder; "private" keeps it in
# <tmpdir>/db (every start then compiles).
HS_CACHE_DIR = os.path.join(tempfile.gettempdir(), "portico-rspamd-hs-cache")

# Generous: the very first start on a machine compiles the hyperscan cache (~15-20 s, longer on
# a loaded CI runner); later starts take about 1 s.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
IO_TIMEOUT = 10.0


def settings_header(action, subject=None):
    """A `Settings` request header value (JSON) whose thresholds make rspamd answer `action`
    for any message scoring above -1000: "reject", "add header", "rewrite subject", "greylist"
    or "no action". ("soft reject" has no threshold: use TEST_ACTIONS.)"""
    low, off = -1000, None
    thresholds = {"reject": off, "add header": off, "rewrite subject": off, "greylist": off}
    if action in thresholds:
        thresholds[action] = low
    elif action != "no action":
        raise ValueError(f"no threshold gives {action!r}")
    settings = {"actions": thresholds}
    if subject is not None:
        settings["subject"] = subject
    return json.dumps(settings)


def _ucl_string(value):
    """A double-quoted UCL string (JSON escaping is valid UCL)."""
    return json.dumps(str(value))


def header_pairs(headers):
    """A dict or a list of (name, value) pairs as a list of pairs (a list may repeat a name,
    e.g. one Rcpt per recipient)."""
    if headers is None:
        return []
    if isinstance(headers, dict):
        return [(k, str(v)) for k, v in headers.items()]
    return [(k, str(v)) for k, v in headers]


def exchange(port, method, path, headers=None, body=None, timeout=IO_TIMEOUT):
    """One HTTP/1.1 request over a plain socket (Connection: close), read to the end. Returns
    (status, reason, [(name, value)], body bytes) exactly as rspamd sent them. Unlike urllib and
    http.client it keeps the body of a 204 reply (rspamd 3.4 sends one when it cannot learn)."""
    body = b"" if body is None else body
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in header_pairs(headers)]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if time.monotonic() > deadline:
                raise TimeoutError(f"no end of the reply to {method} {path} within {timeout}s")
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"not an HTTP reply: {data[:200]!r}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    reply_headers = []
    for line in header_lines:
        name, _, value = line.partition(":")
        reply_headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in reply_headers if k.lower() == "content-length"), None)
    return int(status), reason, reply_headers, rest if length is None else rest[:length]


class RspamdError(AssertionError):
    pass


class Rspamd:
    """A private rspamd: `with Rspamd(tmpdir, password="secret") as r: r.check(message)`."""

    def __init__(self, tmpdir, password=None, start_timeout=START_TIMEOUT, debug_modules=(),
                 hs_cache_dir=None, test_patterns=True, normal_workers=1):
        self.dir = os.path.abspath(tmpdir)
        self.normal_workers = normal_workers  # processes of the normal worker (benchmarks: cores)
        self.password = password
        self.start_timeout = start_timeout
        self.debug_modules = list(debug_modules)  # e.g. ["protocol"]: logs each request header
        self.hs_cache_dir = hs_cache_dir
        self.test_patterns = test_patterns
        self.normal_port = None
        self.controller_port = None
        self.proc = None
        self._stopped = False
        self.command = None
        self._stderr = None
        self.confdir = os.path.join(self.dir, "conf")  # LOCAL_CONFDIR
        self.dbdir = os.path.join(self.dir, "db")
        self.rundir = os.path.join(self.dir, "run")
        self.logdir = os.path.join(self.dir, "log")
        self.config_path = os.path.join(self.dir, "rspamd.conf")
        self.log_path = os.path.join(self.logdir, "rspamd.log")
        self.stderr_path = os.path.join(self.dir, "rspamd.stderr")

    # -- configuration ----------------------------------------------------------------------

    def _write(self, relative, text):
        path = os.path.join(self.dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def write_config(self):
        for d in (self.confdir, self.dbdir, self.rundir, self.logdir):
            os.makedirs(d, exist_ok=True)
        self.normal_port, self.controller_port, dead_dns = harness.free_ports(3)
        hs_cache = self._cache_dir()
        password_lines = ""
        if self.password is not None:
            # Plain passwords are accepted (rspamd logs a warning); `rspamadm pw` would hash it.
            password_lines = (f"    password = {_ucl_string(self.password)};\n"
                              f"    enable_password = {_ucl_string(self.password)};\n")
        # common.conf of /etc/rspamd, inlined without its statistic.conf (bayes is defined
        # here), and only the two workers.
        self._write("rspamd.conf", f"""\
# Private rspamd configuration written by tests/integration/rspamd_support.py.
lua = "$RULESDIR/rspamd.lua";
.include "$CONFDIR/metrics.conf"
.include "$CONFDIR/actions.conf"
.include "$CONFDIR/groups.conf"
.include "$CONFDIR/composites.conf"
.include "$CONFDIR/modules.conf"
.include "$CONFDIR/settings.conf"
modules {{
    path = "${{PLUGINSDIR}}";
    fallback_path = "${{SHAREDIR}}/lua";
}}

classifier "bayes" {{
    tokenizer {{
        name = "osb";
    }}
    backend = "sqlite3";
    min_tokens = 11;
    min_learns = 1;
    min_token_hits = 1;
    cache {{
        type = "sqlite3";
        file = "$DBDIR/learn_cache.sqlite";
    }}
    statfile {{
        symbol = "BAYES_HAM";
        path = "$DBDIR/bayes.ham.sqlite";
        spam = false;
    }}
    statfile {{
        symbol = "BAYES_SPAM";
        path = "$DBDIR/bayes.spam.sqlite";
        spam = true;
    }}
    learn_condition = 'return require("lua_bayes_learn").can_learn';
}}

options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(priority=10) "$LOCAL_CONFDIR/override.d/options.inc"
}}

logging {{
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    .include "$CONFDIR/logging.inc"
    .include(priority=10) "$LOCAL_CONFDIR/override.d/logging.inc"
}}

worker "normal" {{
    bind_socket = "127.0.0.1:{self.normal_port}";
    mime = true;
    count = {self.normal_workers};
}}

worker "controller" {{
    bind_socket = "127.0.0.1:{self.controller_port}";
    count = 1;
{password_lines}}}
""")
        self._write("conf/override.d/options.inc", f"""\
filters = "chartable,regexp";
enable_test_patterns = {"true" if self.test_patterns else "false"};
hs_cache_dir = {_ucl_string(hs_cache)};
dns {{
    nameserver = ["127.0.0.1:{dead_dns}"];
    timeout = 0.1s;
    retransmits = 1;
}}
""")
        debug = ", ".join(_ucl_string(m) for m in self.debug_modules)
        self._write("conf/override.d/logging.inc", f"""\
level = "info";
debug_modules = [{debug}];
""")
        self._write("conf/local.d/milter_headers.conf", f"""\
use = [{", ".join(_ucl_string(r) for r in MILTER_ROUTINES)}];
skip_local = false;
skip_authenticated = false;
routines {{
    x-rspamd-server {{
        hostname = "rspamd.test";
    }}
}}
""")
        # One symbol per value of the test header, and the force_actions rule it triggers.
        regexp_rules, force_rules = [], []
        for value, (action, extra) in TEST_ACTIONS.items():
            tag = value.upper().replace("-", "_")
            regexp_rules.append(f"""\
PORTICO_TEST_{tag} {{
    re = "{TEST_ACTION_HEADER}=/^{value}$/iH";
    score = 0.0;
    description = "Test header asks for {action}";
}}
""")
            options = "".join(f"        {k} = {_ucl_string(v)};\n" for k, v in extra.items())
            force_rules.append(f"""\
    PORTICO_FORCE_{tag} {{
        action = {_ucl_string(action)};
        expression = "PORTICO_TEST_{tag}";
{options}    }}
""")
        self._write("conf/local.d/regexp.conf", "".join(regexp_rules))
        self._write("conf/local.d/force_actions.conf",
                    "rules {\n" + "".join(force_rules) + "}\n")
        for module in DISABLED_MODULES:
            self._write(f"conf/override.d/{module}.conf", "enabled = false;\n")
        self._create_stat_files()
        return self.config_path

    def _create_stat_files(self):
        for name, schema in STAT_FILES.items():
            path = os.path.join(self.dbdir, name)
            if os.path.exists(path):
                continue
            db = sqlite3.connect(path)
            try:
                db.execute("PRAGMA journal_mode=wal")
                db.executescript("BEGIN;" + schema + "COMMIT;")
            finally:
                db.close()

    def _cache_dir(self):
        """The hyperscan cache folder: the shared one if it can be used, else <tmpdir>/db."""
        private = self.dbdir + "/"
        wanted = self.hs_cache_dir or os.environ.get("PORTICO_RSPAMD_CACHE") or HS_CACHE_DIR
        if wanted == "private":
            return private
        try:
            os.makedirs(wanted, exist_ok=True)
            st = os.stat(wanted)
            if os.geteuid() == 0:
                user = self._worker_user()
                if user is not None and st.st_uid != user.pw_uid:
                    os.chown(wanted, user.pw_uid, user.pw_gid)
            elif st.st_uid != os.geteuid():
                return private
        except OSError:
            return private
        return wanted.rstrip("/") + "/"

    # -- process ----------------------------------------------------------------------------

    @staticmethod
    def _worker_user():
        try:
            return pwd.getpwnam(RSPAMD_USER)
        except KeyError:
            return None

    def _privilege_options(self):
        """How rspamd may run its workers: as _rspamd when we are root (rspamd refuses root
        workers without --insecure) and _rspamd can reach tmpdir; else --insecure."""
        if os.geteuid() != 0:
            return []
        user = self._worker_user()
        if user is None:
            return ["-i"]
        # Every parent of tmpdir must be searchable by others (tmpdir itself is made so).
        parent = os.path.dirname(self.dir)
        while True:
            if not os.stat(parent).st_mode & 0o001:
                return ["-i"]
            if parent == os.path.dirname(parent):
                break
            parent = os.path.dirname(parent)
        os.chmod(self.dir, os.stat(self.dir).st_mode | 0o011)
        for folder in (self.dbdir, self.rundir, self.logdir):  # what the workers write
            for root, _, files in os.walk(folder):
                os.chown(root, user.pw_uid, user.pw_gid)
                for name in files:
                    os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)
        return ["-u", user.pw_name, "-g", grp.getgrgid(user.pw_gid).gr_name]

    def start(self):
        if self.alive():
            raise RspamdError("this rspamd is already running")
        os.makedirs(self.dir, exist_ok=True)
        self.write_config()
        for stale in (self.log_path, self.stderr_path):
            if os.path.exists(stale):
                os.unlink(stale)
        self.command = [RSPAMD, "-f", *self._privilege_options(), "-c", self.config_path,
                        f"--var=LOCAL_CONFDIR={self.confdir}", f"--var=DBDIR={self.dbdir}",
                        f"--var=RUNDIR={self.rundir}", f"--var=LOGDIR={self.logdir}"]
        self._stderr = open(self.stderr_path, "ab")
        self._stopped = False
        # A session (and process group) of its own: stop() can then make sure no worker
        # outlives it, without touching any other process.
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr, cwd=self.dir,
                                     start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout=None):
        """Waits until both workers answer GET /ping with "pong"."""
        timeout = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        pending = {"normal": self.normal_port, "controller": self.controller_port}
        while True:
            for name, port in list(pending.items()):
                if self._pong(port):
                    del pending[name]
            if not pending:
                return
            if self.proc.poll() is not None:
                raise RspamdError(f"rspamd exited with {self.proc.returncode} before it was "
                                  f"ready\ncommand: {' '.join(self.command)}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RspamdError(f"rspamd's {' and '.join(pending)} worker did not answer "
                                  f"/ping within {timeout}s\ncommand: {' '.join(self.command)}"
                                  f"\n{self.log_tail()}")
            time.sleep(0.1)

    @staticmethod
    def _pong(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as r:
                return r.status == 200 and r.read().strip() == b"pong"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM to the rspamd started here (it stops its workers), SIGKILL to its process
        group after `timeout`; waits until the group is empty. Returns rspamd's exit status
        (None if it was never started)."""
        if self.proc is None:
            return None
        if self._stopped:  # a second stop() (e.g. __exit__ after stop()) signals nothing
            return self.proc.returncode
        pid = self.proc.pid
        if self.proc.poll() is None:
            self._signal_and_wait(lambda: os.kill(pid, signal.SIGTERM), timeout)
        # Whatever is left of the group (a stuck main process, an orphaned worker) is killed.
        # The group id is rspamd's pid (start_new_session), so only its processes match.
        self._signal_and_wait(lambda: os.killpg(pid, signal.SIGKILL), timeout)
        self._stopped = True
        try:
            self._wait_group_gone(pid, timeout)
        finally:
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
        return self.proc.returncode

    def _signal_and_wait(self, send, timeout):
        try:
            send()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    @staticmethod
    def _wait_group_gone(pgid, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            if time.monotonic() > deadline:
                raise RspamdError(f"processes of rspamd's group {pgid} are still running")
            time.sleep(0.05)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        """rspamd's stderr and log file."""
        text = ""
        for path in (self.stderr_path, self.log_path):
            try:
                with open(path, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def log_tail(self, lines=40):
        return "rspamd log (tail):\n" + "\n".join(self.log().splitlines()[-lines:])

    # -- HTTP -------------------------------------------------------------------------------

    def check(self, message_bytes, headers=None, timeout=IO_TIMEOUT):
        """POSTs the message to http://127.0.0.1:normal_port/checkv2 (urllib) and returns the
        parsed JSON reply; raises RspamdError on another status than 200. `headers`: a dict,
        or a list of (name, value) pairs to repeat a name (one Rcpt per recipient; sent with
        http.client then, as urllib keeps one value per name)."""
        pairs = header_pairs(headers)
        names = [name.lower() for name, _ in pairs]
        if len(set(names)) == len(names):
            req = urllib.request.Request(f"http://127.0.0.1:{self.normal_port}/checkv2",
                                         data=message_bytes, method="POST")
            for name, value in pairs:
                req.add_header(name, value)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    status, body = r.status, r.read()
            except urllib.error.HTTPError as e:
                with e:
                    status, body = e.code, e.read()
        else:
            status, body = self._http_client("/checkv2", message_bytes, pairs, timeout)
        if status != 200:
            raise RspamdError(f"/checkv2 answered {status}: {body!r}")
        return json.loads(body)

    def _http_client(self, path, body, pairs, timeout):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.normal_port, timeout=timeout)
        try:
            conn.putrequest("POST", path)
            for name, value in pairs:
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def learn(self, kind, message_bytes, headers=None, password=None, timeout=IO_TIMEOUT):
        """POSTs to /learnspam or /learnham (kind "spam" or "ham") of the controller, with this
        instance's password (or `password`; "" sends none). Returns (status, parsed JSON, or
        the raw body when it is not JSON)."""
        pairs = header_pairs(headers)
        pw = self.password if password is None else password
        if pw:
            pairs.append(("Password", pw))
        status, _, _, body = exchange(self.controller_port, "POST", f"/learn{kind}", pairs,
                                      message_bytes, timeout=timeout)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def stat(self, timeout=IO_TIMEOUT):
        """GET /stat of the controller, parsed."""
        pairs = [("Password", self.password)] if self.password else []
        status, _, _, body = exchange(self.controller_port, "GET", "/stat", pairs,
                                      timeout=timeout)
        if status != 200:
            raise RspamdError(f"/stat answered {status}: {body!r}")
        return json.loads(body)

    def request_log(self, queue_id):
        """rspamd's log line for the check of `queue_id` (the Queue-Id header), or None."""
        for line in self.log().splitlines():
            if "rspamd_task_write_log" in line and f"qid: <{queue_id}>" in line:
                return line
        return None


# ---------------------------------------------------------------------------------------------
# Sample messages (also used to record tests/unit/filter/replies).

def make_message(subject="Meeting notes", body="Hi Bob,\r\n\r\nSee you on Monday.\r\n",
                 sender="Alice <alice@example.org>", to="bob@example.net",
                 message_id="<20261201100000.1@example.org>", extra_headers=()):
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             "Date: Tue, 01 Dec 2026 10:00:00 +0000", f"Message-ID: {message_id}",
             "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 7bit", *extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


SPAM_BODY = ("Congratulations dear friend, you have won one million dollars in our international "
             "lottery. Send your bank account details and a small processing fee today to "
             "claim the prize money now.\r\n")
HAM_BODY = ("Hi Bob, here are the notes from the project meeting this morning. We agreed to move "
            "the release to next Thursday and to review the test plan together on Monday "
            "afternoon.\r\n")

ENVELOPE = [("IP", "192.0.2.10"), ("Helo", "mail.example.org"), ("Hostname", "mail.example.org"),
            ("From", "alice@example.org"), ("Rcpt", "bob@example.net"),
            ("Queue-Id", "4QxYz1AbCd"), ("MTA-Name", "mx.portico.test")]


# ---------------------------------------------------------------------------------------------
# Self-test and recording.

def self_test():
    with tempfile.TemporaryDirectory(prefix="portico-rspamd-") as tmp:
        r = Rspamd(tmp, password="secret")
        t0 = time.monotonic()
        with r:
            print(f"started in {time.monotonic() - t0:.2f}s: {' '.join(r.command)}")
            print(f"normal 127.0.0.1:{r.normal_port}, controller 127.0.0.1:{r.controller_port}")
            clean = make_message(body=HAM_BODY)
            times = []
            for i in range(21):
                t = time.monotonic()
                reply = r.check(clean, ENVELOPE)
                times.append(time.monotonic() - t)
            assert reply["action"] == "no action", reply
            warm = sorted(times[1:])
            print(f"clean: {reply['action']} {reply['score']}; first check "
                  f"{times[0] * 1000:.1f} ms, then median {warm[len(warm) // 2] * 1000:.1f} ms, "
                  f"max {warm[-1] * 1000:.1f} ms")
            t = time.monotonic()
            gtube = r.check(make_message(body="Test\r\n" + GTUBE_REJECT.decode() + "\r\n"),
                            ENVELOPE)
            print(f"GTUBE: {gtube['action']} {gtube['messages']} "
                  f"({(time.monotonic() - t) * 1000:.1f} ms)")
            assert gtube["action"] == "reject", gtube
            spam = make_message(subject="You have won", body=SPAM_BODY,
                                sender="Lottery <promo@lottery.example>",
                                message_id="<spam.1@lottery.example>")
            ham = make_message(body=HAM_BODY, message_id="<ham.1@example.org>")
            t = time.monotonic()
            status, body = r.learn("spam", spam)
            print(f"learnspam: {status} {body} ({(time.monotonic() - t) * 1000:.1f} ms)")
            assert status == 200 and body == {"success": True}, (status, body)
            status, body = r.learn("ham", ham)
            print(f"learnham: {status} {body}")
            print(f"learnspam again: {r.learn('spam', spam)}")
            print(f"learnspam without password: {r.learn('spam', ham, password='')}")
            again = r.check(spam, ENVELOPE)
            print("check of the learnt spam: "
                  f"{ {k: v['score'] for k, v in again['symbols'].items() if 'BAYES' in k} }")
            t = time.monotonic()
        code = r.stop()
        print(f"stopped ({code}) in {time.monotonic() - t:.2f}s")


def record(outdir):
    """Writes the reply bodies of tests/unit/filter/replies (see its README) into `outdir`."""
    os.makedirs(outdir, exist_ok=True)

    def save(name, status, reason, body):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(body)
        print(f"{name}: {status} {reason} ({len(body)} bytes)")

    with tempfile.TemporaryDirectory(prefix="portico-rspamd-rec-") as tmp:
        with Rspamd(tmp, password="secret") as r:
            def check(name, message, headers):
                r.check(message, headers)  # warm-up of that path; the second is recorded
                status, reason, _, body = exchange(r.normal_port, "POST", "/checkv2", headers,
                                                   message)
                assert status == 200, (status, body)
                save(name, status, reason, body)
                return json.loads(body)

            def env(queue_id, *extra):
                return [(k, queue_id if k == "Queue-Id" else v) for k, v in ENVELOPE] + list(
                    extra)

            two_rcpts = [("Rcpt", "bob@example.net"), ("Rcpt", "carol@example.net")]
            check("clean.json", make_message(to="bob@example.net, carol@example.net"),
                  env("4QxYz1Clean", *two_rcpts[1:]))
            check("clean-authenticated.json", make_message(),
                  env("4QxYz1Auth", ("User", "alice")))
            check("reject-gtube.json",
                  make_message(subject="Test spam",
                               body="This is the GTUBE:\r\n" + GTUBE_REJECT.decode() + "\r\n"),
                  env("4QxYz1Gtube"))
            check("reject-forced.json",
                  make_message(extra_headers=[f"{TEST_ACTION_HEADER}: reject"]),
                  env("4QxYz1Reject"))
            check("add-header.json", make_message(subject="Cheap watches"),
                  env("4QxYz1AddHdr", ("Settings", settings_header("add header"))))
            check("add-header-gtube.json",
                  make_message(subject="Test spam",
                               body="This is a GTUBE variant:\r\n" +
                               GTUBE_ADD_HEADER.decode() + "\r\n"),
                  env("4QxYz1AddHdrG"))
            check("rewrite-subject.json", make_message(subject="Cheap watches"),
                  env("4QxYz1Rewrite", ("Settings", settings_header("rewrite subject",
                                                                    "[SPAM] %s"))))
            check("rewrite-subject-gtube.json",
                  make_message(subject="Test spam",
                               body="This is a GTUBE variant:\r\n" +
                               GTUBE_REWRITE_SUBJECT.decode() + "\r\n"),
                  env("4QxYz1RewriteG"))
            check("soft-reject.json",
                  make_message(extra_headers=[f"{TEST_ACTION_HEADER}: soft-reject"]),
                  env("4QxYz1Soft"))
            check("greylist.json", make_message(),
                  env("4QxYz1Grey", ("Settings", settings_header("greylist"))))

            spam = make_message(subject="You have won", body=SPAM_BODY,
                                sender="Lottery <promo@lottery.example>",
                                message_id="<spam.1@lottery.example>")
            pw = [("Password", "secret")]

            def learn(name, path, message, headers, expected):
                status, reason, _, body = exchange(r.controller_port, "POST", path, headers,
                                                   message)
                assert status == expected, (name, status, reason, body)
                save(name, status, reason, body)

            learn("learn-ok.json", "/learnspam", spam, pw, 200)
            learn("learn-error-already-learned.json", "/learnspam", spam, pw, 404)
            learn("learn-error-too-few-tokens.json", "/learnham",
                  make_message(body="Hi\r\n", message_id="<short.1@example.org>"), pw, 204)
            learn("learn-error-unauthorized.json", "/learnham", spam, [("Password", "wrong")],
                  401)
            learn("learn-error-empty-body.json", "/learnham", b"", pw, 400)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--record":
        record(sys.argv[2])
    elif len(sys.argv) == 1:
        self_test()
    else:
        sys.exit(f"usage: {sys.argv[0]} [--record DIR]")

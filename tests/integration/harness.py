"""Shared helpers of Portico's integration tests (Python 3 standard library only).

The tests start the real `portico` binary with a temporary configuration on loopback ports (see
free_ports) and drive it over real sockets. Everything here is bounded: every socket has a
timeout, every wait has a deadline, and a server started by a test is always killed (by its own
PID) when the test ends, even when the test fails.

Locations come from the environment (set by ctest, see CMakeLists.txt):
  PORTICO_BIN           the `portico` executable
  PORTICO_TEST_PLUGINS  the build's test-plugins folder (good/, mixed/, ...)
  PORTICO_BUILD_DIR     the main build folder (for build_example.sh)
  PORTICO_SOURCE_DIR    the source tree
When they are missing (a test run by hand), they default to the source tree holding this file
and its first build folder among build-it, build, build-lead.
"""

import errno
import fcntl
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SOURCE_DIR = os.environ.get("PORTICO_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def _default_build_dir():
    for name in ("build-it", "build", "build-lead"):
        candidate = os.path.join(SOURCE_DIR, name)
        if os.path.isfile(os.path.join(candidate, "core", "portico")):
            return candidate
    return os.path.join(SOURCE_DIR, "build")


BUILD_DIR = os.environ.get("PORTICO_BUILD_DIR") or _default_build_dir()
PORTICO_BIN = os.environ.get("PORTICO_BIN") or os.path.join(BUILD_DIR, "core", "portico")
TEST_PLUGINS = os.environ.get("PORTICO_TEST_PLUGINS") or os.path.join(BUILD_DIR, "test-plugins")
# The folder of the lineproto test plugin the tests run; PORTICO_LINEPROTO_DIR points them at
# another build of it (abi-1.0/: built against the frozen SDK 1.0 headers).
GOOD_PLUGINS = os.environ.get("PORTICO_LINEPROTO_DIR") or os.path.join(TEST_PLUGINS, "good")
MIXED_PLUGINS = os.path.join(TEST_PLUGINS, "mixed")

HOSTNAME = "mail.test"

# Replies of lineproto's traits (tests/plugins/lineproto/plugin.cpp).
BUSY_REPLY = "-ERR [SYS/TEMP] too many connections"
BUSY_ADDRESS_REPLY = "-ERR [SYS/TEMP] too many connections from your address"
TOO_MANY_BAD_REPLY = "-ERR too many bad commands, closing"
COMMAND_TIMEOUT_REPLY = "-ERR command timeout"
SESSION_TIMEOUT_REPLY = "-ERR session timeout"
SHUTDOWN_REPLY = "-ERR server shutting down"

# How long a server may take to start (Debug builds with sanitizers are slow).
START_TIMEOUT = 15.0
# Default socket timeout of the clients.
IO_TIMEOUT = 5.0


def child_env():
    """The environment for the portico processes (sanitizer options kept or defaulted)."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    env.pop("PORTICO_CONFIG", None)
    return env


def _port_range():
    """The ports the tests hand out: below the kernel's ephemeral range, so that no outgoing
    connection of any process can take one between its choice and the server's bind (the
    race of binding port 0 and closing). Falls back to the old way when the range leaves no
    room below it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low - 1 < 12000:
        return None
    return 10000, low - 1


_PORT_COUNTER = os.path.join(tempfile.gettempdir(), f"portico-test-ports-{os.getuid()}")


def _bindable(port):
    """Whether nothing holds `port` on 127.0.0.1 and ::1 right now (TIME_WAIT is no bar: the
    server sets SO_REUSEADDR)."""
    families = [(socket.AF_INET, "127.0.0.1")]
    if socket.has_ipv6:
        families.append((socket.AF_INET6, "::1"))
    for family, address in families:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((address, port))
        except OSError as e:
            if family == socket.AF_INET6 and e.errno == errno.EADDRNOTAVAIL:
                continue  # no ::1 on this machine
            return False
    return True


def free_ports(n):
    """n distinct TCP ports on loopback that nothing listens on right now.

    They are taken in turn from a range below the ephemeral ports, through a counter file
    shared (under flock) by every test process of the machine, so that tests running in
    parallel never get the same port unless the whole range has gone round since."""
    span = _port_range()
    if span is None:
        return _ephemeral_ports(n)
    low, high = span
    size = high - low + 1
    chosen = []
    fd = os.open(_PORT_COUNTER, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        try:
            offset = int(raw) % size
        except ValueError:
            offset = (os.getpid() * 7919) % size
        for _ in range(size):
            port = low + offset
            offset = (offset + 1) % size
            if _bindable(port):
                chosen.append(port)
                if len(chosen) == n:
                    break
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(offset).encode("ascii"), 0)
    finally:
        os.close(fd)  # releases the lock
    if len(chosen) < n:
        raise OSError(f"no {n} free loopback ports in {low}-{high}")
    return chosen


def free_port():
    """A TCP port on loopback that nothing listens on right now (see free_ports)."""
    return free_ports(1)[0]


def _ephemeral_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_portico(*args, timeout=60, input_text=None, cwd=None):
    """Runs `portico ARGS...` to completion; returns the CompletedProcess (text mode).

    Administration commands run without LeakSanitizer's exit check: its tracer crashes at exit
    now and then in these short processes (libasan 8, "Tracer caught signal 11", exit code 1,
    after the command itself succeeded), which cannot be told from a failed command. The same
    code runs with leak checks in the servers and the unit tests."""
    env = child_env()
    env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"] + ":detect_leaks=0"
    return subprocess.run([PORTICO_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          input=input_text, env=env, cwd=cwd)


# ---------------------------------------------------------------------------------------------
# A small YAML writer: block mappings and lists, every string scalar double-quoted (JSON string
# syntax is valid YAML), so banners with '#' and ':' survive.

def _scalar(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


def to_yaml(value, indent=0):
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{key}:\n" + to_yaml(item, indent + 2))
            elif isinstance(item, list) and item:
                lines.append(f"{pad}{key}:\n" + to_yaml(item, indent + 2))
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}\n")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(lines)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 2)
                # "- " replaces the first two spaces of the first line.
                lines.append(pad + "- " + body[indent + 2:])
            elif isinstance(item, list) and item:
                lines.append(pad + "-\n" + to_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}- {_scalar(item)}\n")
        return "".join(lines)
    return pad + _scalar(value) + "\n"


def listener(port, tls="none", address="127.0.0.1"):
    return {"address": address, "port": port, "tls": tls}


def lineproto_settings(port=None, listeners=None, **overrides):
    """lineproto's section: enabled, one plain listener on `port`, generous timeouts."""
    section = {
        "enabled": True,
        "listeners": listeners if listeners is not None else [listener(port)],
        "command_timeout": "10s",
        "session_timeout": "20s",
        "max_bad_commands": 10,
        "max_connections": 20,
    }
    section.update(overrides)
    return section


class StartError(AssertionError):
    pass


class PorticoServer:
    """A `portico serve` process with its own temporary folder and configuration.

        with PorticoServer(plugins={"lineproto": lineproto_settings(port)}) as srv:
            c = srv.client()            # a LineClient on the first listener
            ...
            srv.write_config(plugins=...); srv.reload()
            code = srv.stop()

    The config file is <tmp>/portico.yaml, data_dir <tmp>/data, control socket <tmp>/ctl.sock,
    metrics on a port the kernel picks, log_level debug, shutdown_grace 2s unless `server` says
    otherwise. stderr goes to <tmp>/portico.log.
    """

    def __init__(self, plugins=None, server=None, plugin_dir=None, files=None, start=True,
                 wait_listeners=True):
        self._tmp = tempfile.TemporaryDirectory(prefix="portico-it-")
        self.dir = self._tmp.name
        self.config_path = os.path.join(self.dir, "portico.yaml")
        self.log_path = os.path.join(self.dir, "portico.log")
        self.plugin_dir = plugin_dir or GOOD_PLUGINS
        self.proc = None
        self._log_file = None
        for name, content in (files or {}).items():
            self.write_file(name, content)
        self.write_config(plugins=plugins, server=server)
        self._start = start
        self._wait_listeners = wait_listeners

    # -- files -----------------------------------------------------------------------------

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_file(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
        return path

    def build_config(self, plugins=None, server=None):
        srv = {
            "hostname": HOSTNAME,
            "data_dir": "data",
            "plugin_dir": self.plugin_dir,
            "log_level": "debug",
            "control_socket": "ctl.sock",
            "metrics": {"enabled": True, "address": "127.0.0.1", "port": 0},
            "shutdown_grace": "2s",
        }
        srv.update(server or {})
        return {"server": srv, "plugins": plugins or {}}

    def write_config(self, plugins=None, server=None, text=None):
        """Writes the config file: from `text` verbatim, or built from the two sections."""
        if text is None:
            self.config = self.build_config(plugins, server)
            text = to_yaml(self.config)
        with open(self.config_path, "w") as f:
            f.write(text)
        self.config_text = text
        return self.config_path

    def listeners(self, protocol="lineproto"):
        if not isinstance(getattr(self, "config", None), dict):
            return []
        section = self.config.get("plugins", {}).get(protocol, {})
        if not section.get("enabled"):
            return []
        return section.get("listeners", [])

    @property
    def port(self):
        """The port of lineproto's first listener."""
        return self.listeners()[0]["port"]

    # -- process ---------------------------------------------------------------------------

    def __enter__(self):
        if self._start:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self, wait=True):
        if self.alive():
            raise StartError("this server is already running")
        if self._log_file is not None:
            self._log_file.close()
        self._log_file = open(self.log_path, "ab")
        self._log_start = len(self.log())  # this run's lines start here
        self.proc = subprocess.Popen([PORTICO_BIN, "serve", "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=self._log_file, env=child_env(), cwd=self.dir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        start = getattr(self, "_log_start", 0)
        while True:
            log = self.log()
            if re.compile(r"portico \S+ ready").search(log, start):
                break
            if self.proc.poll() is not None:
                raise StartError(f"portico exited with {self.proc.returncode} before it was "
                                 f"ready; log:\n{log}")
            if time.monotonic() > deadline:
                raise StartError(f"portico not ready after {timeout}s; log:\n{log}")
            time.sleep(0.05)
        if self._wait_listeners:
            for protocol, section in self.config.get("plugins", {}).items():
                if not section.get("enabled"):
                    continue
                for spec in section.get("listeners", []):
                    self.wait_log(rf"{re.escape(protocol)} listening on "
                                  rf"{re.escape(spec['address'])}:{spec['port']}\b",
                                  timeout=max(0.1, deadline - time.monotonic()), start=start)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Waits until `pattern` (a regex) matches the log after offset `start`; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            m = re.compile(pattern).search(log, start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"log never matched {pattern!r} within {timeout}s; log:\n"
                                     f"{log[start:]}")
            time.sleep(0.05)

    def reload(self, timeout=10.0):
        """SIGHUP, then waits until the server says how the reload ended; returns the log text
        written by this reload."""
        start = len(self.log())
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log(r"reloading ", timeout=timeout, start=start)
        try:
            self.wait_log(r"reload applied|reload rejected", timeout=timeout, start=start)
        except AssertionError:
            # A reload that failed while applying says only "reload: <error>".
            self.wait_log(r"reload: ", timeout=0.1, start=start)
        time.sleep(0.1)  # lines logged right after the verdict
        return self.log()[start:]

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout=15.0):
        """Waits for the process to exit; returns its exit code (raises on timeout)."""
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if os.environ.get("PORTICO_KEEP_TMP"):
            return
        self._tmp.cleanup()

    # -- clients and commands --------------------------------------------------------------

    def client(self, port=None, timeout=IO_TIMEOUT, greeting=True):
        c = LineClient(port or self.port, timeout=timeout)
        if greeting:
            c.greeting = c.readline()
        return c

    def cli(self, *args, timeout=60):
        """Runs a portico administration command against this server's config."""
        return run_portico(*args, "--config", self.config_path, timeout=timeout)

    def run(self, *args, input_text=None):
        """Runs a portico administration command that must succeed; returns its output."""
        r = run_portico(*args, "--config", self.config_path, input_text=input_text)
        if r.returncode != 0:
            raise AssertionError(f"portico {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}")
        return r.stdout

    def status_json(self):
        r = self.cli("status", "--json")
        if r.returncode != 0:
            raise AssertionError(f"portico status --json exited {r.returncode}: {r.stderr}")
        return json.loads(r.stdout)

    def metrics_url(self):
        m = self.wait_log(r"metrics on (http://\S+/metrics)", timeout=5)
        return m.group(1)


class LineClient:
    """A line-oriented client over one TCP connection (optionally upgraded to TLS)."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT, sock=None):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.greeting = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, line):
        self.send_raw(line + "\r\n")

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data

    def readline(self, timeout=None):
        """One line without its CRLF; EOFError if the server closed first."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while b"\n" not in self.buf:
                self._fill()
        finally:
            if timeout is not None:
                self.sock.settimeout(old)
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def command(self, line):
        self.send(line)
        return self.readline()

    def expect(self, prefix, timeout=None):
        line = self.readline(timeout)
        if not line.startswith(prefix):
            raise AssertionError(f"expected a line starting {prefix!r}, got {line!r}")
        return line

    def at_eof(self, timeout=None):
        """True if the server closes with nothing more to read (raises if it sends a line)."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            if self.buf:
                raise AssertionError(f"expected EOF, got {self.buf!r}")
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            except ssl.SSLError:
                return True
            if data:
                raise AssertionError(f"expected EOF, got {data!r}")
            return True
        finally:
            if timeout is not None:
                try:
                    self.sock.settimeout(old)
                except OSError:
                    pass

    def nothing_within(self, seconds):
        """True if the server sends nothing (and does not close) within `seconds`."""
        if self.buf:
            return False
        old = self.sock.gettimeout()
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        finally:
            self.sock.settimeout(old)
        self.buf += data
        return False

    def starttls(self, context=None, server_hostname=None):
        """Wraps the socket in TLS (after the server said it begins TLS)."""
        if self.buf:
            raise AssertionError(f"bytes before the TLS handshake: {self.buf!r}")
        context = context or unverified_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        return self


def unverified_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_client(port, context=None, server_hostname=None, timeout=IO_TIMEOUT, greeting=True):
    """A LineClient over implicit TLS."""
    context = context or unverified_context()
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        wrapped = context.wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise
    c = LineClient(port, timeout=timeout, sock=wrapped)
    if greeting:
        c.greeting = c.readline()
    return c


def connection_refused(port, timeout=2.0):
    """True if nothing accepts connections on 127.0.0.1:port."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except ConnectionRefusedError:
        return True
    s.close()
    return False


def wait_until(predicate, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def make_certificate(directory, name, days=2):
    """A self-signed P-256 certificate for `name` (CN and DNS SAN); returns (cert, key) paths."""
    cert = os.path.join(directory, f"{name}.pem")
    key = os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}", "-addext",
                    f"subjectAltName=DNS:{name}", "-days", str(days), "-keyout", key, "-out",
                    cert], check=True, capture_output=True, timeout=30)
    return cert, key


def certificate_subject(der):
    """The subject line `openssl x509` prints for a DER certificate."""
    pem = ssl.DER_cert_to_PEM_cert(der)
    r = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, text=True,
                       capture_output=True, timeout=30, check=True)
    return r.stdout.strip()


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())

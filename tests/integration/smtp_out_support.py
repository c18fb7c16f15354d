"""Helpers for the smtp-out integration tests: the servers mail is delivered to, started by the
tests on loopback, and a portico that relays.

- Unbound: Debian's unbound as a private DNS server on a loopback port, answering from
  local-data records (MX, A, null MX; anything else NXDOMAIN); portico's resolver is pointed at
  it with server.dns_servers.
- SmtpSink: Postfix's smtp-sink (Debian package postfix), which can refuse chosen commands with
  4xx or 5xx and dumps every message it takes into a folder.
- AioServer: Python's aiosmtpd (Debian package python3-aiosmtpd) in this process, recording the
  envelope, the client's address and the data of each message; optionally with STARTTLS, a SIZE
  limit, or without SMTPUTF8.
- SilentServer: accepts connections and never says a word.
- RelayServer: portico with smtp-in (relaying for 127.0.0.1) and smtp-out.
"""

import email
import email.parser
import email.policy
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import harness
import smtp_support

UNBOUND = "/usr/sbin/unbound"
SMTP_SINK = "/usr/sbin/smtp-sink"


def dns_answers(port, name="portico-ready.test", qtype=15, timeout=0.3):
    """Whether a DNS server on 127.0.0.1:port answers a query (any answer)."""
    query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        query += bytes([len(label)]) + label.encode()
    query += b"\x00" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(query, ("127.0.0.1", port))
            data, _ = s.recvfrom(4096)
            return data[:2] == b"\x12\x34"
        except OSError:
            return False


class Unbound:
    """unbound on 127.0.0.1:<port>, authoritative for the zones of `records` (local-data)."""

    def __init__(self, records, zones):
        self.port = harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="portico-unbound-")
        lines = [
            "server:",
            "  interface: 127.0.0.1",
            f"  port: {self.port}",
            "  do-daemonize: no",
            "  username: \"\"",
            "  chroot: \"\"",
            f"  directory: \"{self.dir}\"",
            "  pidfile: \"\"",
            "  use-syslog: no",
            f"  logfile: \"{self.dir}/unbound.log\"",
            "  verbosity: 1",
            "  do-ip6: no",
            "  access-control: 127.0.0.0/8 allow",
            "  local-zone: \"portico-ready.test.\" static",
        ]
        for zone in zones:
            lines.append(f"  local-zone: \"{zone}.\" static")
        for record in records:
            lines.append(f"  local-data: \"{record}\"")
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not dns_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = open(os.path.join(self.dir, "unbound.log")).read() if os.path.exists(
                    os.path.join(self.dir, "unbound.log")) else ""
                raise AssertionError(f"unbound did not start on port {self.port}: {log}")
            time.sleep(0.05)
        return self

    @property
    def server(self):
        return f"127.0.0.1@{self.port}"

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class SmtpSink:
    """smtp-sink on <address>:<port>; extra options such as ["-f", "RCPT"] (5xx on RCPT),
    ["-r", "RCPT"] (4xx), ["-p"] (no PIPELINING). Messages are dumped, one file each."""

    def __init__(self, *options, address="127.0.0.1", port=None):
        self.address = address
        self.port = port or harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="portico-sink-")
        os.chmod(self.dir, 0o777)  # smtp-sink writes as its unprivileged user
        self.options = list(options)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [SMTP_SINK, "-u", "nobody", "-d", os.path.join(self.dir, "%M."), *self.options,
             f"{self.address}:{self.port}", "64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("smtp-sink did not start: " +
                                         (self.proc.stderr.read().decode() if self.proc.stderr
                                          else ""))
                time.sleep(0.05)
        return self

    def messages(self):
        """The dumped transactions, oldest first (each the whole dump file as bytes)."""
        out = []
        for root, _, files in os.walk(self.dir):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    out.append((os.path.getmtime(path), f.read()))
        return [m for _, m in sorted(out)]

    def wait_messages(self, count, timeout=60):
        """At least `count` dumps, each complete: smtp-sink writes a dump as the data arrives,
        so a file is taken once it is not empty and has stopped growing."""
        deadline = time.monotonic() + timeout
        previous = None
        while True:
            current = self.messages()
            if (len(current) >= count and all(current) and current == previous):
                return current
            if time.monotonic() > deadline:
                raise AssertionError(f"smtp-sink got {len(current)} of {count} messages")
            previous = current
            time.sleep(0.3)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class AioServer:
    """aiosmtpd in this process on 127.0.0.1:<port>; `received` lists (peer, mail_from,
    rcpt_tos, mail_options, data, tls, peer_port) per message, `quits` (peer_port, monotonic
    time) per QUIT. `idle_timeout`: seconds after which aiosmtpd closes a silent connection."""

    def __init__(self, address="127.0.0.1", port=None, starttls=False, size=None, utf8=True,
                 idle_timeout=None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        self.address = address
        self.port = port or harness.free_port()
        self.received = []
        self.quits = []
        server = self

        class Handler:
            async def handle_DATA(self, srv, session, envelope):
                server.received.append((session.peer[0], envelope.mail_from,
                                        list(envelope.rcpt_tos), list(envelope.mail_options),
                                        envelope.original_content or envelope.content,
                                        session.ssl is not None, session.peer[1]))
                return "250 2.0.0 OK: taken"

            async def handle_QUIT(self, srv, session, envelope):
                server.quits.append((session.peer[1], time.monotonic()))
                return "221 2.0.0 Bye"

        kwargs = {"enable_SMTPUTF8": utf8, "hostname": "aio.remote.test"}
        if idle_timeout:
            kwargs["timeout"] = idle_timeout
        if size:
            kwargs["data_size_limit"] = size
        if starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._certs = tempfile.mkdtemp(prefix="portico-aio-")
            cert, key = harness.make_certificate(self._certs, "aio.remote.test")
            ctx.load_cert_chain(cert, key)
            kwargs["tls_context"] = ctx

        class Factory(Controller):
            def factory(self):
                return SMTP(self.handler, **kwargs)

        self.controller = Factory(Handler(), hostname=address, port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def wait_messages(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"aiosmtpd got {len(self.received)} of {count} messages")
            time.sleep(0.1)
        return self.received

    def __exit__(self, *exc):
        self.controller.stop()


class SilentServer:
    """Accepts connections on 127.0.0.1:<port> and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def out_settings(**overrides):
    section = {"enabled": True, "queue_scan_interval": "200ms", "command_timeout": "10s",
               "retry_schedule": ["2s"]}
    section.update(overrides)
    return section


class RelayServer(smtp_support.SmtpServer):
    """portico with smtp-in (relaying for 127.0.0.1; local domain example.test) and smtp-out
    configured by `out`; `dns` is the Unbound to resolve with, if any."""

    def __init__(self, out=None, dns=None, users=("alice", "carol"), smtp=None):
        self.smtp_port = harness.free_port()
        in_section = smtp_support.smtp_settings(self.smtp_port, relay_whitelist=["127.0.0.1"],
                                                **(smtp or {}))
        plugins = {"smtp-in": in_section, "smtp-out": out or out_settings()}
        server = {"dns_servers": [dns.server]} if dns else {}
        harness.PorticoServer.__init__(self, plugins=plugins, server=server,
                                       plugin_dir=smtp_support.PLUGINS, start=False)
        self.run("domain", "add", smtp_support.DOMAIN)
        for user in users:
            self.run("user", "add", f"{user}@{smtp_support.DOMAIN}", "--password-stdin",
                     input_text=smtp_support.PASSWORD)
        self.start()

    def send(self, sender, recipients, subject="relayed", body="A relayed message.\r\n",
             mail_options=(), rcpt_options=()):
        import smtplib
        msg = (f"From: {sender}\r\nTo: {', '.join(recipients)}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{subject.replace(' ', '-')}-{time.monotonic_ns()}@example.test>\r\n"
               f"\r\n{body}")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.ehlo("client.example.test")
            c.sendmail(sender, recipients, msg.encode(), mail_options=list(mail_options),
                       rcpt_options=list(rcpt_options))
        return msg

    def queue_ids(self):
        """The ids `portico queue list` shows."""
        out = self.run("queue", "list")
        return [line.split()[0] for line in out.splitlines()
                if line and not line[0].isspace() and not line.startswith("ID ")
                and not re.match(r"^\d+ entr", line)]

    def wait_queue(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            out = self.run("queue", "list")
            if predicate(out):
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} after {timeout}s:\n{out}\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def wait_queue_empty(self, timeout=60):
        return self.wait_queue(lambda out: not self.queue_ids(), "queue not empty", timeout)


def parse_report(octets):
    """A delivery status notification: (the message as Python's email package reads it, the
    per-recipient field blocks of its delivery-status part as dicts). The blocks are read from
    the part's text, which RFC 3464 (and RFC 6533, for UTF-8) define as blocks of header fields
    separated by empty lines, the first one per message."""
    msg = email.message_from_bytes(octets, policy=email.policy.default)
    text = octets.decode("utf-8", errors="replace").replace("\r\n", "\n")
    m = re.search(r"Content-Type: message/(global-)?delivery-status\n\n(.*?)\n--", text, re.S)
    blocks = []
    if m:
        for chunk in m.group(2).strip("\n").split("\n\n")[1:]:
            fields = email.parser.HeaderParser(policy=email.policy.default).parsestr(chunk)
            blocks.append({k: str(v) for k, v in fields.items()})
    return msg, blocks

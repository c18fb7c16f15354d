"""Helpers for the smtp-in integration tests: a server with the real smtp-in plugin, a local
domain with accounts made through the CLI, and reading delivered mail back through
`portico export --maildir`."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile

import harness

PLUGINS = os.path.join(harness.BUILD_DIR, "plugins")
DOMAIN = "example.test"
PASSWORD = "correct horse battery staple"


def smtp_settings(port, **overrides):
    section = {
        "enabled": True,
        "listeners": [harness.listener(port, "starttls")],
        "banner": "#HostName# ESMTP test",
        "command_timeout": "10s",
        "session_timeout": "20s",
    }
    section.update(overrides)
    return section


class SmtpServer(harness.PorticoServer):
    """portico with smtp-in, a local domain and the accounts named in `users`."""

    def __init__(self, port=None, users=("alice",), aliases=None, lists=None, server=None,
                 other_plugins=None, **settings):
        self.smtp_port = port or harness.free_port()
        plugins = {"smtp-in": smtp_settings(self.smtp_port, **settings)}
        plugins.update(other_plugins or {})
        super().__init__(plugins=plugins, server=server, plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", DOMAIN)
        for user in users:
            self.run("user", "add", f"{user}@{DOMAIN}", "--password-stdin", input_text=PASSWORD)
        for alias, targets in (aliases or {}).items():
            self.run("alias", "add", alias, *targets)
        for name, members in (lists or {}).items():
            self.run("list", "add", name, *members)
        self.start()

    def listeners(self, protocol="smtp-in"):
        return super().listeners(protocol)

    def mailbox(self, user):
        """Every message delivered to user's INBOX, as bytes, oldest first."""
        out = tempfile.mkdtemp(prefix="portico-export-")
        try:
            self.run("export", "--maildir", out, "--user", f"{user}@{DOMAIN}")
            messages = []
            for sub in ("cur", "new"):
                folder = os.path.join(out, sub)
                if not os.path.isdir(folder):
                    continue
                for name in sorted(os.listdir(folder)):
                    with open(os.path.join(folder, name), "rb") as f:
                        messages.append(f.read())
            return messages
        finally:
            shutil.rmtree(out, ignore_errors=True)


def message(subject="hello", body="Hello there.\r\n", extra_headers=""):
    return (f"From: outsider@remote.test\r\nTo: alice@{DOMAIN}\r\nSubject: {subject}\r\n"
            f"{extra_headers}\r\n{body}")


class RawSmtp:
    """A raw SMTP connection for what smtplib cannot send (bare LF, BDAT, pipelining)."""

    def __init__(self, port, timeout=harness.IO_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode()

    def reply(self):
        """A whole (possibly multi-line) reply as a list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self):
        try:
            self.sock.settimeout(2)
            return self.sock.recv(1) == b"" and not self.buf
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


def unverified():
    return harness.unverified_context()

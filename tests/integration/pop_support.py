"""Helpers for the pop integration tests: a server with the real pop plugin (a STARTTLS
listener and an implicit-TLS one), a local domain with accounts made through the CLI, and
mailboxes filled with `portico import --maildir`."""

import os
import shutil
import tempfile

import harness

PLUGINS = os.path.join(harness.BUILD_DIR, "plugins")
DOMAIN = "example.test"
PASSWORD = "correct horse battery staple"


def pop_settings(port, tls_port, **overrides):
    section = {
        "enabled": True,
        "listeners": [harness.listener(port, "starttls"), harness.listener(tls_port, "implicit")],
        "banner": "+OK #HostName# POP3 test",
        "command_timeout": "20s",
        "session_timeout": "20s",
    }
    section.update(overrides)
    return section


def message(subject, body="Hello there.\r\n", sender="outsider@remote.test"):
    """An RFC 5322 message with CRLF line ends, as bytes."""
    text = (f"From: {sender}\r\nTo: alice@{DOMAIN}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@remote.test>\r\n\r\n{body}")
    return text.encode() if isinstance(text, str) else text


class PopServer(harness.PorticoServer):
    """portico with pop, the local domain, the accounts in `users`, and for each account in
    `mailboxes` the messages (bytes) it holds, imported through the CLI before the start."""

    def __init__(self, users=("alice", "bob"), mailboxes=None, **settings):
        self.pop_port, self.pop_tls_port = harness.free_ports(2)
        super().__init__(plugins={"pop": pop_settings(self.pop_port, self.pop_tls_port,
                                                       **settings)},
                         plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", DOMAIN)
        for user in users:
            self.run("user", "add", f"{user}@{DOMAIN}", "--password-stdin", input_text=PASSWORD)
        for user, messages in (mailboxes or {}).items():
            self.import_messages(user, messages)
        self.start()

    def import_messages(self, user, messages):
        folder = tempfile.mkdtemp(prefix="portico-maildir-")
        try:
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(folder, sub))
            for i, data in enumerate(messages):
                # Names sort in delivery order; the import keeps that order.
                with open(os.path.join(folder, "cur", f"{1700000000 + i}.M{i}P1.test:2,"),
                          "wb") as f:
                    f.write(data)
            self.run("import", "--maildir", folder, "--user", f"{user}@{DOMAIN}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def listeners(self, protocol="pop"):
        return super().listeners(protocol)

"""Helpers for the retrieval integration tests (POP and IMAP): what a fetching server's local
store holds, `portico retrieval status` as data, and a server with the imap plugin (the remote
source of IMAP retrieval, or the local server that fetches)."""

import imaplib
import json
import os
import sqlite3

import harness
from pop_support import DOMAIN, PASSWORD, PLUGINS, PopServer


def local_count(srv, user="alice"):
    """Messages in the account's store (read straight from its metadata database)."""
    path = os.path.join(srv.dir, "data", "store", DOMAIN, user, "meta.sqlite")
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM messages").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def status(srv):
    return json.loads(srv.run("retrieval", "status", "--json"))


class ImapServer(PopServer):
    """portico with the imap plugin alone (a STARTTLS listener and an implicit-TLS one, plain
    LOGIN allowed or not), the accounts in `users`, and for each account in `mailboxes` the
    messages (bytes) its INBOX holds; `settings` go to the plugin's section (retrieval_*)."""

    def __init__(self, users=("alice",), mailboxes=None, **settings):
        self.imap_port, self.imap_tls_port = harness.free_ports(2)
        section = {
            "enabled": True,
            "listeners": [harness.listener(self.imap_port, "starttls"),
                          harness.listener(self.imap_tls_port, "implicit")],
            "command_timeout": "60s",
            "session_timeout": "60s",
        }
        section.update(settings)
        harness.PorticoServer.__init__(self, plugins={"imap": section}, plugin_dir=PLUGINS,
                                       start=False)
        self.run("domain", "add", DOMAIN)
        for user in users:
            self.run("user", "add", f"{user}@{DOMAIN}", "--password-stdin", input_text=PASSWORD)
        for user, messages in (mailboxes or {}).items():
            self.import_messages(user, messages)
        self.start()

    def listeners(self, protocol="imap"):
        return harness.PorticoServer.listeners(self, protocol)

    def login(self, user):
        """An imaplib connection over implicit TLS, logged in."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.imap_tls_port,
                              ssl_context=harness.unverified_context(), timeout=30)
        m.login(f"{user}@{DOMAIN}", PASSWORD)
        return m

    def messages(self, user, folder="INBOX"):
        """The messages of a folder, whole, in UID order."""
        m = self.login(user)
        try:
            typ, data = m.select(folder, readonly=True)
            if typ != "OK":
                return None
            if int(data[0]) == 0:
                return []
            typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
            return [item[1] for item in data if isinstance(item, tuple)]
        finally:
            m.logout()

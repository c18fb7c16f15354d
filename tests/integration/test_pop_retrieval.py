"""POP retrieval against a second portico as the remote POP3 server: messages fetched over STLS
and deleted there, or left on the server over implicit TLS and never fetched twice, APOP-less
USER/PASS with a wrong password (a failing source that fetches nothing and says why in
`portico retrieval status`), certificate verification refusing a self-signed server, and a
SIGKILL in the middle of a download, after which nothing is lost and nothing duplicated."""

import email
import os
import poplib
import signal
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from pop_support import DOMAIN, PASSWORD, PopServer, message  # noqa: E402
from retrieval_support import local_count, status  # noqa: E402

BOB = f"bob@{DOMAIN}"
ALICE = f"alice@{DOMAIN}"


def remote_messages(srv, user="bob"):
    """The messages of a maildrop, read over POP3 (STLS); None while a retrieval run holds the
    maildrop ([IN-USE])."""
    p = poplib.POP3("127.0.0.1", srv.pop_port, timeout=10)
    p.stls(context=harness.unverified_context())
    p.user(f"{user}@{DOMAIN}")
    try:
        p.pass_(PASSWORD)
    except poplib.error_proto as e:
        if b"[IN-USE]" in e.args[0]:
            p.close()
            return None
        raise
    count, _ = p.stat()
    out = [b"\r\n".join(p.retr(i + 1)[1]) + b"\r\n" for i in range(count)]
    p.quit()
    return out


def add_source(srv, remote, tls="starttls", password=PASSWORD, leave=False, port=None):
    args = ["retrieval", "add", ALICE, "--protocol", "pop", "--host", "127.0.0.1",
            "--port", str(port or (remote.pop_tls_port if tls == "implicit"
                               else remote.pop_port)),
            "--tls", tls, "--user", BOB, "--secret-stdin"]
    if leave:
        args.append("--leave-on-server")
    srv.run(*args, input_text=password)


def local(**overrides):
    settings = {"retrieval_interval": "1s", "retrieval_verify_tls": False}
    settings.update(overrides)
    return PopServer(users=("alice",), **settings)


class RetrievalTest(unittest.TestCase):
    def test_stls_fetches_and_deletes_on_the_server(self):
        sent = [message(f"fetched {i}") for i in range(3)]
        sent.append(message("dots", body=".leading\r\n..two\r\nend\r\n"))
        with PopServer(users=("bob",), mailboxes={"bob": sent}) as remote, local() as here:
            add_source(here, remote, tls="starttls")
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["state"] != "never", timeout=60))
            self.assertTrue(harness.wait_until(lambda: remote_messages(remote) == [], timeout=60))
            self.assertEqual(local_count(here), 4)
            s = status(here)[0]
            self.assertEqual(s["state"], "ok", s)
            self.assertEqual(s["total_count"], 4)
            # The messages arrived intact, each under one Received: line of ours.
            p = poplib.POP3("127.0.0.1", here.pop_port, timeout=10)
            p.stls(context=harness.unverified_context())
            p.user(ALICE)
            p.pass_(PASSWORD)
            got = [b"\r\n".join(p.retr(i + 1)[1]) + b"\r\n" for i in range(4)]
            p.quit()
            for data in got:
                self.assertTrue(data.startswith(b"Received: from 127.0.0.1 by "), data[:80])
                self.assertIn(b" with POP3 id r", data.split(b"\r\n")[0])
            bodies = sorted(d.split(b"\r\n", 2)[2] for d in got)
            self.assertEqual(bodies, sorted(sent))
            text = here.run("retrieval", "status")
            self.assertIn("ok", text)
            self.assertIn("pop://bob@example.test@127.0.0.1", text)

    def test_implicit_tls_leave_on_server_never_fetches_twice(self):
        first = [message(f"kept {i}") for i in range(3)]
        with PopServer(users=("bob",), mailboxes={"bob": first}) as remote, local() as here:
            add_source(here, remote, tls="implicit", leave=True)
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 3, timeout=60))
            remote.import_messages("bob", [message("later")])
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 4, timeout=60))
            # Several more runs: still four, and the server keeps all of them.
            before = status(here)[0]["last_run"]
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["last_run"] > before + 1, timeout=60))
            self.assertEqual(local_count(here), 4)
            self.assertEqual(len(remote_messages(remote)), 4)
            self.assertEqual(status(here)[0]["total_count"], 4)

    def test_wrong_password_fails_and_says_why(self):
        with PopServer(users=("bob",), mailboxes={"bob": [message("x")]}) as remote, \
                local() as here:
            add_source(here, remote, tls="starttls", password="not the password")
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["state"] == "failing", timeout=60))
            s = status(here)[0]
            self.assertIn("authentication failed", s["last_error"])
            self.assertEqual(s["total_count"], 0)
            self.assertEqual(local_count(here), 0)
            here.wait_log(r"retrieval source \d+ .*authentication failed.*next attempt in",
                          timeout=30)
            self.assertEqual(len(remote_messages(remote)), 1)

    def test_a_silent_server_stalls_no_other_source(self):
        # A server that accepts connections and never says a word holds its own run until the
        # reply timeout; the other source is fetched meanwhile, run after run.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        try:
            with PopServer(users=("bob",), mailboxes={"bob": [message("first")]}) as remote, \
                    local() as here:
                add_source(here, None, tls="none", port=silent.getsockname()[1])
                add_source(here, remote, tls="starttls", leave=True)
                self.assertTrue(harness.wait_until(lambda: local_count(here) == 1, timeout=60))
                remote.import_messages("bob", [message("second")])
                self.assertTrue(harness.wait_until(lambda: local_count(here) == 2, timeout=60))
                by_port = {s["id"]: s for s in status(here)}
                self.assertEqual(by_port[1]["state"], "never")  # still waiting for a greeting
                self.assertEqual(by_port[2]["state"], "ok")
        finally:
            silent.close()

    def test_a_closed_port_is_a_connection_failure(self):
        with local() as here:
            closed = harness.free_port()
            add_source(here, None, tls="implicit", port=closed)
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["state"] == "failing", timeout=60))
            self.assertIn(f"cannot connect to 127.0.0.1 port {closed}",
                          status(here)[0]["last_error"])
            self.assertIn("refused", status(here)[0]["last_error"])

    def test_self_signed_certificate_is_refused_when_verifying(self):
        with PopServer(users=("bob",), mailboxes={"bob": [message("x")]}) as remote, \
                local(retrieval_verify_tls=True) as here:
            add_source(here, remote, tls="implicit")
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["state"] == "failing", timeout=60))
            self.assertIn("certificate", status(here)[0]["last_error"])
            self.assertEqual(local_count(here), 0)

    def test_sigkill_during_download_loses_and_duplicates_nothing(self):
        big = "".join(f"line {i:06d} of a longer message body\r\n" for i in range(800))
        sent = [message(f"m{i}", body=big) for i in range(150)]
        with PopServer(users=("bob",), mailboxes={"bob": sent},
                       allow_plaintext_auth_without_tls=True) as remote, local() as here:
            add_source(here, remote, tls="none")
            self.assertTrue(harness.wait_until(lambda: local_count(here) >= 5, timeout=120,
                                               interval=0.01), status(here))
            here.proc.send_signal(signal.SIGKILL)
            here.proc.wait(10)
            self.assertLess(local_count(here), 150, "the kill came too late to test anything")
            here.start()
            # Generous: on a loaded machine the remote may hold the maildrop a moment longer
            # (the first attempts then fail and back off), and the rest takes a while.
            self.assertTrue(harness.wait_until(lambda: remote_messages(remote) == [],
                                               timeout=240, interval=0.5),
                            f"{status(here)}\n{here.log()[-3000:]}")
            self.assertEqual(local_count(here), 150)
            p = poplib.POP3("127.0.0.1", here.pop_port, timeout=10)
            p.stls(context=harness.unverified_context())
            p.user(ALICE)
            p.pass_(PASSWORD)
            ids = []
            for i in range(150):
                msg = email.message_from_bytes(b"\r\n".join(p.top(i + 1, 0)[1]))
                ids.append(msg["Message-ID"])
            p.quit()
            self.assertEqual(sorted(set(ids)), sorted(f"<m{i}@remote.test>" for i in range(150)))


if __name__ == "__main__":
    unittest.main()

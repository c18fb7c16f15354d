"""IMAP retrieval against a second portico as the remote IMAP server: messages fetched over
STARTTLS and deleted there (UID STORE, UID EXPUNGE), or left on the server over implicit TLS and
never fetched twice, a wrong password (a failing source that says why in `portico retrieval
status`, listed with its imap:// address), a folder recreated on the server (a new UIDVALIDITY:
what the mailbox already holds by Message-ID is not fetched again), and a SIGKILL in the middle
of a download over TLS, after which nothing is lost and nothing duplicated."""

import email
import os
import signal
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from pop_support import DOMAIN, PASSWORD, message  # noqa: E402
from retrieval_support import ImapServer, local_count, status  # noqa: E402

BOB = f"bob@{DOMAIN}"
ALICE = f"alice@{DOMAIN}"


def add_source(srv, remote, tls="starttls", password=PASSWORD, leave=False, folder=None):
    args = ["retrieval", "add", ALICE, "--protocol", "imap", "--host", "127.0.0.1",
            "--port", str(remote.imap_tls_port if tls == "implicit" else remote.imap_port),
            "--tls", tls, "--user", BOB, "--secret-stdin"]
    if leave:
        args.append("--leave-on-server")
    if folder:
        args += ["--source-folder", folder]
    srv.run(*args, input_text=password)


def remote(mailboxes):
    return ImapServer(users=("bob",), mailboxes={"bob": mailboxes})


def local(**overrides):
    settings = {"retrieval_interval": "1s", "retrieval_verify_tls": False}
    settings.update(overrides)
    return ImapServer(users=("alice",), **settings)


def message_ids(messages):
    return sorted(email.message_from_bytes(m)["Message-ID"] for m in messages)


class ImapRetrievalTest(unittest.TestCase):
    def test_starttls_fetches_and_deletes_on_the_server(self):
        sent = [message(f"fetched {i}") for i in range(3)]
        sent.append(message("odd", body=")\r\n* BYE not really\r\n{12}\r\nend\r\n"))
        with remote(sent) as there, local() as here:
            add_source(here, there, tls="starttls")
            self.assertTrue(harness.wait_until(lambda: there.messages("bob") == [], timeout=60),
                            f"{status(here)}")
            self.assertTrue(harness.wait_until(lambda: status(here)[0]["state"] == "ok",
                                               timeout=30), status(here))
            self.assertEqual(local_count(here), 4)
            self.assertEqual(status(here)[0]["total_count"], 4)
            got = here.messages("alice")
            for data in got:
                first = data.split(b"\r\n")[0]
                self.assertTrue(first.startswith(b"Received: from 127.0.0.1 by "), first)
                self.assertIn(b" with IMAP id r", first)
            self.assertEqual(sorted(d.split(b"\r\n", 2)[2] for d in got), sorted(sent))
            text = here.run("retrieval", "status")
            self.assertIn("imap://bob@example.test@127.0.0.1", text)
            self.assertEqual(status(here)[0]["protocol"], "imap")

    def test_implicit_tls_leave_on_server_never_fetches_twice(self):
        first = [message(f"kept {i}") for i in range(3)]
        with remote(first) as there, local() as here:
            add_source(here, there, tls="implicit", leave=True)
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 3, timeout=60),
                            status(here))
            there.import_messages("bob", [message("later")])
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 4, timeout=60))
            before = status(here)[0]["last_run"]
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["last_run"] > before + 1, timeout=60))
            self.assertEqual(local_count(here), 4)
            self.assertEqual(len(there.messages("bob")), 4)
            self.assertEqual(status(here)[0]["total_count"], 4)
            self.assertEqual(status(here)[0]["state"], "ok")

    def test_wrong_password_fails_and_says_why(self):
        with remote([message("x")]) as there, local() as here:
            add_source(here, there, tls="implicit", password="not the password")
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["state"] == "failing", timeout=60))
            s = status(here)[0]
            self.assertIn("authentication failed: NO", s["last_error"])
            self.assertEqual(local_count(here), 0)
            here.wait_log(r"retrieval source \d+ .*authentication failed.*next attempt in",
                          timeout=30)
            self.assertEqual(len(there.messages("bob")), 1)

    def test_a_recreated_folder_is_not_fetched_twice(self):
        old = [message(f"old {i}") for i in range(3)]
        with remote([]) as there, local() as here:
            m = there.login("bob")
            m.create("Work")
            for data in old:
                m.append("Work", None, None, data)
            m.logout()
            add_source(here, there, tls="implicit", leave=True, folder="Work")
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 3, timeout=60))
            # The folder is deleted and made again: a new UIDVALIDITY, UIDs from 1 again.
            m = there.login("bob")
            m.delete("Work")
            m.create("Work")
            for data in old + [message("new one")]:
                m.append("Work", None, None, data)
            m.logout()
            self.assertTrue(harness.wait_until(lambda: local_count(here) == 4, timeout=60),
                            status(here))
            before = status(here)[0]["last_run"]
            self.assertTrue(harness.wait_until(
                lambda: status(here)[0]["last_run"] > before + 1, timeout=60))
            self.assertEqual(local_count(here), 4)
            self.assertEqual(message_ids(here.messages("alice")),
                             sorted(f"<{s.replace(' ', '.')}@remote.test>"
                                    for s in ["old 0", "old 1", "old 2", "new one"]))
            here.wait_log(r"UIDVALIDITY is now \d+", timeout=10)

    def test_sigkill_during_download_loses_and_duplicates_nothing(self):
        big = "".join(f"line {i:06d} of a longer message body\r\n" for i in range(800))
        sent = [message(f"m{i}", body=big) for i in range(150)]
        with remote(sent) as there, local() as here:
            add_source(here, there, tls="implicit")
            self.assertTrue(harness.wait_until(lambda: local_count(here) >= 5, timeout=120,
                                               interval=0.01), status(here))
            here.proc.send_signal(signal.SIGKILL)
            here.proc.wait(10)
            self.assertLess(local_count(here), 150, "the kill came too late to test anything")
            here.start()
            self.assertTrue(harness.wait_until(lambda: there.messages("bob") == [],
                                               timeout=240, interval=0.5),
                            f"{status(here)}\n{here.log()[-3000:]}")
            self.assertEqual(local_count(here), 150)
            self.assertEqual(message_ids(here.messages("alice")),
                             sorted(f"<m{i}@remote.test>" for i in range(150)))


if __name__ == "__main__":
    unittest.main()

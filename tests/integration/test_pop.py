"""pop against real clients: Python's poplib (STLS, USER/PASS, AUTH PLAIN, implicit TLS, TOP,
UIDL, RETR, DELE and QUIT), the maildrop lock between two sessions, a 5 MB message retrieved
intact through output throttling, a dropped connection that deletes nothing, and fetchmail
downloading a mailbox over STLS when it is installed."""

import base64
import os
import poplib
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from pop_support import DOMAIN, PASSWORD, PopServer, message  # noqa: E402

ALICE = f"alice@{DOMAIN}"
THREE = [message("first"),
         message("second", body=".leading dot\r\n..two\r\n.\r\nend\r\n"),
         message("third", body="".join(f"line {i}\r\n" for i in range(1, 11)))]


def unstuffed(lines):
    """poplib's RETR lines (already unstuffed) back into message bytes."""
    return b"".join(line + b"\r\n" for line in lines)


def connect(srv, tls=True):
    p = poplib.POP3("127.0.0.1", srv.pop_port, timeout=10)
    if tls:
        p.stls(context=harness.unverified_context())
    return p


class PoplibTest(unittest.TestCase):
    def test_stls_user_pass_then_commands(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            p = poplib.POP3("127.0.0.1", srv.pop_port, timeout=10)
            self.assertTrue(p.getwelcome().startswith(b"+OK mail.test POP3 test"))
            caps = p.capa()
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)  # no password in the clear before TLS
            self.assertIn("SCRAM-SHA-256", caps["SASL"])
            self.assertNotIn("PLAIN", caps["SASL"])
            for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"):
                self.assertIn(cap, caps)
            p.stls(context=harness.unverified_context())
            caps = p.capa()
            self.assertIn("USER", caps)
            self.assertNotIn("STLS", caps)
            self.assertIn("PLAIN", caps["SASL"])
            p.user(ALICE)
            p.pass_(PASSWORD)
            count, size = p.stat()
            self.assertEqual(count, 3)
            self.assertEqual(size, sum(len(m) for m in THREE))
            _, listing, _ = p.list()
            self.assertEqual([int(x.split()[1]) for x in listing], [len(m) for m in THREE])
            _, uids, _ = p.uidl()
            ids = [x.split()[1] for x in uids]
            self.assertEqual(len(set(ids)), 3)
            self.assertEqual(p.uidl(2).split()[2], ids[1])
            for i, m in enumerate(THREE, start=1):
                _, lines, octets = p.retr(i)
                self.assertEqual(unstuffed(lines), m)
            _, lines, _ = p.top(3, 2)
            self.assertEqual(unstuffed(lines), THREE[2][:THREE[2].index(b"line 3")])
            p.dele(1)
            with self.assertRaises(poplib.error_proto):
                p.retr(1)
            self.assertEqual(p.stat()[0], 2)
            p.quit()
            p = connect(srv)
            p.user(ALICE)
            p.pass_(PASSWORD)
            self.assertEqual(p.stat()[0], 2)
            _, uids, _ = p.uidl()
            self.assertEqual([x.split()[1] for x in uids], ids[1:])  # ids are stable
            p.quit()

    def test_user_and_plain_are_refused_before_tls(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            p = poplib.POP3("127.0.0.1", srv.pop_port, timeout=10)
            with self.assertRaises(poplib.error_proto) as ctx:
                p.user(ALICE)
            self.assertIn(b"[AUTH]", ctx.exception.args[0])
            token = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
            with self.assertRaises(poplib.error_proto) as ctx:
                p._shortcmd("AUTH PLAIN " + token)
            self.assertIn(b"[AUTH]", ctx.exception.args[0])
            p.quit()

    def test_auth_plain_after_stls_and_wrong_password(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            p = connect(srv)
            bad = base64.b64encode(f"\0{ALICE}\0wrong".encode()).decode()
            with self.assertRaises(poplib.error_proto) as ctx:
                p._shortcmd("AUTH PLAIN " + bad)
            self.assertTrue(ctx.exception.args[0].startswith(b"-ERR [AUTH]"))
            good = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
            self.assertTrue(p._shortcmd("AUTH PLAIN " + good).startswith(b"+OK"))
            self.assertEqual(p.stat()[0], 3)
            p.quit()

    def test_implicit_tls_listener(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            p = poplib.POP3_SSL("127.0.0.1", srv.pop_tls_port, timeout=10,
                                context=harness.unverified_context())
            self.assertNotIn("STLS", p.capa())
            p.user(ALICE)
            p.pass_(PASSWORD)
            self.assertEqual(p.stat()[0], 3)
            p.quit()


class MaildropTest(unittest.TestCase):
    def test_second_session_gets_in_use(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            first = connect(srv)
            first.user(ALICE)
            first.pass_(PASSWORD)
            second = connect(srv)
            second.user(ALICE)
            with self.assertRaises(poplib.error_proto) as ctx:
                second.pass_(PASSWORD)
            self.assertTrue(ctx.exception.args[0].startswith(b"-ERR [IN-USE]"),
                            ctx.exception.args[0])
            first.quit()
            second.user(ALICE)
            second.pass_(PASSWORD)
            self.assertEqual(second.stat()[0], 3)
            second.quit()

    def test_dropped_connection_deletes_nothing(self):
        with PopServer(mailboxes={"alice": THREE}) as srv:
            p = connect(srv)
            p.user(ALICE)
            p.pass_(PASSWORD)
            p.dele(1)
            p.dele(2)
            p.sock.shutdown(socket.SHUT_RDWR)
            p.sock.close()
            deadline = time.monotonic() + 10
            while True:  # until the server has noticed the close and released the lock
                p = connect(srv)
                p.user(ALICE)
                try:
                    p.pass_(PASSWORD)
                    break
                except poplib.error_proto as e:
                    self.assertIn(b"[IN-USE]", e.args[0])
                    p.quit()
                    self.assertLess(time.monotonic(), deadline, "the lock was never released")
                    time.sleep(0.1)
            self.assertEqual(p.stat()[0], 3)
            p.quit()

    def test_pipelined_retrs_are_answered_in_order(self):
        # Enough messages for several read-ahead batches, some read in the background while
        # the client's next RETRs are already waiting.
        msgs = [message(f"pipelined {i}",
                        body=f".dot {i}\r\n" + "x" * (i * 37 % 3000) + "\r\n")
                for i in range(150)]
        with PopServer(mailboxes={"alice": msgs}, allow_plaintext_auth_without_tls=True) as srv:
            with socket.create_connection(("127.0.0.1", srv.pop_port), timeout=20) as s:
                f = s.makefile("rb")
                f.readline()
                s.sendall(f"USER {ALICE}\r\nPASS {PASSWORD}\r\n".encode())
                f.readline()
                self.assertTrue(f.readline().startswith(b"+OK"))
                s.sendall(b"".join(f"RETR {i + 1}\r\n".encode() for i in range(150)) +
                          b"DELE 7\r\nRETR 7\r\nRETR 8\r\nQUIT\r\n")
                for i, want in enumerate(msgs + [None, None, msgs[7]]):
                    head = f.readline()
                    if want is None:
                        self.assertTrue(head.startswith(b"+OK" if i == 150 else b"-ERR"), head)
                        continue
                    self.assertEqual(head, f"+OK {len(want)} octets\r\n".encode(), i)
                    lines = []
                    while (line := f.readline()) != b".\r\n":
                        lines.append(line[1:] if line.startswith(b".") else line)
                    self.assertEqual(b"".join(lines), want, i)
                self.assertTrue(f.readline().startswith(b"+OK"))

    def test_large_message_is_retrieved_intact(self):
        line = b"0123456789" * 7 + b"\r\n"
        body = b"".join((b"." if i % 100 == 0 else b"") + line for i in range(5 * 1024 * 1024 //
                                                                               len(line)))
        big = message("big") + body
        with PopServer(mailboxes={"alice": [big]}) as srv:
            p = connect(srv)
            p.user(ALICE)
            p.pass_(PASSWORD)
            self.assertEqual(p.list(1).split()[2], str(len(big)).encode())
            _, lines, _ = p.retr(1)
            self.assertTrue(unstuffed(lines) == big, "the 5 MB message came back altered")
            self.assertEqual(p.noop(), b"+OK")  # the session goes on after the message
            p.quit()


class FetchmailTest(unittest.TestCase):
    def test_fetchmail_downloads_the_mailbox_over_stls(self):
        fetchmail = shutil.which("fetchmail")
        if fetchmail is None:
            self.skipTest("fetchmail is not installed")
        with PopServer(mailboxes={"alice": THREE}) as srv:
            mbox = srv.path("delivered.mbox")
            rc = srv.write_file("fetchmailrc",
                                f'poll 127.0.0.1 service {srv.pop_port} protocol pop3 '
                                f'auth password\n'
                                f'  user "{ALICE}" password "{PASSWORD}"\n'
                                f'  sslproto "TLS1.2+" no sslcertck\n'
                                f'  mda "cat >> {mbox}"\n')
            os.chmod(rc, 0o600)
            env = dict(os.environ, HOME=srv.dir)
            r = subprocess.run([fetchmail, "-f", rc, "--nosyslog", "-N", "-v",
                                "--idfile", srv.path("fetchids")],
                               capture_output=True, text=True, timeout=60, env=env, cwd=srv.dir)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("STLS", r.stdout + r.stderr)
            with open(mbox, "rb") as f:
                delivered = f.read()
            for subject in (b"first", b"second", b"third"):
                self.assertIn(b"Subject: " + subject, delivered)
            self.assertIn(b"..two", delivered.replace(b"\r\n", b"\n"))
            # fetchmail deletes what it delivered (no `keep`): the maildrop is empty now.
            p = connect(srv)
            p.user(ALICE)
            p.pass_(PASSWORD)
            self.assertEqual(p.stat(), (0, 0))
            p.quit()


if __name__ == "__main__":
    unittest.main()

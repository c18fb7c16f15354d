"""smtp-in under load: many parallel sessions against the real portico, every message durable and
delivered exactly once, nothing left behind in the spool, and no error in the server's log.

- Postfix's smtp-source (/usr/sbin/smtp-source, Debian package postfix) drives 10 parallel
  sessions, one connection per message. The test is skipped when smtp-source is not installed:
  tests never install Postfix (bench/smtp/run.sh does, for the benchmark).
- Python threads with smtplib (standard library only, never skipped): 8 threads x 25 messages,
  each thread on one connection, to two local accounts, some messages to both.

Both are bounded (well under 60 s each in a Debug+ASan build): every client has a timeout and
every wait a deadline.
"""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_support import DOMAIN, SmtpServer  # noqa: E402


def find_smtp_source():
    found = shutil.which("smtp-source")
    if found:
        return found
    for candidate in ("/usr/sbin/smtp-source", "/usr/bin/smtp-source"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


SMTP_SOURCE = find_smtp_source()

# Lines of portico's text log at level error or critical ("<time>Z error <message>"), and what
# the sanitizers print when they find something.
ERROR_LINE = re.compile(r"^\S+Z (error|critical)\b.*$", re.MULTILINE)
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")

# smtp-in settings for load: room for the parallel sessions, generous timeouts (ASan is slow).
LOAD_SETTINGS = {
    "max_connections": 100,
    "command_timeout": "30s",
    "session_timeout": "60s",
}


class LoadCase(unittest.TestCase):
    def assert_spool_empty(self, srv, timeout=10.0):
        """`portico queue list` shows no entry, and no incoming file is left in the spool (the
        last one is removed right after its 250 is sent, so this waits a moment)."""
        listing = srv.run("queue", "list")
        self.assertTrue(listing.rstrip().endswith("0 entries"), listing)
        incoming = srv.path(os.path.join("data", "spool", "incoming"))
        deadline = time.monotonic() + timeout
        while True:
            left = os.listdir(incoming) if os.path.isdir(incoming) else []
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(left, [], "incoming files left in the spool")

    def assert_clean_log(self, srv):
        log = srv.log()
        self.assertEqual([m.group(0) for m in ERROR_LINE.finditer(log)], [],
                         "errors in portico's log")
        self.assertIsNone(SANITIZER.search(log), log[-4000:])

    def stop_cleanly(self, srv):
        code = srv.stop(timeout=30)
        self.assertEqual(code, 0, srv.log()[-4000:])
        self.assert_clean_log(srv)


@unittest.skipIf(SMTP_SOURCE is None,
                 "smtp-source is not installed (Debian package postfix; tests do not install it)")
class SmtpSourceLoadTest(LoadCase):
    SESSIONS = 10
    MESSAGES = 200
    LENGTH = 2048

    def test_smtp_source_200_messages_over_10_sessions_all_arrive(self):
        with SmtpServer(users=("alice",), **LOAD_SETTINGS) as srv:
            started = time.monotonic()
            r = subprocess.run(
                [SMTP_SOURCE, "-s", str(self.SESSIONS), "-m", str(self.MESSAGES), "-l",
                 str(self.LENGTH), "-f", "sender@remote.test", "-t", f"alice@{DOMAIN}",
                 "-M", "client.remote.test", f"127.0.0.1:{srv.smtp_port}"],
                capture_output=True, text=True, timeout=60)
            elapsed = time.monotonic() - started
            # smtp-source aborts (non-zero, a message on stderr) on any unexpected reply.
            self.assertEqual(r.returncode, 0, f"smtp-source: {r.stdout}{r.stderr}\nlog tail:\n"
                                              f"{srv.log()[-4000:]}")
            self.assertNotIn("fatal", r.stderr)
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), self.MESSAGES)
            ids = []
            for msg in stored:
                self.assertTrue(msg.startswith(b"Received: from client.remote.test ([127.0.0.1])"),
                                msg[:200])
                # smtp-source's payload: LENGTH octets of lines "<digit>XXX...", then CRLF.
                head, sep, body = msg.partition(b"\r\n\r\n")
                self.assertEqual(sep, b"\r\n\r\n")
                self.assertEqual(len(body), self.LENGTH + 2, body[-200:])
                self.assertTrue(all(re.fullmatch(rb"[0-9]?X*", line)
                                    for line in body[:-2].split(b"\r\n")), body[:200])
                ids.append(re.search(rb"^Message-Id: (<[^>]+>)", head, re.MULTILINE).group(1))
            # Each message once: smtp-source numbers its messages in their Message-Id.
            self.assertEqual(len(set(ids)), self.MESSAGES)
            self.assert_spool_empty(srv)
            sys.stderr.write(f"\n  smtp-source: {self.MESSAGES} messages in {elapsed:.1f}s "
                             f"({self.MESSAGES / elapsed:.0f}/s) ... ")
            self.stop_cleanly(srv)


class ThreadedSmtplibLoadTest(LoadCase):
    THREADS = 8
    PER_THREAD = 25

    @staticmethod
    def recipients(thread, n):
        """Message n of a thread goes to alice or bob in turn; every fifth to both."""
        if n % 5 == 4:
            return ["alice", "bob"]
        return ["alice"] if (thread + n) % 2 == 0 else ["bob"]

    def test_eight_threads_of_25_messages_to_two_accounts_arrive_exactly_once(self):
        expected = {"alice": [], "bob": []}
        for t in range(self.THREADS):
            for n in range(self.PER_THREAD):
                for user in self.recipients(t, n):
                    expected[user].append(f"load t{t} m{n}")
        errors = []
        barrier = threading.Barrier(self.THREADS, timeout=30)

        def client(t, port):
            try:
                barrier.wait()
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                    s.ehlo(f"client{t}.remote.test")
                    for n in range(self.PER_THREAD):
                        users = self.recipients(t, n)
                        to = [f"{u}@{DOMAIN}" for u in users]
                        text = (f"From: t{t}@remote.test\r\nTo: {', '.join(to)}\r\n"
                                f"Subject: load t{t} m{n}\r\nMessage-ID: <t{t}.m{n}@remote.test>"
                                f"\r\n\r\nmessage {n} of thread {t}\r\n" + "y" * 500 + "\r\n")
                        refused = s.sendmail(f"t{t}@remote.test", to, text)
                        if refused:
                            errors.append(f"t{t} m{n}: refused {refused}")
            except Exception as e:  # reported by the main thread
                errors.append(f"thread {t}: {type(e).__name__}: {e}")

        with SmtpServer(users=("alice", "bob"), **LOAD_SETTINGS) as srv:
            threads = [threading.Thread(target=client, args=(t, srv.smtp_port), daemon=True)
                       for t in range(self.THREADS)]
            for th in threads:
                th.start()
            deadline = time.monotonic() + 55
            for th in threads:
                th.join(timeout=max(0.1, deadline - time.monotonic()))
            self.assertFalse(any(th.is_alive() for th in threads), "client threads still running")
            self.assertEqual(errors, [], srv.log()[-4000:])
            for user, subjects in expected.items():
                stored = srv.mailbox(user)
                got = []
                for msg in stored:
                    m = re.search(rb"^Subject: (.*)\r$", msg, re.MULTILINE)
                    self.assertIsNotNone(m, msg[:300])
                    got.append(m.group(1).decode())
                # Exactly once: the same multiset, no duplicate and nothing missing.
                self.assertEqual(len(got), len(subjects), user)
                self.assertEqual(sorted(got), sorted(subjects), user)
            self.assert_spool_empty(srv)
            self.stop_cleanly(srv)


if __name__ == "__main__":
    unittest.main()

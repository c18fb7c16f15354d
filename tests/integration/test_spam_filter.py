"""The spam filter stage with a real rspamd (Debian's, a private instance on loopback ports, see
rspamd_support.py), driven by Python's smtplib against the real `portico` binary: GTUBE refused
with 550 5.7.1 at the end of DATA and nothing delivered; a clean message delivered with the
score fields; add header and rewrite subject marking the delivered copy; rspamd's soft reject a
451; rspamd stopped (a second instance, stopped while the server runs) or silent handled as
spam_filter.on_failure says (accepted with X-Spam-Check, or 451); authenticated submissions
not checked; 200 concurrent sessions with max_spam_check_threads 3 never more than 3 checks in
flight, all delivered; `portico spam learn` and `portico spam check`."""

import os
import re
import smtplib
import socket
import tempfile
import threading
import unittest
import urllib.request

import harness
import rspamd_support
import smtp_support
from smtp_support import DOMAIN, PASSWORD, SmtpServer

ALICE = f"alice@{DOMAIN}"
SENDER = "outsider@remote.test"


def message(subject="Project notes", body=rspamd_support.HAM_BODY, extra_headers=""):
    return (f"From: {SENDER}\r\nTo: {ALICE}\r\nSubject: {subject}\r\n"
            f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{abs(hash((subject, body, extra_headers)))}@remote.test>\r\n"
            f"{extra_headers}\r\n{body}").encode()


def gtube(pattern):
    return message("Test", "This is a test.\r\n" + pattern.decode() + "\r\n")


def metrics(server):
    with urllib.request.urlopen(server.metrics_url(), timeout=5) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        m = re.match(r'^(portico_spam_\w+)(\{[^}]*\})? (\S+)$', line)
        if m:
            values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return values


def send(port, data, sender=SENDER, rcpt=ALICE, login=False):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.remote.test")
        if login:
            c.starttls(context=smtp_support.unverified())
            c.ehlo("client.remote.test")
            c.login(ALICE, PASSWORD)
        return c.sendmail(sender, [rcpt], data)


class SpamFilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rspamd_dir = tempfile.TemporaryDirectory(prefix="portico-rspamd-")
        cls.rspamd = rspamd_support.Rspamd(cls.rspamd_dir.name, password="learn-secret")
        cls.rspamd.start()

    @classmethod
    def tearDownClass(cls):
        cls.rspamd.stop()
        cls.rspamd_dir.cleanup()

    def filter_settings(self, **overrides):
        s = {"enabled": True, "address": "127.0.0.1", "port": self.rspamd.normal_port,
             "controller_port": self.rspamd.controller_port, "password": "learn-secret",
             "timeout": "10s"}
        s.update(overrides)
        return s

    def server(self, max_checks=30, smtp=None, **filter_overrides):
        return SmtpServer(server={"spam_filter": self.filter_settings(**filter_overrides)},
                          other_plugins={"smtp-out": {"enabled": False,
                                                      "max_spam_check_threads": max_checks}},
                          max_connections_per_address=0, **(smtp or {}))

    def test_gtube_is_refused_at_the_end_of_data_and_nothing_is_delivered(self):
        with self.server() as srv:
            with self.assertRaises(smtplib.SMTPDataError) as e:
                send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT))
            self.assertEqual(e.exception.smtp_code, 550)
            self.assertEqual(e.exception.smtp_error.decode(), "5.7.1 Gtube pattern")
            self.assertEqual(srv.mailbox("alice"), [])
            m = metrics(srv)
            self.assertEqual(m['portico_spam_checks_total{action="reject"}'], 1)
            self.assertEqual(m['portico_spam_check_outcomes_total{outcome="rejected"}'], 1)
            self.assertEqual(m['portico_spam_check_seconds_count'], 1)
            # The session goes on: the next message of the same client is served.
            send(srv.smtp_port, message())
            self.assertEqual(len(srv.mailbox("alice")), 1)

    def test_clean_message_is_delivered_with_rspamds_score_fields(self):
        with self.server() as srv:
            body = message(extra_headers="X-Spam: No\r\nX-Spam-Score: -1000\r\n")
            send(srv.smtp_port, body)
            [got] = srv.mailbox("alice")
            head, _, rest = got.partition(b"\r\n\r\n")
            self.assertIn(b"X-Spam-Action: no action\r\n", head)
            self.assertRegex(head, rb"X-Spam-Score: -?\d+\.\d\d / \d+\.\d\d\r\n")
            self.assertNotIn(b"X-Spam: ", head)  # the forged fields are gone
            self.assertNotIn(b"-1000", head)
            self.assertIn(b"X-Spamd-Result: ", head)  # rspamd's own (milter_headers)
            self.assertEqual(rest, rspamd_support.HAM_BODY.encode())
            self.assertIn(b"Received: from client.remote.test", head)
            self.assertEqual(metrics(srv)['portico_spam_check_outcomes_total{outcome="accepted"}'], 1)

    def test_add_header_and_rewrite_subject_mark_the_delivered_copy(self):
        with self.server() as srv:
            send(srv.smtp_port, gtube(rspamd_support.GTUBE_ADD_HEADER))
            send(srv.smtp_port, message("Cheap pills",
                                        extra_headers="X-Portico-Test-Action: rewrite-subject\r\n"))
            first, second = srv.mailbox("alice")
            self.assertIn(b"\r\nX-Spam: Yes\r\n", b"\r\n" + first)
            self.assertIn(b"X-Spam-Action: add header\r\n", first)
            self.assertIn(b"Subject: Test\r\n", first)
            self.assertIn(b"X-Spam: Yes\r\n", second)
            self.assertIn(b"\r\nSubject: [SPAM] Cheap pills\r\n", second)
            self.assertEqual(second.count(b"Subject:"), 1)
            m = metrics(srv)
            self.assertEqual(m['portico_spam_check_outcomes_total{outcome="marked"}'], 2)

    def test_a_large_message_is_checked_from_its_file_and_marked_intact(self):
        # Over the queue's 64 KiB memory buffer: rspamd gets the file, the marked copy is
        # written from it on the filter pool.
        body = "".join(f"Line {i:06d} of a long report, with nothing else to say.\r\n"
                       for i in range(6000))
        with self.server() as srv:
            send(srv.smtp_port, message("Report", body,
                                        extra_headers="X-Portico-Test-Action: add-header\r\n"))
            [got] = srv.mailbox("alice")
            head, _, rest = got.partition(b"\r\n\r\n")
            self.assertIn(b"X-Spam: Yes\r\n", head)
            self.assertIn(b"Subject: Report\r\n", head)
            self.assertEqual(rest, body.encode())
            self.assertGreater(len(got), 300_000)

    def test_reload_turns_checking_on(self):
        with self.server(enabled=False) as srv:
            send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT))
            self.assertEqual(len(srv.mailbox("alice")), 1)  # not checked
            srv.config["server"]["spam_filter"]["enabled"] = True
            srv.write_config(text=harness.to_yaml(srv.config))
            srv.reload()
            with self.assertRaises(smtplib.SMTPDataError) as e:
                send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT))
            self.assertEqual(e.exception.smtp_code, 550)
            self.assertEqual(len(srv.mailbox("alice")), 1)

    def test_soft_reject_is_a_temporary_failure(self):
        with self.server() as srv:
            with self.assertRaises(smtplib.SMTPDataError) as e:
                send(srv.smtp_port, message(extra_headers="X-Portico-Test-Action: soft-reject\r\n"))
            self.assertEqual(e.exception.smtp_code, 451)
            self.assertEqual(e.exception.smtp_error.decode(), "4.7.1 Try again later (test header)")
            self.assertEqual(srv.mailbox("alice"), [])

    def test_operator_may_turn_reject_into_marking(self):
        with self.server(on_reject="mark") as srv:
            send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT))
            [got] = srv.mailbox("alice")
            self.assertIn(b"X-Spam: Yes\r\n", got)

    def test_rspamd_stopped_accepts_marked_unchecked_by_default_or_tempfails(self):
        # A second rspamd, stopped while the server runs: its port is then dead.
        with tempfile.TemporaryDirectory(prefix="portico-rspamd-") as tmp, \
                rspamd_support.Rspamd(tmp) as doomed, \
                self.server(port=doomed.normal_port) as srv:
            send(srv.smtp_port, message("Before"))
            doomed.stop()
            send(srv.smtp_port, message(extra_headers="X-Spam-Score: -100.00 / 15.00\r\n"))
            checked, got = srv.mailbox("alice")
            self.assertIn(b"X-Spam-Action: no action\r\n", checked)
            self.assertNotIn(b"X-Spam-Score", got)  # the forged one is gone too
            self.assertRegex(b"\r\n" + got,
                             rb"\r\nX-Spam-Check: not checked \(cannot connect: [^\r]+\)\r\n")
            self.assertEqual(metrics(srv)['portico_spam_check_outcomes_total{outcome="failed"}'], 1)
            srv.wait_log(r"spam check failed: cannot connect")
        with self.server(port=doomed.normal_port, on_failure="tempfail") as srv:
            with self.assertRaises(smtplib.SMTPDataError) as e:
                send(srv.smtp_port, message())
            self.assertEqual(e.exception.smtp_code, 451)
            self.assertEqual(e.exception.smtp_error.decode(),
                             "4.7.1 Spam check unavailable, try again later")
            self.assertEqual(srv.mailbox("alice"), [])

    def test_a_silent_rspamd_is_a_timeout(self):
        # Something that accepts the connection and never answers.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        try:
            with self.server(port=silent.getsockname()[1], timeout="1s",
                             on_failure="tempfail") as srv:
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    send(srv.smtp_port, message())
                self.assertEqual(e.exception.smtp_code, 451)
                srv.wait_log(r"spam check failed: timed out")
        finally:
            silent.close()

    def test_authenticated_submissions_are_not_checked_unless_asked(self):
        with self.server() as srv:
            send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT), sender=ALICE, login=True)
            self.assertEqual(len(srv.mailbox("alice")), 1)
            m = metrics(srv)
            self.assertEqual(m["portico_spam_checks_skipped_total"], 1)
            self.assertNotIn('portico_spam_checks_total{action="reject"}', m)
        with self.server(check_authenticated=True) as srv:
            with self.assertRaises(smtplib.SMTPDataError) as e:
                send(srv.smtp_port, gtube(rspamd_support.GTUBE_REJECT), sender=ALICE, login=True)
            self.assertEqual(e.exception.smtp_code, 550)

    def test_200_concurrent_sessions_never_have_more_than_3_checks_in_flight(self):
        clients = 200
        # Opening 200 sessions takes a while on a slow machine under ASan: the first ones must
        # not time out while the last ones connect.
        patient = {"session_timeout": "300s", "command_timeout": "300s"}
        with self.server(max_checks=3, smtp=patient) as srv:
            errors = []
            start = threading.Barrier(clients)

            def one(i):
                c = None
                try:
                    c = smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=240)
                    c.ehlo("client.remote.test")
                    c.mail(SENDER)
                    c.rcpt(ALICE)
                    start.wait(timeout=240)
                    code, reply = c.data(message(f"Load {i}"))
                    if code != 250:
                        errors.append((i, code, reply))
                    c.quit()
                except Exception as e:  # noqa: BLE001 - every failure is reported below
                    errors.append((i, repr(e)))
                    if c is not None:
                        c.close()

            threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            self.assertFalse(any(t.is_alive() for t in threads), "clients still running")
            self.assertEqual(errors, [])
            m = metrics(srv)
            self.assertLessEqual(m['portico_spam_checks{state="max_in_flight"}'], 3)
            self.assertGreaterEqual(m['portico_spam_checks{state="max_in_flight"}'], 2)
            self.assertEqual(m['portico_spam_checks{state="in_flight"}'], 0)
            self.assertEqual(m['portico_spam_checks{state="waiting"}'], 0)
            self.assertEqual(m['portico_spam_check_outcomes_total{outcome="accepted"}'], clients)
            self.assertEqual(len(srv.mailbox("alice")), clients)

    def test_spam_learn_and_check_from_the_command_line(self):
        with self.server() as srv:
            # Bayes answers once it has learned both kinds.
            ham = srv.path("ham.eml")
            with open(ham, "wb") as f:
                f.write(message("Notes", rspamd_support.HAM_BODY))
            r = srv.cli("spam", "learn", "--ham", ham)
            self.assertEqual(r.returncode, 0, r.stderr)
            path = srv.path("spam.eml")
            with open(path, "wb") as f:
                f.write(message("You won", rspamd_support.SPAM_BODY))
            r = srv.cli("spam", "learn", "--spam", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("learned as spam", r.stdout)
            r = srv.cli("spam", "check", path, "--from", SENDER, "--to", ALICE)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("rspamd: ", r.stdout)
            self.assertIn("BAYES_SPAM", r.stdout)
            with open(path, "wb") as f:
                f.write(gtube(rspamd_support.GTUBE_REJECT))
            r = srv.cli("spam", "check", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('the server would: reject (550 5.7.1) "Gtube pattern"', r.stdout)
        with self.server(password="wrong") as srv:
            path = srv.path("ham.eml")
            with open(path, "wb") as f:
                f.write(message("Notes", rspamd_support.HAM_BODY))
            r = srv.cli("spam", "learn", "--ham", path)
            self.assertEqual(r.returncode, 1)
            self.assertIn("Unauthorized", r.stderr)


if __name__ == "__main__":
    unittest.main()

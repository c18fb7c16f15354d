"""smtp-in against real clients: Python's smtplib (plain, STARTTLS, AUTH PLAIN and LOGIN),
swaks (pipelining, AUTH, TLS), and raw sockets for BDAT and SMTP smuggling; every setting of
the seed's SMTP In tab at its edge."""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import unittest
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_support import (DOMAIN, PASSWORD, RawSmtp, SmtpServer, message,  # noqa: E402
                          unverified)


class DeliveryTest(unittest.TestCase):
    def test_smtplib_delivers_to_a_local_account_durably(self):
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                code, banner = s.ehlo("client.remote.test")
                self.assertEqual(code, 250)
                self.assertIn(b"PIPELINING", banner)
                self.assertIn(b"8BITMIME", banner)
                self.assertIn(b"CHUNKING", banner)
                self.assertIn(b"STARTTLS", banner)
                refused = s.sendmail("outsider@remote.test", [f"alice@{DOMAIN}"],
                                     message("first"))
                self.assertEqual(refused, {})
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertTrue(stored[0].startswith(b"Received: from client.remote.test ([127.0.0.1])"),
                            stored[0][:200])
            self.assertIn(b"Subject: first", stored[0])
            self.assertTrue(stored[0].endswith(b"Hello there.\r\n"))

    def test_unknown_local_user_gets_550_5_1_1(self):
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.ehlo("client.remote.test")
                s.mail("outsider@remote.test")
                code, text = s.rcpt(f"nobody@{DOMAIN}")
                self.assertEqual(code, 550)
                self.assertTrue(text.startswith(b"5.1.1"), text)

    def test_relay_is_refused_without_authentication(self):
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.ehlo("client.remote.test")
                s.mail("outsider@remote.test")
                code, text = s.rcpt("someone@elsewhere.test")
                self.assertEqual(code, 554)
                self.assertTrue(text.startswith(b"5.7.1"), text)

    def test_starttls_auth_plain_then_relay_is_queued(self):
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.ehlo("client.remote.test")
                before_tls = s.esmtp_features.get("auth", "").split()
                self.assertNotIn("PLAIN", before_tls)  # no plaintext mechanism before TLS
                self.assertNotIn("LOGIN", before_tls)
                self.assertIn("SCRAM-SHA-256", before_tls)
                s.starttls(context=unverified())
                s.ehlo("client.remote.test")
                self.assertIn("PLAIN", s.esmtp_features["auth"])
                self.assertIn("LOGIN", s.esmtp_features["auth"])
                s.login(f"alice@{DOMAIN}", PASSWORD)
                s.sendmail(f"alice@{DOMAIN}", ["friend@elsewhere.test"], message("out"))
            listing = srv.run("queue", "list")
            self.assertIn(f"alice@{DOMAIN}", listing)
            queue_id = listing.splitlines()[1].split()[0]
            shown = srv.run("queue", "show", queue_id)
            self.assertIn("friend@elsewhere.test", shown)
            self.assertIn("Subject: out", shown)
            self.assertEqual(srv.mailbox("alice"), [])

    def test_auth_login_and_wrong_password(self):
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.starttls(context=unverified())
                s.ehlo("client.remote.test")
                s.user, s.password = f"alice@{DOMAIN}", PASSWORD
                code, _ = s.auth("LOGIN", s.auth_login)
                self.assertEqual(code, 235)
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.starttls(context=unverified())
                s.ehlo("client.remote.test")
                with self.assertRaises(smtplib.SMTPAuthenticationError) as ctx:
                    s.login(f"alice@{DOMAIN}", "wrong")
                self.assertEqual(ctx.exception.smtp_code, 535)
            # Both outcomes are counted on the metrics endpoint.
            with urllib.request.urlopen(srv.metrics_url(), timeout=5) as response:
                text = response.read().decode()
            for outcome in ("success", "failure"):
                m = re.search(rf'(?m)^portico_auth_total{{outcome="{outcome}"}} (\S+)$', text)
                self.assertIsNotNone(m, text)
                self.assertGreaterEqual(float(m.group(1)), 1)

    def test_disable_auth_login_hides_login(self):
        with SmtpServer(disable_auth_login=True) as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.starttls(context=unverified())
                s.ehlo("client.remote.test")
                self.assertIn("PLAIN", s.esmtp_features["auth"])
                self.assertNotIn("LOGIN", s.esmtp_features["auth"].split())
                code, _ = s.docmd("AUTH", "LOGIN")
                self.assertEqual(code, 504)


class SubmissionTest(unittest.TestCase):
    def test_submission_port_requires_authentication(self):
        sub = harness.free_port()
        with SmtpServer(submission={"enabled": True, "address": "127.0.0.1", "port": sub}) as srv:
            srv.wait_log(rf"smtp-in listening on 127.0.0.1:{sub}\b")
            with smtplib.SMTP("127.0.0.1", sub, timeout=10) as s:
                s.starttls(context=unverified())
                s.ehlo("client.remote.test")
                code, text = s.mail(f"alice@{DOMAIN}")
                self.assertEqual(code, 530, text)
                s.login(f"alice@{DOMAIN}", PASSWORD)
                s.sendmail(f"alice@{DOMAIN}", [f"alice@{DOMAIN}"], message("self"))
            self.assertEqual(len(srv.mailbox("alice")), 1)

    def test_implicit_tls_submissions_requires_authentication(self):
        port = harness.free_port()
        with SmtpServer(submissions={"enabled": True, "address": "127.0.0.1", "port": port}) as srv:
            srv.wait_log(rf"smtp-in listening on 127.0.0.1:{port}\b")
            with smtplib.SMTP_SSL("127.0.0.1", port, timeout=10, context=unverified()) as s:
                code, features = s.ehlo("client.remote.test")
                self.assertEqual(code, 250)
                self.assertNotIn(b"STARTTLS", features)  # TLS from the first byte (RFC 8314)
                self.assertIn("PLAIN", s.esmtp_features["auth"].split())
                code, text = s.mail(f"alice@{DOMAIN}")
                self.assertEqual(code, 530, text)
                with self.assertRaises(smtplib.SMTPSenderRefused) as refused:
                    s.sendmail(f"alice@{DOMAIN}", [f"alice@{DOMAIN}"], message("no auth"))
                self.assertEqual(refused.exception.smtp_code, 530)
                s.login(f"alice@{DOMAIN}", PASSWORD)
                self.assertEqual(s.sendmail(f"alice@{DOMAIN}", [f"alice@{DOMAIN}"],
                                            message("over implicit TLS")), {})
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertIn(b"Subject: over implicit TLS", stored[0])
            self.assertIn(b"with ESMTPSA", stored[0])  # RFC 3848: TLS and authenticated


class LimitsTest(unittest.TestCase):
    def test_message_exactly_at_the_size_limit_and_one_byte_over(self):
        at_limit = message("size")
        limit = len(at_limit.encode())
        over = message("size", body="Hello there.!\r\n")
        with SmtpServer(max_message_size=str(limit)) as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.ehlo("client.remote.test")
                self.assertEqual(s.esmtp_features["size"], str(limit))
                s.sendmail("outsider@remote.test", [f"alice@{DOMAIN}"], at_limit)
                # smtplib declares SIZE: one byte over is refused at MAIL (RFC 1870).
                with self.assertRaises(smtplib.SMTPSenderRefused) as ctx:
                    s.sendmail("outsider@remote.test", [f"alice@{DOMAIN}"], over)
                self.assertEqual(ctx.exception.smtp_code, 552)
            # Without SIZE, the limit is enforced while the data arrives.
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.cmd("MAIL FROM:<outsider@remote.test>")
            c.cmd(f"RCPT TO:<alice@{DOMAIN}>")
            c.cmd("DATA")
            c.send(over + ".\r\n")
            self.assertTrue(c.reply()[0].startswith("552 5.3.4"))
            c.cmd("MAIL FROM:<outsider@remote.test>")
            c.cmd(f"RCPT TO:<alice@{DOMAIN}>")
            c.cmd("DATA")
            c.send(at_limit + ".\r\n")
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            self.assertEqual(len(srv.mailbox("alice")), 2)

    def test_hop_count_20_accepted_21_refused(self):
        def hops(n):
            return "".join(f"Received: from h{i}.test by x.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                           for i in range(n))
        with SmtpServer() as srv:
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                s.ehlo("client.remote.test")
                s.sendmail("outsider@remote.test", [f"alice@{DOMAIN}"], hops(20) + message("20"))
                with self.assertRaises(smtplib.SMTPDataError) as ctx:
                    s.sendmail("outsider@remote.test", [f"alice@{DOMAIN}"],
                               hops(21) + message("21"))
                self.assertEqual(ctx.exception.smtp_code, 554)
                self.assertTrue(ctx.exception.smtp_error.startswith(b"5.4.6"))

    def test_max_bad_recipients_closes_at_the_limit(self):
        with SmtpServer(max_bad_recipients=3) as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.cmd("MAIL FROM:<outsider@remote.test>")
            self.assertTrue(c.cmd(f"RCPT TO:<x1@{DOMAIN}>")[0].startswith("550 5.1.1"))
            self.assertTrue(c.cmd(f"RCPT TO:<x2@{DOMAIN}>")[0].startswith("550 5.1.1"))
            self.assertTrue(c.cmd(f"RCPT TO:<alice@{DOMAIN}>")[0].startswith("250"))
            self.assertTrue(c.cmd(f"RCPT TO:<x3@{DOMAIN}>")[0].startswith("550 5.1.1"))
            self.assertTrue(c.reply()[0].startswith("421 4.7.0"))
            self.assertTrue(c.closed())

    def test_bad_commands_close_at_the_limit(self):
        with SmtpServer(max_bad_commands=2) as srv:
            c = RawSmtp(srv.smtp_port)
            self.assertTrue(c.cmd("FOO")[0].startswith("500 5.5.2"))
            self.assertTrue(c.cmd("BAR")[0].startswith("500 5.5.2"))
            self.assertTrue(c.reply()[0].startswith("421 4.7.0"))
            self.assertTrue(c.closed())

    def test_vrfy_and_expn_are_off_by_default_and_answer_when_on(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            self.assertTrue(c.cmd(f"VRFY alice@{DOMAIN}")[0].startswith("502 5.5.1"))
            self.assertTrue(c.cmd(f"EXPN team@{DOMAIN}")[0].startswith("502 5.5.1"))
        with SmtpServer(users=("alice", "bob"), lists={f"team@{DOMAIN}": [f"alice@{DOMAIN}",
                                                                          f"bob@{DOMAIN}"]},
                        enable_vrfy=True, enable_expn=True) as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            self.assertIn(f"<alice@{DOMAIN}>", c.cmd(f"VRFY alice@{DOMAIN}")[0])
            self.assertTrue(c.cmd(f"VRFY ghost@{DOMAIN}")[0].startswith("550 5.1.1"))
            members = c.cmd(f"EXPN team@{DOMAIN}")
            self.assertEqual(len(members), 2)
            self.assertTrue(all(m.startswith("250") for m in members))


class WireTest(unittest.TestCase):
    def test_bare_lf_cannot_smuggle_a_second_message(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.cmd("MAIL FROM:<outsider@remote.test>")
            c.cmd(f"RCPT TO:<alice@{DOMAIN}>")
            self.assertTrue(c.cmd("DATA")[0].startswith("354"))
            c.send("Subject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@remote.test>\r\n"
                   f"RCPT TO:<alice@{DOMAIN}>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
            self.assertTrue(c.reply()[0].startswith("550 5.6.0"))
            self.assertTrue(c.cmd("QUIT")[0].startswith("221"))
            self.assertEqual(srv.mailbox("alice"), [])

    def test_dot_stuffing_and_pipelining(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.send(f"MAIL FROM:<outsider@remote.test>\r\nRCPT TO:<alice@{DOMAIN}>\r\n"
                   f"RCPT TO:<nobody@{DOMAIN}>\r\nDATA\r\n")
            self.assertTrue(c.reply()[0].startswith("250"))
            self.assertTrue(c.reply()[0].startswith("250"))
            self.assertTrue(c.reply()[0].startswith("550"))
            self.assertTrue(c.reply()[0].startswith("354"))
            c.send("Subject: dots\r\n\r\n..starts with a dot\r\n.\r\n")
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertTrue(stored[0].endswith(b"\r\n.starts with a dot\r\n"))

    def test_bdat_chunks(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.cmd("MAIL FROM:<outsider@remote.test>")
            c.cmd(f"RCPT TO:<alice@{DOMAIN}>")
            part1 = b"Subject: chunked\r\n\r\n"
            part2 = b"line one\r\n.not stuffed\r\n"
            c.send(b"BDAT %d\r\n" % len(part1) + part1)
            self.assertTrue(c.reply()[0].startswith("250"))
            c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            stored = srv.mailbox("alice")
            self.assertTrue(stored[0].endswith(part1 + part2))

    def test_swaks_pipelining_with_auth_over_tls(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks is not installed")
        with SmtpServer() as srv:
            r = subprocess.run(
                ["swaks", "--server", "127.0.0.1", "--port", str(srv.smtp_port), "--tls",
                 "--pipeline", "--auth", "PLAIN", "--auth-user",
                 f"alice@{DOMAIN}", "--auth-password", PASSWORD, "--from", f"alice@{DOMAIN}",
                 "--to", f"alice@{DOMAIN}", "--header", "Subject: from swaks"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertIn(b"Subject: from swaks", stored[0])
            self.assertIn(b"with ESMTPSA", stored[0])


if __name__ == "__main__":
    unittest.main()

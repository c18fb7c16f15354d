"""smtp-in: a message that reached some local recipients and not others is accepted (250) once,
and the sender is sent a delivery status notification for the others (RFC 3464) — not a 451
for all, which would make the client send it again to those already served."""

import os
import smtplib
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtp_support  # noqa: E402
from smtp_out_support import parse_report  # noqa: E402

D = smtp_support.DOMAIN


class PartialDeliveryTest(unittest.TestCase):
    def test_one_local_recipient_failing_gets_a_report_and_no_duplicate(self):
        with smtp_support.SmtpServer(users=("alice", "bob", "carol")) as srv:
            # bob's mailbox holds less than this message: his delivery fails after RCPT.
            srv.run("user", "set", f"bob@{D}", "--quota", "300")
            body = ("x" * 70 + "\r\n") * 30
            msg = (f"From: carol@{D}\r\nTo: alice@{D}, bob@{D}\r\nSubject: half\r\n"
                   f"Message-ID: <half@{D}>\r\n\r\n{body}")
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
                c.ehlo("client.example.test")
                # No SIZE= on MAIL: with it the quota would refuse bob at RCPT already.
                c.esmtp_features.pop("size", None)
                refused = c.sendmail(f"carol@{D}", [f"alice@{D}", f"bob@{D}"], msg.encode())
                self.assertEqual(refused, {})  # every RCPT was accepted
                code, _ = c.noop()
                self.assertEqual(code, 250)
            alice = srv.mailbox("alice")
            self.assertEqual(len(alice), 1, "exactly one copy for the recipient served")
            self.assertIn(b"Subject: half", alice[0])
            self.assertEqual(srv.mailbox("bob"), [])
            reports = srv.mailbox("carol")
            self.assertEqual(len(reports), 1, "one report to the sender")
            report, blocks = parse_report(reports[0])
            self.assertEqual(report.get_content_type(), "multipart/report")
            self.assertEqual(len(blocks), 1)
            self.assertEqual(blocks[0]["Final-Recipient"], f"rfc822; bob@{D}")
            self.assertEqual(blocks[0]["Action"], "failed")
            self.assertEqual(blocks[0]["Status"], "5.2.2")
            self.assertIn("1 recipient(s) failed after the message was accepted", srv.log())

    def test_nothing_delivered_is_a_temporary_failure_for_all(self):
        with smtp_support.SmtpServer(users=("alice", "carol")) as srv:
            srv.run("user", "set", f"alice@{D}", "--quota", "300")
            body = ("y" * 70 + "\r\n") * 30
            msg = f"From: carol@{D}\r\nTo: alice@{D}\r\nSubject: none\r\n\r\n{body}"
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
                c.ehlo("client.example.test")
                c.esmtp_features.pop("size", None)
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    c.sendmail(f"carol@{D}", [f"alice@{D}"], msg.encode())
                self.assertEqual(e.exception.smtp_code, 451)
            self.assertEqual(srv.mailbox("alice"), [])
            self.assertEqual(srv.mailbox("carol"), [], "no report: the client keeps the message")


if __name__ == "__main__":
    unittest.main()

"""What smtp-in refuses as Postfix 3.9 does, over raw sockets against the real portico:

- a client that talks before the greeting, or does not wait for replies where RFC 2920 section
  3.1 says it must (no PIPELINING: before EHLO, or after HELO; and after EHLO and DATA), gets
  "554 5.5.0 Error: SMTP protocol synchronization" and is disconnected, and the log says
  "improper command pipelining after X from [address]: <what it sent>"; a client that waits,
  or pipelines where PIPELINING allows it, is served; with forbid_unauth_pipelining off, every
  one of them is served as before;
- a message holding a NUL octet, in DATA or in BDAT, is refused with 550 5.6.0 and nothing of it
  is delivered, while the session goes on.

To talk before the greeting for certain, the test stops the server process (SIGSTOP, its own
child, by PID), connects and sends while it is stopped (the kernel completes the connection and
keeps the bytes), then lets it run on (SIGCONT): the server finds the bytes already there when it
starts the session.
"""

import os
import re
import signal
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from smtp_support import DOMAIN, RawSmtp, SmtpServer  # noqa: E402

REFUSAL = "554 5.5.0 Error: SMTP protocol synchronization"
MAIL = "MAIL FROM:<outsider@remote.test>\r\n"
RCPT = f"RCPT TO:<alice@{DOMAIN}>\r\n"
CONTENT = "Subject: refusals\r\n\r\nHello.\r\n.\r\n"


def wait_stopped(pid, timeout=5.0):
    """Waits until every thread of process `pid` is stopped."""
    deadline = time.monotonic() + timeout
    while True:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                continue  # a thread that ended
        if states and all(s in ("T", "t") for s in states):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"portico (pid {pid}) did not stop: thread states {states}")
        time.sleep(0.01)


def send_before_greeting(srv, data):
    """A socket that sent `data` before the server could greet it."""
    pid = srv.proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_stopped(pid)
        sock = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=harness.IO_TIMEOUT)
        sock.sendall(data.encode())
    finally:
        os.kill(pid, signal.SIGCONT)
    return sock


def read_to_end(sock):
    """Every line the server sends until it closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data.decode().splitlines()


def wait_log_line(srv, text, timeout=10.0):
    srv.wait_log(re.escape(text), timeout=timeout)


class SynchronizationTest(unittest.TestCase):
    def test_talking_before_the_greeting_is_refused(self):
        with SmtpServer() as srv:
            lines = read_to_end(send_before_greeting(srv, "EHLO client.remote.test\r\n"))
            self.assertEqual(len(lines), 2, lines)
            self.assertTrue(lines[0].startswith("220 "), lines)
            self.assertEqual(lines[1], REFUSAL)
            wait_log_line(srv, "improper command pipelining after CONNECT from [127.0.0.1]: "
                               "EHLO client.remote.test")

    def test_waiting_for_the_greeting_is_served(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            self.assertTrue(c.greeting[0].startswith("220 "))
            self.assertTrue(c.cmd("EHLO client.remote.test")[0].startswith("250"))
            self.assertTrue(c.cmd("QUIT")[0].startswith("221"))

    def test_helo_then_two_commands_in_one_send_is_refused(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            self.assertTrue(c.cmd("HELO client.remote.test")[0].startswith("250"))
            c.send(MAIL + RCPT)
            self.assertEqual(c.reply(), ["250 2.1.0 Ok"])  # MAIL: it was read in time
            self.assertEqual(c.reply(), [REFUSAL])
            self.assertTrue(c.closed())
            wait_log_line(srv, "improper command pipelining after MAIL from [127.0.0.1]: "
                               f"RCPT TO:<alice@{DOMAIN}>")

    def test_helo_and_mail_in_one_send_is_refused(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.send("HELO client.remote.test\r\n" + MAIL)
            self.assertTrue(c.reply()[0].startswith("250 "))
            self.assertEqual(c.reply(), [REFUSAL])
            self.assertTrue(c.closed())
            wait_log_line(srv, "improper command pipelining after HELO from [127.0.0.1]: MAIL")

    def test_ehlo_and_mail_in_one_send_is_refused(self):
        # PIPELINING is not negotiated until the client has read the EHLO reply.
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.send("EHLO client.remote.test\r\n" + MAIL)
            self.assertIn("250-PIPELINING", c.reply())
            self.assertEqual(c.reply(), [REFUSAL])
            self.assertTrue(c.closed())
            wait_log_line(srv, "improper command pipelining after EHLO from [127.0.0.1]: MAIL")

    def test_data_and_its_content_in_one_send_is_refused_and_nothing_delivered(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.send(MAIL + RCPT + "DATA\r\n" + CONTENT)
            self.assertTrue(c.reply()[0].startswith("250"))
            self.assertTrue(c.reply()[0].startswith("250"))
            self.assertTrue(c.reply()[0].startswith("354"))
            self.assertEqual(c.reply(), [REFUSAL])
            self.assertTrue(c.closed())
            wait_log_line(srv, "improper command pipelining after DATA from [127.0.0.1]: "
                               "Subject: refusals")
            self.assertEqual(srv.mailbox("alice"), [])

    def test_ehlo_then_pipelined_mail_rcpt_data_is_served(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            c.cmd("EHLO client.remote.test")
            c.send(MAIL + RCPT + "DATA\r\n")
            self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
            self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
            self.assertTrue(c.reply()[0].startswith("354"))
            c.send(CONTENT + "QUIT\r\n")  # a command may follow the end of the data at once
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            self.assertTrue(c.reply()[0].startswith("221"))
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertIn(b"Subject: refusals", stored[0])
            self.assertNotIn("improper command pipelining", srv.log())

    def test_helo_client_that_waits_is_served(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            for command in ("HELO client.remote.test", MAIL.strip(), RCPT.strip()):
                self.assertTrue(c.cmd(command)[0].startswith("250"))
            self.assertTrue(c.cmd("DATA")[0].startswith("354"))
            c.send(CONTENT)
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            self.assertTrue(c.cmd("QUIT")[0].startswith("221"))
            self.assertEqual(len(srv.mailbox("alice")), 1)

    def test_setting_off_serves_them_all_as_before(self):
        dialogue = ("HELO client.remote.test\r\n" + MAIL + RCPT + "DATA\r\n" + CONTENT +
                    "QUIT\r\n")
        with SmtpServer(forbid_unauth_pipelining=False) as srv:
            lines = read_to_end(send_before_greeting(srv, dialogue))
            self.assertEqual([line[:3] for line in lines],
                             ["220", "250", "250", "250", "354", "250", "221"], lines)
            c = RawSmtp(srv.smtp_port)
            c.send("EHLO client.remote.test\r\n" + MAIL + RCPT + "DATA\r\n" + CONTENT)
            replies = [c.reply()[0][:3] for _ in range(5)]
            self.assertEqual(replies, ["250", "250", "250", "354", "250"])
            self.assertTrue(c.cmd("QUIT")[0].startswith("221"))
            self.assertEqual(len(srv.mailbox("alice")), 2)
            self.assertNotIn("improper command pipelining", srv.log())


class NulOctetTest(unittest.TestCase):
    NUL_MESSAGE = b"Subject: nul\r\n\r\nbefore\x00after\r\n"

    def start_transaction(self, c):
        c.cmd("EHLO client.remote.test")
        self.assertTrue(c.cmd(MAIL.strip())[0].startswith("250"))
        self.assertTrue(c.cmd(RCPT.strip())[0].startswith("250"))

    def test_data_with_a_nul_is_refused_and_nothing_delivered(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            self.start_transaction(c)
            self.assertTrue(c.cmd("DATA")[0].startswith("354"))
            c.send(self.NUL_MESSAGE + b".\r\n")
            reply = c.reply()
            self.assertEqual(len(reply), 1)
            self.assertTrue(reply[0].startswith("550 5.6.0 "), reply)
            self.assertIn("NUL", reply[0])
            self.assertEqual(srv.mailbox("alice"), [])
            # The session is still in step: the next message goes through.
            self.assertTrue(c.cmd(MAIL.strip())[0].startswith("250"))
            self.assertTrue(c.cmd(RCPT.strip())[0].startswith("250"))
            self.assertTrue(c.cmd("DATA")[0].startswith("354"))
            c.send(CONTENT)
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            stored = srv.mailbox("alice")
            self.assertEqual(len(stored), 1)
            self.assertNotIn(b"\x00", stored[0])

    def test_bdat_with_a_nul_is_refused_and_nothing_delivered(self):
        with SmtpServer() as srv:
            c = RawSmtp(srv.smtp_port)
            self.start_transaction(c)
            head, tail = self.NUL_MESSAGE[:14], self.NUL_MESSAGE[14:]
            c.send(b"BDAT %d\r\n" % len(head) + head)
            self.assertEqual(c.reply(), ["250 2.0.0 %d octets received" % len(head)])
            c.send(b"BDAT %d LAST\r\n" % len(tail) + tail)
            reply = c.reply()
            self.assertTrue(reply[0].startswith("550 5.6.0 "), reply)
            self.assertEqual(srv.mailbox("alice"), [])
            self.assertTrue(c.cmd(MAIL.strip())[0].startswith("250"))
            self.assertTrue(c.cmd(RCPT.strip())[0].startswith("250"))
            body = b"Subject: clean\r\n\r\nno nul\r\n"
            c.send(b"BDAT %d LAST\r\n" % len(body) + body)
            self.assertTrue(c.reply()[0].startswith("250 2.0.0"))
            self.assertEqual(len(srv.mailbox("alice")), 1)


if __name__ == "__main__":
    unittest.main()

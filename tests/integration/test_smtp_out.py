"""smtp-out: the queue delivered to other servers started by the tests on loopback — smtp-sink,
aiosmtpd, a second portico — found through a real DNS server (unbound) or routes, with the
outcomes the RFCs ask for: MX preference and fallback, null MX and NXDOMAIN bounced, 5xx
bounced and 4xx retried, SIZE and SMTPUTF8 limits, STARTTLS, AUTH to a relay host, outbound IP
with its fallback, a server that never answers stalling nothing else, and delivery status
notifications read back with Python's email package."""

import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smtp_support  # noqa: E402
from smtp_out_support import (AioServer, RelayServer, SilentServer, SmtpSink, Unbound,  # noqa: E402
                              out_settings, parse_report)

CAROL = f"carol@{smtp_support.DOMAIN}"


def zone(port_host="127.0.0.1"):
    # Not under .test: resolvers (libunbound included) answer NXDOMAIN for .test themselves
    # (RFC 6761), without asking any server.
    return Unbound(
        records=[
            "remote.example. MX 10 mx1.remote.example.",
            "remote.example. MX 20 mx2.remote.example.",
            "mx1.remote.example. A 127.0.0.3",  # nothing listens there: the preferred MX is down
            f"mx2.remote.example. A {port_host}",
            "nomx.example. A 127.0.0.1",  # no MX: the implicit MX, the domain itself
            "nullmx.example. MX 0 .",
        ],
        zones=["remote.example", "nomx.example", "nullmx.example", "nowhere.example"])


def wait_report(srv, user="carol", count=1, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        box = srv.mailbox(user)
        if len(box) >= count:
            return box
        if time.monotonic() > deadline:
            raise AssertionError(f"{user} has {len(box)} of {count} messages\n{srv.log()[-4000:]}")
        time.sleep(0.2)


class MxDeliveryTest(unittest.TestCase):
    def test_mx_by_preference_falls_back_to_the_next_host(self):
        with SmtpSink() as sink, zone() as dns, \
                RelayServer(out_settings(mx_port=sink.port), dns=dns) as srv:
            srv.send(CAROL, ["bob@remote.example"], subject="via mx2")
            dump = sink.wait_messages(1)[0]
            self.assertIn(b"Subject: via mx2", dump)
            srv.wait_queue_empty()
            log = srv.log()
            self.assertIn("mx1.remote.example", log)  # tried first, and failed
            self.assertRegex(log, r"to=<bob@remote.example>, relay=mx2.remote.example, "
                                  r"dsn=2\.\S+, status=sent")

    def test_implicit_mx_delivers_to_the_domain_itself(self):
        with SmtpSink() as sink, zone() as dns, \
                RelayServer(out_settings(mx_port=sink.port), dns=dns) as srv:
            srv.send(CAROL, ["dan@nomx.example"], subject="implicit")
            self.assertIn(b"Subject: implicit", sink.wait_messages(1)[0])
            srv.wait_queue_empty()

    def test_null_mx_and_nxdomain_bounce_at_once(self):
        with zone() as dns, RelayServer(out_settings(), dns=dns) as srv:
            srv.send(CAROL, ["x@nullmx.example", "y@nowhere.example"], subject="no way")
            box = wait_report(srv)
            msg, blocks = parse_report(box[0])
            self.assertEqual(msg.get_content_type(), "multipart/report")
            self.assertIn(CAROL, str(msg["To"]))
            by_rcpt = {b["Final-Recipient"]: b for b in blocks}
            self.assertEqual(by_rcpt["rfc822; x@nullmx.example"]["Status"], "5.1.10")
            self.assertEqual(by_rcpt["rfc822; y@nowhere.example"]["Status"], "5.1.2")
            self.assertTrue(all(b["Action"] == "failed" for b in blocks))
            srv.wait_queue_empty()


class OutcomesTest(unittest.TestCase):
    def route(self, sink):
        return out_settings(routes=[f"remote.test 127.0.0.1:{sink.port}"])

    def test_permanent_refusal_bounces_with_the_remote_reply(self):
        with SmtpSink("-f", "RCPT") as sink, RelayServer(self.route(sink)) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="refused")
            msg, blocks = parse_report(wait_report(srv)[0])
            self.assertEqual(len(blocks), 1)
            self.assertEqual(blocks[0]["Action"], "failed")
            self.assertTrue(blocks[0]["Diagnostic-Code"].startswith("smtp; 5"), blocks[0])
            self.assertEqual(blocks[0]["Remote-MTA"], "dns; 127.0.0.1")
            # The whole message comes back (RET unspecified, a failure).
            returned = [p for p in msg.walk() if p.get_content_type() == "message/rfc822"]
            self.assertEqual(len(returned), 1)
            srv.wait_queue_empty()
            # No data went (smtp-sink keeps an empty dump while the connection stays open).
            self.assertEqual([m for m in sink.messages() if m], [])

    def test_temporary_refusal_is_retried_and_the_sender_told_of_the_delay(self):
        settings = self.route_with(retry_schedule=["1s"], delay_notice_after="1s")
        with SmtpSink("-r", "RCPT") as sink, RelayServer(settings(sink)) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="later")
            out = srv.wait_queue(lambda o: "450" in o or "4.3.0" in o, "no deferral recorded")
            self.assertIn("bob@remote.test", out)
            msg, blocks = parse_report(wait_report(srv)[0])
            self.assertEqual(blocks[0]["Action"], "delayed")
            self.assertIn("Will-Retry-Until", blocks[0])
            self.assertEqual([p.get_content_type() for p in msg.walk()][-1],
                             "text/rfc822-headers")
            time.sleep(3)
            self.assertEqual(len(srv.mailbox("carol")), 1, "the delay is told once")
            self.assertEqual(len(srv.queue_ids()), 1, "still queued for retry")

    def route_with(self, **extra):
        def make(sink):
            s = self.route(sink)
            s.update(extra)
            return s
        return make

    def test_lifetime_ends_in_a_failure_report(self):
        settings = self.route_with(retry_schedule=["1s"], message_lifetime="3s",
                                   delay_notice_after="0")
        with SmtpSink("-r", "RCPT") as sink, RelayServer(settings(sink)) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="expires")
            msg, blocks = parse_report(wait_report(srv, timeout=60)[0])
            self.assertEqual(len(blocks), 1, srv.log()[-4000:])
            self.assertEqual(blocks[0]["Action"], "failed", srv.log()[-4000:])
            self.assertEqual(blocks[0]["Status"], "5.4.7", srv.log()[-4000:])
            srv.wait_queue_empty()

    def test_success_report_when_asked(self):
        with SmtpSink("-N") as sink, RelayServer(self.route(sink)) as srv:  # -N: no DSN
            srv.send(CAROL, ["bob@remote.test"], subject="tell me",
                     rcpt_options=["NOTIFY=SUCCESS"])
            sink.wait_messages(1)
            msg, blocks = parse_report(wait_report(srv)[0])
            self.assertEqual(blocks[0]["Action"], "relayed")

    def test_no_report_to_the_null_sender(self):
        with SmtpSink("-f", "RCPT") as sink, RelayServer(self.route(sink)) as srv:
            srv.send("", ["bob@remote.test"], subject="a bounce itself")
            srv.wait_queue_empty()
            time.sleep(1)
            self.assertEqual(srv.mailbox("carol"), [])
            self.assertEqual(srv.queue_ids(), [])


class LimitsTest(unittest.TestCase):
    def test_too_big_for_the_remote_size_fails_without_sending(self):
        with AioServer(size=200) as aio, \
                RelayServer(out_settings(routes=[f"remote.test 127.0.0.1:{aio.port}"])) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="big", body=("x" * 70 + "\r\n") * 30)
            _, blocks = parse_report(wait_report(srv)[0])
            self.assertEqual(blocks[0]["Status"], "5.3.4")
            self.assertEqual(aio.received, [])

    def test_utf8_address_needs_smtputf8(self):
        with AioServer(utf8=False) as aio, \
                RelayServer(out_settings(routes=[f"remote.test 127.0.0.1:{aio.port}"])) as srv:
            import smtplib
            msg = "From: carol@example.test\r\nTo: b@remote.test\r\nSubject: utf8\r\n\r\nhi\r\n"
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
                c.ehlo("client.example.test")
                c.sendmail(CAROL, ["bøb@remote.test"], msg.encode(), mail_options=["SMTPUTF8"])
            _, blocks = parse_report(wait_report(srv)[0])
            self.assertEqual(blocks[0]["Status"], "5.6.7")
            self.assertEqual(aio.received, [])


class TlsAndRelayTest(unittest.TestCase):
    def test_starttls_is_used_when_offered(self):
        with AioServer(starttls=True) as aio, \
                RelayServer(out_settings(routes=[f"remote.test 127.0.0.1:{aio.port}"])) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="secret")
            received = aio.wait_messages(1)
            self.assertTrue(received[0][5], "delivered over TLS")
            srv.wait_queue_empty()
            # Logged when the connection ends, after its reuse time.
            ended = r"connection to 127\.0\.0\.1 ended \(TLSv1\.[23] "
            deadline = time.monotonic() + 20
            while not re.search(ended, srv.log()):
                self.assertLess(time.monotonic(), deadline, srv.log()[-3000:])
                time.sleep(0.2)

    def test_relay_host_delivers_to_its_account(self):
        sub_port = harness.free_port()
        relay = smtp_support.SmtpServer(users=("dave",), submission={
            "enabled": True, "address": "127.0.0.1", "port": sub_port})
        with relay:
            settings = out_settings(relay_host=f"127.0.0.1:{sub_port}",
                                    relay_auth_user=f"dave@{smtp_support.DOMAIN}",
                                    relay_auth_password=smtp_support.PASSWORD)
            # The sending portico's own local domain is another one, so that dave's is remote.
            with RelayServer(settings, users=()) as srv:
                srv.run("domain", "add", "sender.test")
                srv.run("user", "add", "erin@sender.test", "--password-stdin",
                        input_text=smtp_support.PASSWORD)
                srv.run("domain", "remove", smtp_support.DOMAIN)
                srv.send("erin@sender.test", [f"dave@{smtp_support.DOMAIN}"], subject="to dave")
                deadline = time.monotonic() + 60
                while not relay.mailbox("dave"):
                    self.assertLess(time.monotonic(), deadline, srv.log()[-4000:])
                    time.sleep(0.2)
                self.assertIn(b"Subject: to dave", relay.mailbox("dave")[0])
                self.assertRegex(relay.log(), r"(?i)authenticated|auth.*dave")


class ConnectionTest(unittest.TestCase):
    def test_outbound_ip_is_the_source_address(self):
        with AioServer() as aio, RelayServer(out_settings(
                routes=[f"remote.test 127.0.0.1:{aio.port}"], outbound_ip=["127.0.0.2"])) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="from .2")
            self.assertEqual(aio.wait_messages(1)[0][0], "127.0.0.2")

    def test_fallback_to_the_primary_ip(self):
        # 192.0.2.1 is no address of this machine: binding to it fails, then the system's own
        # address is used once.
        with AioServer() as aio, RelayServer(out_settings(
                routes=[f"remote.test 127.0.0.1:{aio.port}"], outbound_ip=["192.0.2.1"],
                fallback_to_primary_ip=True)) as srv:
            srv.send(CAROL, ["bob@remote.test"], subject="fallback")
            self.assertEqual(aio.wait_messages(1)[0][0], "127.0.0.1")

    def test_a_silent_server_stalls_no_other_destination(self):
        with SilentServer() as silent, SmtpSink() as sink, RelayServer(out_settings(
                routes=[f"dead.test 127.0.0.1:{silent.port}",
                        f"remote.test 127.0.0.1:{sink.port}"],
                command_timeout="3s", max_delivery_threads=3,
                max_connections_per_destination=1)) as srv:
            for i in range(3):
                srv.send(CAROL, [f"x{i}@dead.test"], subject=f"dead {i}")
            for i in range(5):
                srv.send(CAROL, [f"y{i}@remote.test"], subject=f"alive {i}")
            self.assertEqual(len(sink.wait_messages(5, timeout=60)), 5)
            out = srv.run("queue", "list")
            self.assertIn("dead.test", out)  # still waiting, not lost


class ConnectionReuseTest(unittest.TestCase):
    """An idle connection waits connection_reuse_time for the destination's next message."""

    def first_delivered(self, aio, reuse):
        """A server routing remote.test to `aio`, with one message delivered there."""
        srv = RelayServer(out_settings(routes=[f"remote.test 127.0.0.1:{aio.port}"],
                                       connection_reuse_time=reuse))
        srv.__enter__()
        self.addCleanup(srv.__exit__, None, None, None)
        srv.send(CAROL, ["bob@remote.test"], subject="first")
        aio.wait_messages(1)
        return srv

    def test_a_message_takes_the_idle_connection_which_quits_when_its_time_ends(self):
        with AioServer() as aio:
            srv = self.first_delivered(aio, "3s")
            srv.send(CAROL, ["bob@remote.test"], subject="second")
            got = aio.wait_messages(2)
            second_at = time.monotonic()
            self.assertEqual(got[0][6], got[1][6], "both messages over one connection")
            self.assertEqual(aio.quits, [], "no QUIT while the connection may be reused")
            deadline = time.monotonic() + 15
            while not aio.quits:
                self.assertLess(time.monotonic(), deadline, srv.log()[-3000:])
                time.sleep(0.1)
            port, quit_at = aio.quits[0]
            self.assertEqual(port, got[1][6])
            self.assertGreater(quit_at - second_at, 2.0, "it waited the reuse time first")
            srv.wait_queue_empty()

    def test_zero_closes_each_connection_when_it_has_nothing_to_send(self):
        with AioServer() as aio:
            srv = self.first_delivered(aio, "0")
            deadline = time.monotonic() + 10
            while not aio.quits:
                self.assertLess(time.monotonic(), deadline, "QUIT at once")
                time.sleep(0.05)
            srv.send(CAROL, ["bob@remote.test"], subject="second")
            got = aio.wait_messages(2)
            self.assertNotEqual(got[0][6], got[1][6])

    def test_an_idle_connection_gives_its_slot_to_another_destination(self):
        # One delivery slot; the connection to a.test idles for up to 60 s. Mail for b.test
        # must not wait for that.
        with AioServer() as a, AioServer() as b, RelayServer(out_settings(
                routes=[f"a.test 127.0.0.1:{a.port}", f"b.test 127.0.0.1:{b.port}"],
                max_delivery_threads=1, connection_reuse_time="60s")) as srv:
            srv.send(CAROL, ["x@a.test"], subject="to a")
            a.wait_messages(1)
            started = time.monotonic()
            srv.send(CAROL, ["y@b.test"], subject="to b")
            b.wait_messages(1, timeout=20)
            self.assertLess(time.monotonic() - started, 20)
            self.assertEqual(len(a.quits), 1, "the idle connection to a.test quit")
            srv.wait_queue_empty()

    def test_a_server_closing_the_idle_connection_is_no_failure(self):
        with AioServer(idle_timeout=1) as aio:
            srv = self.first_delivered(aio, "30s")
            time.sleep(2.5)  # aiosmtpd has closed the idle connection by now
            srv.send(CAROL, ["bob@remote.test"], subject="second")
            got = aio.wait_messages(2, timeout=20)
            self.assertNotEqual(got[0][6], got[1][6])
            srv.wait_queue_empty()
            self.assertNotIn("deferred", srv.log())


class CrashTest(unittest.TestCase):
    def test_sigkill_during_deliveries_loses_nothing(self):
        # Messages are accepted (durable in the queue), deliveries are under way to smtp-sink,
        # and portico is killed. After a restart every accepted message reaches the sink at
        # least once: at most those in flight at the kill are sent twice (RFC 1047).
        import signal
        import smtplib
        # The sink waits a second before answering each DATA, so that the 60 deliveries take
        # far longer than their submission and the kill always comes in the middle of them.
        with SmtpSink("-w", "1") as sink, RelayServer(out_settings(
                routes=[f"remote.test 127.0.0.1:{sink.port}"], max_delivery_threads=4)) as srv:
            subjects = []
            body = "line of the body\r\n" * 200
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
                c.ehlo("client.example.test")
                for i in range(60):
                    subject = f"burst {i}"
                    msg = (f"From: {CAROL}\r\nTo: bob@remote.test\r\nSubject: {subject}\r\n"
                           f"\r\n{body}")
                    c.sendmail(CAROL, ["bob@remote.test"], msg.encode())
                    subjects.append(subject)
            deadline = time.monotonic() + 30
            while len(sink.messages()) < 5 and time.monotonic() < deadline:
                time.sleep(0.02)
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(10)
            got_before = len(sink.messages())
            self.assertLess(got_before, 60, "the kill came too late to prove anything")
            srv.start()
            sink.wait_messages(60, timeout=120)
            srv.wait_queue_empty(timeout=120)
            dumps = sink.messages()
            for subject in subjects:
                line = re.compile(rf"^Subject: {subject}\r?$".encode(), re.M)
                self.assertTrue(any(line.search(d) for d in dumps), f"{subject} lost")
            # Sent twice at most: what was in flight on the 4 connections or delivered and not
            # yet recorded in the queue when the kill came.
            self.assertLessEqual(len(dumps), 60 + 8, "more duplicates than the window allows")


if __name__ == "__main__":
    unittest.main()

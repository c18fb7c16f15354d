"""Connection limits, bad-command limit, long lines, and a plugin that throws."""

import os
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def greeting_of_new_connection(port):
    with harness.LineClient(port) as c:
        return c.readline()


class ConnectionLimitTest(unittest.TestCase):
    def test_max_connections_busy_reply_and_release(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, max_connections=2)}) as srv:
            c1 = srv.client()
            c2 = srv.client()
            self.assertTrue(c1.greeting.startswith("+OK "), c1.greeting)
            self.assertTrue(c2.greeting.startswith("+OK "), c2.greeting)

            with harness.LineClient(port) as c3:
                self.assertEqual(c3.readline(), harness.BUSY_REPLY)
                self.assertTrue(c3.at_eof())

            # The two accepted connections are not disturbed.
            self.assertEqual(c1.command("ECHO one"), "+OK one")
            self.assertEqual(c2.command("ECHO two"), "+OK two")

            # QUIT releases the slot before the server closes: the next one is accepted at once.
            self.assertEqual(c1.command("QUIT"), "+OK bye")
            self.assertTrue(c1.at_eof())
            c1.close()
            with srv.client() as c4:
                self.assertEqual(c4.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c4.command("NOOP"), "+OK")

                # An abrupt close releases its slot too (once the server has seen the EOF).
                c2.close()
                got = harness.wait_until(
                    lambda: greeting_of_new_connection(port).startswith("+OK "), timeout=5)
                self.assertTrue(got, "the slot of a closed connection was never released")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_max_connections_per_address(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, max_connections=10, max_connections_per_address=1)}) as srv:
            c1 = srv.client()
            self.assertTrue(c1.greeting.startswith("+OK "), c1.greeting)
            with harness.LineClient(port) as c2:
                self.assertEqual(c2.readline(), harness.BUSY_ADDRESS_REPLY)
                self.assertTrue(c2.at_eof())
            self.assertEqual(c1.command("ECHO still here"), "+OK still here")
            self.assertEqual(c1.command("QUIT"), "+OK bye")
            self.assertTrue(c1.at_eof())
            c1.close()
            with srv.client() as c3:
                self.assertTrue(c3.greeting.startswith("+OK "), c3.greeting)
            status = srv.status_json()
            self.assertGreaterEqual(status["protocols"]["lineproto"]["counters"]["refused_address"],
                                    1, status)
            self.assertEqual(srv.stop(), 0, srv.log())


class BadCommandTest(unittest.TestCase):
    def test_too_many_bad_commands(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, max_bad_commands=3)}) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("FOO"), "-ERR unknown command")
                self.assertEqual(c.command("ECHO between"), "+OK between")
                self.assertEqual(c.command("BAR"), "-ERR unknown command")
                self.assertEqual(c.command("NOOP"), "+OK")
                self.assertEqual(c.command("BAZ"), "-ERR unknown command")
                self.assertEqual(c.readline(), harness.TOO_MANY_BAD_REPLY)
                self.assertTrue(c.at_eof())
            status = srv.status_json()
            counters = status["protocols"]["lineproto"]["counters"]
            self.assertEqual(counters["bad_commands"], 3, status)
            self.assertEqual(counters["closed_bad_commands"], 1, status)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_line_too_long_counts_as_bad_command(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, max_bad_commands=3)}) as srv:
            with srv.client() as c:
                c.send("ECHO " + "x" * 600)
                self.assertEqual(c.readline(), "-ERR line too long")
                # The rest of the long line is not taken as a command; the session goes on.
                self.assertEqual(c.command("ECHO short"), "+OK short")
                # A long line sent in pieces, its end arriving later.
                c.send_raw("ECHO " + "y" * 400)
                time.sleep(0.2)
                c.send_raw("y" * 400 + "\r\n")
                self.assertEqual(c.readline(), "-ERR line too long")
                self.assertEqual(c.command("ECHO again"), "+OK again")
                # That was two bad commands; the third closes.
                self.assertEqual(c.command("NOPE"), "-ERR unknown command")
                self.assertEqual(c.readline(), harness.TOO_MANY_BAD_REPLY)
                self.assertTrue(c.at_eof())
            counters = srv.status_json()["protocols"]["lineproto"]["counters"]
            self.assertEqual(counters["lines_too_long"], 2, counters)
            self.assertEqual(counters["bad_commands"], 3, counters)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_line_of_exactly_512_bytes_is_accepted(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            with srv.client() as c:
                text = "z" * (512 - len("ECHO \r\n"))
                self.assertEqual(c.command("ECHO " + text), "+OK " + text)
            self.assertEqual(srv.stop(), 0, srv.log())


class PluginExceptionTest(unittest.TestCase):
    def test_throw_closes_only_that_session(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            other = srv.client()
            with srv.client() as c:
                c.send("THROW")
                self.assertTrue(c.at_eof(), "the session that threw was not closed")
            # The other session and new sessions are served.
            self.assertEqual(other.command("ECHO alive"), "+OK alive")
            with srv.client() as c2:
                self.assertEqual(c2.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c2.command("ECHO after"), "+OK after")
            self.assertTrue(srv.alive())
            status = srv.status_json()
            self.assertEqual(status["protocols"]["lineproto"]["counters"]["plugin_errors"], 1,
                             status)
            self.assertIn("THROW asked for an exception", srv.log())
            other.close()
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Session (idle) timeout and command timeout, as the core enforces them."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class TimeoutTest(unittest.TestCase):
    def test_session_timeout(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, session_timeout="1s", command_timeout="5s")}) as srv:
            with srv.client() as c:
                t0 = time.monotonic()
                self.assertEqual(c.readline(timeout=5), harness.SESSION_TIMEOUT_REPLY)
                elapsed = time.monotonic() - t0
                self.assertTrue(c.at_eof(timeout=5))
                self.assertGreaterEqual(elapsed, 0.8)
                self.assertLessEqual(elapsed, 3.0)
            # Activity restarts the idle clock.
            with srv.client() as c:
                for _ in range(3):
                    time.sleep(0.5)
                    self.assertEqual(c.command("NOOP"), "+OK")
                t0 = time.monotonic()
                self.assertEqual(c.readline(timeout=5), harness.SESSION_TIMEOUT_REPLY)
                self.assertGreaterEqual(time.monotonic() - t0, 0.8)
                self.assertTrue(c.at_eof(timeout=5))
            counters = srv.status_json()["protocols"]["lineproto"]["counters"]
            self.assertEqual(counters["session_timeouts"], 2, counters)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_command_timeout_partial_line(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, session_timeout="5s", command_timeout="1s")}) as srv:
            with srv.client() as c:
                c.send_raw("ECHO partial")  # no line end
                t0 = time.monotonic()
                self.assertEqual(c.readline(timeout=5), harness.COMMAND_TIMEOUT_REPLY)
                elapsed = time.monotonic() - t0
                self.assertTrue(c.at_eof(timeout=5))
                self.assertGreaterEqual(elapsed, 0.8)
                self.assertLessEqual(elapsed, 3.0)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_command_timeout_in_data_mode(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, session_timeout="5s", command_timeout="1s")}) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("DATA"), "+OK send lines, end with .")
                c.send("first line")
                t0 = time.monotonic()
                self.assertEqual(c.readline(timeout=5), harness.COMMAND_TIMEOUT_REPLY)
                elapsed = time.monotonic() - t0
                self.assertTrue(c.at_eof(timeout=5))
                self.assertGreaterEqual(elapsed, 0.8)
                self.assertLessEqual(elapsed, 3.0)
            counters = srv.status_json()["protocols"]["lineproto"]["counters"]
            self.assertEqual(counters["command_timeouts"], 1, counters)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_session_timeout_disabled(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, session_timeout="1s", command_timeout="1s",
                session_timeout_enabled=False)}) as srv:
            with srv.client() as c:
                self.assertTrue(c.nothing_within(2.0), "the server sent something or closed")
                self.assertEqual(c.command("ECHO still open"), "+OK still open")
                self.assertEqual(c.command("QUIT"), "+OK bye")
                self.assertTrue(c.at_eof())
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

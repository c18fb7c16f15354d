"""What SDK 1.3 gives a long-lived session, through the real core and the test line protocol:
raw input (bytes as they arrive, the command timeout only while the session holds part of a
message), the session's own timeouts, timers it can cancel, its own last words on a timeout or
at shutdown, and handles through which another connection's session is reached — safely,
also once that connection is gone. (Not run against the SDK 1.0 build: these are 1.3's.)"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def server(**overrides):
    port = harness.free_port()
    return harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port, **overrides)})


class RawInputTest(unittest.TestCase):
    def test_bytes_as_they_arrive_then_lines_again(self):
        with server() as srv, srv.client() as c:
            self.assertEqual(c.command("RAW"), "+OK raw")
            c.send_raw(b"abc")
            time.sleep(0.2)
            c.send_raw(b"de\nfgEND\n")
            self.assertEqual(c.readline(), "+OK raw 8 bytes")
            self.assertEqual(c.command("ECHO lines again"), "+OK lines again")

    def test_part_of_a_message_is_timed_by_the_command_timeout(self):
        with server(command_timeout="1s", session_timeout="30s") as srv, srv.client() as c:
            self.assertEqual(c.command("RAW"), "+OK raw")
            c.send_raw(b"half a message")
            started = time.monotonic()
            self.assertEqual(c.readline(timeout=10), "-ERR command timeout")
            self.assertTrue(c.at_eof())
            self.assertLess(time.monotonic() - started, 8)

    def test_idle_raw_input_is_timed_by_the_session_timeout(self):
        with server(command_timeout="30s", session_timeout="1s") as srv, srv.client() as c:
            self.assertEqual(c.command("RAW"), "+OK raw")
            self.assertEqual(c.readline(timeout=10), "-ERR session timeout")
            self.assertTrue(c.at_eof())


class TimeoutsAndTimersTest(unittest.TestCase):
    def test_the_session_chooses_a_shorter_session_timeout(self):
        with server(session_timeout="30s") as srv, srv.client() as c:
            self.assertEqual(c.command("TIMEOUTS 1000 0"), "+OK")
            started = time.monotonic()
            self.assertEqual(c.readline(timeout=10), "-ERR session timeout")
            self.assertLess(time.monotonic() - started, 8)

    def test_the_session_turns_its_session_timeout_off(self):
        with server(session_timeout="1s") as srv, srv.client() as c:
            self.assertEqual(c.command("TIMEOUTS -1 0"), "+OK")
            self.assertTrue(c.nothing_within(2.5))
            self.assertEqual(c.command("NOOP"), "+OK")

    def test_a_timer_fires_and_a_cancelled_one_does_not(self):
        with server() as srv, srv.client() as c:
            self.assertTrue(c.command("TIMER 200 first").startswith("+OK timer "))
            self.assertEqual(c.readline(timeout=5), "+TIMER first")
            reply = c.command("TIMER 500 never")
            timer_id = reply.split()[-1]
            self.assertEqual(c.command(f"CANCEL {timer_id}"), "+OK")
            self.assertTrue(c.nothing_within(1.2))


class FinalWordsTest(unittest.TestCase):
    def test_own_words_at_a_session_timeout(self):
        with server() as srv, srv.client() as c:
            self.assertEqual(c.command("FINAL farewell"), "+OK")
            self.assertEqual(c.command("TIMEOUTS 1000 0"), "+OK")
            self.assertEqual(c.readline(timeout=10), "-ERR farewell (session timeout)")
            self.assertTrue(c.at_eof())

    def test_own_words_at_shutdown(self):
        with server() as srv:
            c = srv.client()
            self.assertEqual(c.command("FINAL see you"), "+OK")
            srv.terminate()
            self.assertEqual(c.readline(timeout=10), "-ERR see you (shutdown)")
            self.assertTrue(c.at_eof())
            c.close()
            self.assertEqual(srv.wait(), 0)

    def test_without_own_words_the_protocol_reply(self):
        with server() as srv, srv.client() as c:
            self.assertEqual(c.command("TIMEOUTS 1000 0"), "+OK")
            self.assertEqual(c.readline(timeout=10), "-ERR session timeout")


class HandleTest(unittest.TestCase):
    def test_one_session_reaches_another_and_not_once_it_is_gone(self):
        with server() as srv:
            a = srv.client()
            b = srv.client()
            a_id = a.command("ID").split()[-1]
            self.assertEqual(b.command(f"NOTIFY {a_id} hello from b"), "+OK sent")
            self.assertEqual(a.readline(timeout=5), "+NOTE hello from b")
            self.assertEqual(a.command("QUIT"), "+OK bye")
            self.assertTrue(a.at_eof())
            a.close()
            deadline = time.monotonic() + 5
            while True:
                reply = b.command(f"NOTIFY {a_id} too late")
                if reply == "-ERR gone" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(reply, "-ERR gone")
            self.assertEqual(b.command("NOOP"), "+OK")
            b.close()


if __name__ == "__main__":
    unittest.main()

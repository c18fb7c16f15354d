"""The greeting banner: every #Variable# is replaced, unknown ones are left as they are."""

import email.utils
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class BannerTest(unittest.TestCase):
    def test_every_variable_replaced(self):
        port = harness.free_port()
        banner = "+OK |#HostName#|#ConnectedIP#|#UnixTime#|#TimeUTC#|#Time#|#Nope#|ready"
        with harness.PorticoServer(
                plugins={"lineproto": harness.lineproto_settings(port, banner=banner)}) as srv:
            before = time.time()
            with srv.client() as c:
                after = time.time()
                parts = c.greeting.split("|")
                self.assertEqual(len(parts), 8, c.greeting)
                ok, host, ip, unix, utc, local, nope, ready = parts
                self.assertEqual(ok, "+OK ")
                self.assertEqual(host, harness.HOSTNAME)
                self.assertEqual(ip, "127.0.0.1")
                self.assertRegex(unix, r"^\d+$")
                self.assertGreaterEqual(int(unix), int(before) - 3)
                self.assertLessEqual(int(unix), after + 3)

                # RFC 5322 date-time, in UTC with the numeric zone +0000.
                self.assertRegex(utc, r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|"
                                      r"Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$")
                parsed_utc = email.utils.parsedate_tz(utc)
                self.assertIsNotNone(parsed_utc, utc)
                self.assertEqual(parsed_utc[9], 0)
                self.assertLess(abs(email.utils.mktime_tz(parsed_utc) - int(unix)), 3)

                # Local time: RFC 5322 with the local numeric offset; the same instant.
                self.assertRegex(local, r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
                parsed_local = email.utils.parsedate_tz(local)
                self.assertIsNotNone(parsed_local, local)
                self.assertLess(abs(email.utils.mktime_tz(parsed_local) - int(unix)), 3)

                self.assertEqual(nope, "#Nope#")
                self.assertEqual(ready, "ready")

                # The session goes on normally after the greeting.
                self.assertEqual(c.command("ECHO hi"), "+OK hi")
                self.assertEqual(c.command("QUIT"), "+OK bye")
                self.assertTrue(c.at_eof())
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_default_banner(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Shutdown (SIGTERM with idle and busy connections, the grace period), `portico status`, and
the Prometheus metrics endpoint."""

import os
import re
import sys
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class ShutdownTest(unittest.TestCase):
    def test_sigterm_idle_connection(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("NOOP"), "+OK")
                t0 = time.monotonic()
                srv.terminate()
                self.assertEqual(c.readline(timeout=5), harness.SHUTDOWN_REPLY)
                self.assertTrue(c.at_eof(timeout=5))
                code = srv.wait(timeout=10)
                elapsed = time.monotonic() - t0
            self.assertEqual(code, 0, srv.log())
            self.assertLess(elapsed, 3.0, "an idle connection should not hold the shutdown")
            self.assertTrue(harness.connection_refused(port))

    def test_sigterm_waits_for_command_in_progress(self):
        port = harness.free_port()
        with harness.PorticoServer(
                plugins={"lineproto": harness.lineproto_settings(port)},
                server={"shutdown_grace": "5s"}) as srv:
            with srv.client() as busy, srv.client() as idle:
                self.assertEqual(busy.command("DATA"), "+OK send lines, end with .")
                busy.send("line one")
                busy.send("line two")
                mark = len(srv.log())
                srv.terminate()
                srv.wait_log(r"stopped accepting", start=mark, timeout=5)
                # The idle one is told at once; the one in DATA is left alone.
                self.assertEqual(idle.readline(timeout=5), harness.SHUTDOWN_REPLY)
                self.assertTrue(idle.at_eof(timeout=5))
                self.assertTrue(busy.nothing_within(0.5), "the DATA connection was cut")
                self.assertTrue(srv.alive())
                # No new connections are accepted meanwhile.
                self.assertTrue(harness.connection_refused(port))
                busy.send(".")
                self.assertEqual(busy.readline(timeout=5), "+OK 2 lines")
                self.assertEqual(busy.readline(timeout=5), harness.SHUTDOWN_REPLY)
                self.assertTrue(busy.at_eof(timeout=5))
                t0 = time.monotonic()
                code = srv.wait(timeout=10)
                self.assertLess(time.monotonic() - t0, 3.0)
            self.assertEqual(code, 0, srv.log())

    def test_grace_period_over(self):
        port = harness.free_port()
        with harness.PorticoServer(
                plugins={"lineproto": harness.lineproto_settings(port)},
                server={"shutdown_grace": "1s"}) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("DATA"), "+OK send lines, end with .")
                c.send("stuck")
                t0 = time.monotonic()
                srv.terminate()
                self.assertEqual(c.readline(timeout=8), harness.SHUTDOWN_REPLY)
                elapsed = time.monotonic() - t0
                self.assertTrue(c.at_eof(timeout=5))
                self.assertGreaterEqual(elapsed, 0.8)
                self.assertLess(elapsed, 4.0)
                code = srv.wait(timeout=10)
            self.assertEqual(code, 0, srv.log())
            self.assertIn("grace period over", srv.log())


class StatusAndMetricsTest(unittest.TestCase):
    def test_status_shows_live_connections(self):
        port, port2 = harness.free_ports(2)
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                listeners=[harness.listener(port), harness.listener(port2)],
                max_connections=20)}) as srv:
            c1 = srv.client(port)
            c2 = srv.client(port)
            r = srv.cli("status")
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout
            self.assertRegex(out, r"(?m)^portico \S+, up \d+s$")
            self.assertRegex(out, r"(?m)^lineproto\s+2 connection\(s\) of 20$")
            self.assertRegex(out, rf"(?m)^\s+listener 127\.0\.0\.1:{port}\s+tls none\s+"
                                  rf"2 connection\(s\)$")
            self.assertRegex(out, rf"(?m)^\s+listener 127\.0\.0\.1:{port2}\s+tls none\s+"
                                  rf"0 connection\(s\)$")
            self.assertRegex(out, r"(?m)^\s+from 127\.0\.0\.1\s+2 connection\(s\)$")

            status = srv.status_json()
            lp = status["protocols"]["lineproto"]
            self.assertTrue(lp["enabled"])
            self.assertEqual(lp["connections"], 2, status)
            by_port = {l["port"]: l["connections"] for l in lp["listeners"]}
            self.assertEqual(by_port, {port: 2, port2: 0}, status)
            self.assertEqual(lp["addresses"], {"127.0.0.1": 2}, status)
            self.assertGreaterEqual(lp["counters"]["accepted"], 2, status)

            c1.command("QUIT")
            self.assertTrue(c1.at_eof())
            c1.close()
            self.assertEqual(srv.status_json()["protocols"]["lineproto"]["connections"], 1)
            c2.close()
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_status_without_server(self):
        with harness.PorticoServer(start=False, plugins={"lineproto": harness.lineproto_settings(
                harness.free_port())}) as srv:
            r = srv.cli("status")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("no server answers", r.stderr)

    def test_metrics(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            url = srv.metrics_url()
            self.assertRegex(url, r"^http://127\.0\.0\.1:\d+/metrics$")
            self.assertNotRegex(url, r":0/metrics$")
            c1 = srv.client()
            c2 = srv.client()
            self.assertEqual(c1.command("BOGUS"), "-ERR unknown command")
            with urllib.request.urlopen(url, timeout=5) as response:
                self.assertEqual(response.status, 200)
                text = response.read().decode()

            def value(name, labels='protocol="lineproto"'):
                m = re.search(rf"(?m)^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text)
                self.assertIsNotNone(m, f"{name}{{{labels}}} not in:\n{text}")
                return float(m.group(1))

            self.assertEqual(value("portico_connections"), 2)
            self.assertEqual(value("portico_bad_commands_total"), 1)
            self.assertEqual(value("portico_address_connections",
                                   'protocol="lineproto",address="127.0.0.1"'), 2)
            self.assertIn("# TYPE portico_connections gauge", text)
            self.assertIn("# TYPE portico_bad_commands_total counter", text)
            c1.close()
            c2.close()
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Configuration reload (SIGHUP and `portico reload`): applied, rejected, listeners changed,
a protocol disabled and enabled again, a plugin loaded only once a reload enables it."""

import os
import re
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

OLD_BANNER = "+OK #HostName# old banner"
NEW_BANNER = "+OK #HostName# new banner"


class ReloadTest(unittest.TestCase):
    def test_new_banner(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, banner=OLD_BANNER)}) as srv:
            c1 = srv.client()
            self.assertEqual(c1.greeting, f"+OK {harness.HOSTNAME} old banner")
            srv.write_config(plugins={"lineproto": harness.lineproto_settings(
                port, banner=NEW_BANNER)})
            text = srv.reload()
            self.assertIn("reload applied", text)
            # The open connection keeps working.
            self.assertEqual(c1.command("ECHO still"), "+OK still")
            with srv.client() as c2:
                self.assertEqual(c2.greeting, f"+OK {harness.HOSTNAME} new banner")
                self.assertEqual(c2.command("ECHO new"), "+OK new")
            self.assertEqual(c1.command("QUIT"), "+OK bye")
            c1.close()
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_broken_file_rejected(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, banner=OLD_BANNER)}) as srv:
            good_text = srv.config_text
            # An unknown key.
            srv.write_config(plugins={"lineproto": harness.lineproto_settings(
                port, banner=NEW_BANNER, no_such_key=1)})
            text = srv.reload()
            self.assertIn("reload rejected", text)
            self.assertIn("no_such_key", text)
            self.assertNotIn("reload applied", text)
            self.assertTrue(srv.alive())
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} old banner")

            # A YAML syntax error.
            srv.write_config(text=good_text.replace(OLD_BANNER, NEW_BANNER) +
                             "plugins: [unclosed\n  : : {\n")
            text = srv.reload()
            self.assertIn("reload rejected", text)
            self.assertTrue(srv.alive())
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} old banner")

            # A good file again is applied.
            srv.write_config(text=good_text.replace(OLD_BANNER, NEW_BANNER))
            self.assertIn("reload applied", srv.reload())
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} new banner")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_listeners_added_and_removed(self):
        port1, port2 = harness.free_ports(2)
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port1)}) as srv:
            old = srv.client(port1)
            srv.write_config(plugins={"lineproto": harness.lineproto_settings(
                listeners=[harness.listener(port1), harness.listener(port2)])})
            text = srv.reload()
            self.assertIn("reload applied", text)
            self.assertIn(f"lineproto listening on 127.0.0.1:{port2}", text)
            for port in (port1, port2):
                with srv.client(port) as c:
                    self.assertEqual(c.command("ECHO both"), "+OK both")

            srv.write_config(plugins={"lineproto": harness.lineproto_settings(port2)})
            text = srv.reload()
            self.assertIn("reload applied", text)
            self.assertRegex(text, rf"stopped listening on 127\.0\.0\.1:{port1}\b")
            self.assertTrue(harness.wait_until(lambda: harness.connection_refused(port1), 3),
                            f"port {port1} still accepts after its listener was removed")
            with srv.client(port2) as c:
                self.assertEqual(c.command("ECHO new"), "+OK new")
            # A connection accepted by the removed listener finishes on its own.
            self.assertEqual(old.command("ECHO old"), "+OK old")
            old.close()
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_disable_and_enable(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("NOOP"), "+OK")
            srv.write_config(plugins={"lineproto": harness.lineproto_settings(port,
                                                                              enabled=False)})
            text = srv.reload()
            self.assertIn("reload applied", text)
            self.assertTrue(harness.wait_until(lambda: harness.connection_refused(port), 3),
                            f"port {port} still accepts after lineproto was disabled")
            status = srv.status_json()
            self.assertFalse(status["protocols"]["lineproto"]["enabled"], status)

            srv.write_config(plugins={"lineproto": harness.lineproto_settings(port)})
            text = srv.reload()
            self.assertIn("reload applied", text)
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c.command("ECHO back"), "+OK back")
            self.assertTrue(srv.status_json()["protocols"]["lineproto"]["enabled"])
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_reload_command(self):
        port = harness.free_port()
        with harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(
                port, banner=OLD_BANNER)}) as srv:
            srv.write_config(plugins={"lineproto": harness.lineproto_settings(
                port, banner=NEW_BANNER)})
            r = srv.cli("reload")
            self.assertEqual(r.returncode, 0, f"stdout {r.stdout!r} stderr {r.stderr!r}")
            self.assertIn("reloaded", r.stdout)
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} new banner")

            # A bad file: exit 2, the errors on stderr with file:line:column.
            good_text = srv.config_text
            bad_text = good_text.replace("    max_connections: 20\n",
                                         "    max_connections: 20\n    max_conections: 5\n")
            self.assertNotEqual(bad_text, good_text)
            srv.write_config(text=bad_text)
            line = bad_text.splitlines().index("    max_conections: 5") + 1
            r = srv.cli("reload")
            self.assertEqual(r.returncode, 2, f"stdout {r.stdout!r} stderr {r.stderr!r}")
            self.assertIn(f"{srv.config_path}:{line}:5: plugins.lineproto.max_conections",
                          r.stderr)
            self.assertIn("did you mean 'max_connections'", r.stderr)
            self.assertTrue(srv.alive())
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} new banner")
            self.assertEqual(srv.stop(), 0, srv.log())



def mapped_plugins(pid, folder):
    """The files of `folder` that the process `pid` has mapped."""
    with open(f"/proc/{pid}/maps") as f:
        paths = {line.split()[-1] for line in f if len(line.split()) >= 6}
    return {os.path.basename(p) for p in paths if os.path.dirname(p) == folder}


class OnlyEnabledPluginsTest(unittest.TestCase):
    """A server opens only the plugins its file enables (and what they depend on); a plugin
    that a reload enables is loaded then. The others never enter the process."""

    def test_a_plugin_is_loaded_when_a_reload_enables_it(self):
        port = harness.free_port()
        with tempfile.TemporaryDirectory(prefix="portico-plugins-") as folder:
            folder = os.path.realpath(folder)
            shutil.copy(os.path.join(harness.GOOD_PLUGINS, "lineproto.so"), folder)
            # A plugin nobody enables, and a file the core would refuse if it opened it.
            shutil.copy(os.path.join(harness.MIXED_PLUGINS, "dep_on_good.so"),
                        os.path.join(folder, "needs-lineproto.so"))
            shutil.copy(os.path.join(harness.MIXED_PLUGINS, "stale_abi.so"), folder)
            with harness.PorticoServer(plugin_dir=folder, plugins={
                    "lineproto": harness.lineproto_settings(port, enabled=False)}) as srv:
                self.assertEqual(mapped_plugins(srv.proc.pid, folder), set())
                self.assertTrue(harness.connection_refused(port))

                srv.write_config(plugins={"lineproto": harness.lineproto_settings(port)})
                self.assertIn("reload applied", srv.reload())
                with srv.client() as c:
                    self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                    self.assertEqual(c.command("ECHO loaded"), "+OK loaded")
                self.assertEqual(mapped_plugins(srv.proc.pid, folder), {"lineproto.so"})
                self.assertTrue(srv.status_json()["protocols"]["lineproto"]["enabled"])
                # stale_abi.so was never opened, so never refused.
                self.assertNotIn("refused", srv.log())
                self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""The SDK's example plugin, built out of tree against the installed SDK, loads and serves."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class OutOfTreeTest(unittest.TestCase):
    def test_build_and_serve_echo(self):
        script = os.path.join(harness.SOURCE_DIR, "tests", "plugins", "build_example.sh")
        with tempfile.TemporaryDirectory(prefix="portico-it-echo-") as tmp:
            out_dir = os.path.join(tmp, "plugins")
            r = subprocess.run(["sh", script, harness.BUILD_DIR, out_dir], capture_output=True,
                               text=True, timeout=280, env=harness.child_env())
            self.assertEqual(r.returncode, 0, f"build_example.sh failed:\n{r.stdout}\n{r.stderr}")
            self.assertTrue(os.path.isfile(os.path.join(out_dir, "echo.so")), os.listdir(tmp))

            r = harness.run_portico("plugins", "list", "--plugin-dir", out_dir)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("echo", r.stdout)
            self.assertNotIn("refused", r.stdout)

            port = harness.free_port()
            settings = {"enabled": True, "listeners": [harness.listener(port)]}
            with harness.PorticoServer(plugin_dir=out_dir, plugins={"echo": settings}) as srv:
                with srv.client(port) as c:
                    self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} echo service ready")
                    self.assertEqual(c.command("hello, world"), "hello, world")
                    self.assertEqual(c.command("second line"), "second line")
                    self.assertEqual(c.command("QUIT"), "+OK bye")
                    self.assertTrue(c.at_eof())
                self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

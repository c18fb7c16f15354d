"""`portico check-config` and `portico serve` on valid and invalid files: every error reported
at once, with file:line:column, exit code 2."""

import os
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def config_text(port, lineproto_lines):
    """A config whose lineproto section ends with `lineproto_lines` (each a full line)."""
    head = (
        "server:\n"
        f"  hostname: {harness.HOSTNAME}\n"
        "  data_dir: data\n"
        f"  plugin_dir: {harness.GOOD_PLUGINS}\n"
        "  control_socket: ctl.sock\n"
        "  metrics: {enabled: false}\n"
        "plugins:\n"
        "  lineproto:\n"
        "    enabled: true\n"
        "    listeners:\n"
        f"      - {{address: 127.0.0.1, port: {port}, tls: none}}\n"
    )
    return head + "".join(line + "\n" for line in lineproto_lines)


def line_of(text, needle):
    """1-based line and column of the first occurrence of `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        column = line.find(needle)
        if column >= 0:
            return number, column + 1
    raise AssertionError(f"{needle!r} not in the text")


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-it-config-")
        self.addCleanup(self.tmp.cleanup)
        self.port = harness.free_port()

    def write(self, text, name="portico.yaml"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, text):
        path = self.write(text)
        return path, harness.run_portico("check-config", path)

    def test_valid_file(self):
        path, r = self.check(config_text(self.port, ["    banner: \"+OK #HostName# hi\"",
                                                     "    command_timeout: 1s",
                                                     "    max_echo: 2KB"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{path}: valid; enabled: lineproto", r.stdout)
        # Checking does not start anything.
        self.assertTrue(harness.connection_refused(self.port))

    def test_unknown_key_with_near_miss(self):
        text = config_text(self.port, ["    max_conections: 5"])
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        line, column = line_of(text, "max_conections")
        self.assertIn(f"{path}:{line}:{column}: plugins.lineproto.max_conections:", r.stderr)
        self.assertIn("did you mean 'max_connections'", r.stderr)
        self.assertIn("1 error(s)", r.stderr)

    def test_unknown_key_in_server_section(self):
        text = config_text(self.port, []).replace("  data_dir: data\n",
                                                  "  data_dir: data\n  hostnme: x\n")
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        line, column = line_of(text, "hostnme")
        self.assertIn(f"{path}:{line}:{column}: server.hostnme:", r.stderr)
        self.assertIn("did you mean 'hostname'", r.stderr)

    def test_wrong_type(self):
        text = config_text(self.port, ["    max_connections: lots"])
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        line, _ = line_of(text, "max_connections: lots")
        self.assertIn(f"{path}:{line}:", r.stderr)
        self.assertIn("plugins.lineproto.max_connections", r.stderr)
        self.assertIn("lots", r.stderr)

    def test_out_of_range(self):
        text = config_text(self.port, ["    command_timeout: 500ms"])
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        line, _ = line_of(text, "command_timeout: 500ms")
        self.assertIn(f"{path}:{line}:", r.stderr)
        self.assertIn("plugins.lineproto.command_timeout", r.stderr)
        self.assertIn("below the minimum 1s", r.stderr)

    def test_several_errors_at_once(self):
        text = config_text(self.port, ["    max_conections: 5",
                                       "    session_timeout: forever",
                                       "    max_bad_commands: -1",
                                       "    max_echo: 2MB"])
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for needle, key in (("max_conections", "plugins.lineproto.max_conections"),
                            ("session_timeout: forever", "plugins.lineproto.session_timeout"),
                            ("max_bad_commands: -1", "plugins.lineproto.max_bad_commands"),
                            ("max_echo: 2MB", "plugins.lineproto.max_echo")):
            line, _ = line_of(text, needle)
            matching = [l for l in r.stderr.splitlines()
                        if l.startswith(f"{path}:{line}:") and key in l]
            self.assertEqual(len(matching), 1, f"{key} at line {line} in:\n{r.stderr}")
        self.assertIn("4 error(s)", r.stderr)

    def test_yaml_syntax_error(self):
        text = config_text(self.port, ["    banner: [unclosed"])
        path, r = self.check(text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(path, r.stderr)

    def test_serve_refuses_invalid_file(self):
        text = config_text(self.port, ["    max_conections: 5"])
        path = self.write(text)
        t0 = time.monotonic()
        r = harness.run_portico("serve", "--config", path, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertIn("did you mean 'max_connections'", r.stderr)
        self.assertNotIn("listening on", r.stderr)
        self.assertNotRegex(r.stderr, r"portico \S+ ready")
        self.assertTrue(harness.connection_refused(self.port))


if __name__ == "__main__":
    unittest.main(verbosity=2)

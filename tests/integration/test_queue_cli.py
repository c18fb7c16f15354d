"""`portico queue list|show|delete` on entries made by the hidden `portico queue inject`: the
listing, the envelope and headers of one entry, deletion, and the exit codes (0 success, 1 an
unknown id, 2 an invalid configuration or a malformed id)."""

import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MESSAGE = (
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: queue test \u00e9t\u00e9\r\n"
    "\r\n"
    "body line\r\n"
)


class QueueCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-it-queue-")
        self.addCleanup(self.tmp.cleanup)
        self.config = os.path.join(self.tmp.name, "portico.yaml")
        with open(self.config, "w") as f:
            f.write(harness.to_yaml({
                "server": {
                    "hostname": harness.HOSTNAME,
                    "data_dir": "data",
                    "plugin_dir": harness.GOOD_PLUGINS,
                    "control_socket": "ctl.sock",
                    "metrics": {"enabled": False},
                },
                "plugins": {},
            }))
        self.message = os.path.join(self.tmp.name, "message.eml")
        with open(self.message, "w", encoding="utf-8", newline="") as f:
            f.write(MESSAGE)

    def queue(self, *args, input_text=None):
        return harness.run_portico("queue", *args, "--config", self.config,
                                   input_text=input_text)

    def inject(self, sender, *recipients):
        args = ["inject", "--from", sender]
        for r in recipients:
            args += ["--to", r]
        r = self.queue(*args, self.message)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_list_show_delete(self):
        first = self.inject("alice@example.org", "bob@example.net", "carol@example.com")
        second = self.inject("", "postmaster@example.net")
        self.assertRegex(first, r"^[0-9A-Za-z]+$")

        r = self.queue("list")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("ID"), r.stdout)
        rows = {line.split()[0]: line for line in lines[1:-1]}
        self.assertEqual(set(rows), {first, second})
        self.assertIn("alice@example.org", rows[first])
        self.assertEqual(rows[first].split()[3], "2")  # recipients
        self.assertIn("<>", rows[second])  # the null sender
        self.assertIn("now", rows[first])
        self.assertEqual(lines[-1], "2 entries")

        r = self.queue("show", first)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("portico-envelope: 1\n", r.stdout)
        self.assertIn("sender: alice@example.org\n", r.stdout)
        self.assertIn("recipient: carol@example.com\n", r.stdout)
        self.assertIn("Subject: queue test \u00e9t\u00e9\n", r.stdout)
        self.assertNotIn("body line", r.stdout)

        r = self.queue("delete", first)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.queue("list")
        self.assertNotIn(first, r.stdout)
        self.assertIn(second, r.stdout)
        self.assertTrue(r.stdout.rstrip().endswith("1 entry"))

        r = self.queue("delete", first, second)  # one unknown: the other is still deleted
        self.assertEqual(r.returncode, 1)
        self.assertIn("not found", r.stderr)
        r = self.queue("list")
        self.assertTrue(r.stdout.rstrip().endswith("0 entries"), r.stdout)

    def test_inject_from_stdin(self):
        r = self.queue("inject", "--from", "a@example.org", "--to", "b@example.net", "-",
                       input_text=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.queue("show", r.stdout.strip())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("To: bob@example.net", r.stdout)

    def test_errors(self):
        r = self.queue("show", "0123abcd")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no queue entry", r.stderr)
        r = self.queue("delete", "../../etc")
        self.assertEqual(r.returncode, 2)
        r = harness.run_portico("queue", "list", "--config",
                                os.path.join(self.tmp.name, "missing.yaml"))
        self.assertEqual(r.returncode, 2)

    def test_inject_is_hidden(self):
        r = harness.run_portico("queue", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("list", r.stdout)
        self.assertNotIn("inject", r.stdout)


if __name__ == "__main__":
    unittest.main()

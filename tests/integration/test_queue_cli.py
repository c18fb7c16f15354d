"""`portico queue list|show|delete` on entries made by the hidden `portico queue inject`: the
listing (mailq's shape: each entry, then its recipients with their states and last replies),
the envelope and headers of one entry, deletion, and the exit codes (0 success, 1 an unknown
id, 2 an invalid configuration or a malformed id)."""

import os
import re
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

    def listing(self):
        """`queue list` as {id: (entry line fields, [recipient lines, stripped])}, and its last
        line."""
        r = self.queue("list")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "SIZE", "ARRIVED", "STATE", "NEXT", "ATTEMPT",
                                            "SENDER"], r.stdout)
        entries = {}
        current = None
        for line in lines[1:-1]:
            if not line:
                current = None
            elif not line.startswith(" "):
                current = line.split()
                entries[current[0]] = (current, [])
            else:
                self.assertIsNotNone(current, r.stdout)
                entries[current[0]][1].append(line.strip())
        return entries, lines[-1]

    def test_list_show_delete(self):
        first = self.inject("alice@example.org", "bob@example.net", "carol@example.com")
        second = self.inject("", "postmaster@example.net")
        self.assertRegex(first, r"^[0-9A-Za-z]+$")

        entries, last = self.listing()
        self.assertEqual(set(entries), {first, second})
        fields, recipients = entries[first]
        self.assertEqual(fields[1], str(len(MESSAGE.encode())))  # size in octets
        self.assertRegex(fields[2], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # arrival
        self.assertEqual(fields[3:], ["queued", "now", "alice@example.org"])
        self.assertEqual(recipients, ["pending   bob@example.net", "pending   carol@example.com"])
        fields, recipients = entries[second]
        self.assertEqual(fields[-1], "<>")  # the null sender
        self.assertEqual(recipients, ["pending   postmaster@example.net"])
        self.assertEqual(last, "2 entries")

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

    def test_list_shows_each_recipients_state_and_last_reply(self):
        entry = self.inject("alice@example.org", "bob@example.net", "carol@example.com",
                            "dave@example.com")
        # What a delivery attempt records, written as an operator could (envelope.h's format).
        path = os.path.join(self.tmp.name, "data", "spool", "envelopes", entry)
        with open(path) as f:
            text = f.read()
        blocks = text.split("recipient: ")
        self.assertEqual(len(blocks), 4, text)
        outcomes = [("delivered", "250 2.0.0 Ok"), ("failed", "550 5.1.1 <carol@example.com>:"
                                                               " unknown user"),
                    ("pending", "451 4.3.0 try again later")]
        for i, (state, reply) in enumerate(outcomes, start=1):
            blocks[i] = re.sub(r"state: \w+\nreply:[^\n]*\n",
                               f"state: {state}\nreply: {reply}\n", blocks[i])
        text = "recipient: ".join(blocks)
        text = re.sub(r"last-error:[^\n]*\n", "last-error: 451 4.3.0 try again later\n", text)
        with open(path, "w") as f:
            f.write(text)

        entries, _ = self.listing()
        _, recipients = entries[entry]
        self.assertEqual(recipients, [
            "last error: 451 4.3.0 try again later",
            "delivered bob@example.net",
            "failed    carol@example.com (550 5.1.1 <carol@example.com>: unknown user)",
            "pending   dave@example.com (451 4.3.0 try again later)",
        ])

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

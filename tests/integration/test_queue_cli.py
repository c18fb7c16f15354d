"""`portico queue list|show|retry|hold|release|delete|bounce` on entries made by the hidden
`portico queue inject`: the listing (mailq's shape: each entry, then its recipients with their
states and last replies; --json with every field), the envelope and headers of one entry, the
operator's actions and their output, an entry being delivered (its claim's flock held by
another process) refused as busy and left unchanged, a bounce's delivery status notification in
a local sender's mailbox or queued from <> for a remote one, the exit codes (0 success, 1 an
unknown, busy, held or not-held entry, 2 an invalid configuration, a malformed id or ids with
--all), and the queue's figures in `portico status` (text and --json) and on /metrics."""

import email
import email.policy
import fcntl
import json
import os
import re
import struct
import sys
import tempfile
import time
import unittest
import urllib.request

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

ENVELOPE_ATTR = "user.portico.envelope"


def read_envelope(spool, entry):
    """An entry's envelope text (envelope.h's format): its file in envelopes/ once it changed,
    else the attribute its message file carries as enqueued ("<id>\\n", then the text)."""
    try:
        with open(os.path.join(spool, "envelopes", entry)) as f:
            return f.read()
    except FileNotFoundError:
        value = os.getxattr(os.path.join(spool, "messages", entry), ENVELOPE_ATTR).decode()
        assert value.startswith(entry + "\n"), value[:80]
        return value[len(entry) + 1:]


def write_envelope(spool, entry, text):
    """Writes an entry's envelope as a change does: the file, which wins; the attribute goes."""
    with open(os.path.join(spool, "envelopes", entry), "w") as f:
        f.write(text)
    try:
        os.removexattr(os.path.join(spool, "messages", entry), ENVELOPE_ATTR)
    except OSError:
        pass


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
        text = read_envelope(self.spool(), entry)
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
        write_envelope(self.spool(), entry, text)

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

    # -- the operator's actions ---------------------------------------------------------------

    def spool(self):
        return os.path.join(self.tmp.name, "data", "spool")

    def set_next_attempt(self, entry, when):
        """Edits an entry's next attempt as a deferral would have set it (envelope.h's format)."""
        text = read_envelope(self.spool(), entry)
        write_envelope(self.spool(), entry,
                       re.sub(r"next-attempt: \d+\n", f"next-attempt: {when}\n", text))

    def entry_json(self, entry):
        r = self.queue("list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = json.loads(r.stdout)
        return {e["id"]: e for e in data["entries"]}.get(entry)

    def test_retry_hold_release(self):
        entry = self.inject("alice@example.org", "bob@example.net")
        later = int(time.time()) + 3600
        self.set_next_attempt(entry, later)
        entries, _ = self.listing()
        self.assertEqual(entries[entry][0][3], "queued")
        self.assertNotEqual(entries[entry][0][4], "now")  # a UTC time

        r = self.queue("retry", entry)
        self.assertEqual((r.returncode, r.stdout), (0, f"retried {entry} (due now)\n"), r.stderr)
        entries, _ = self.listing()
        self.assertEqual(entries[entry][0][3:5], ["queued", "now"])

        r = self.queue("hold", entry)
        self.assertEqual((r.returncode, r.stdout), (0, f"held {entry}\n"), r.stderr)
        r = self.queue("hold", entry)
        self.assertEqual((r.returncode, r.stdout), (0, f"held {entry} (already held)\n"))
        entries, _ = self.listing()
        self.assertEqual(entries[entry][0][3:5], ["held", "-"])
        self.assertTrue(self.entry_json(entry)["held"])

        r = self.queue("retry", entry)  # held: left alone
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"error: {entry}: held: release it", r.stderr)
        self.assertTrue(self.entry_json(entry)["held"])

        self.set_next_attempt(entry, later)
        r = self.queue("release", entry)
        self.assertEqual((r.returncode, r.stdout), (0, f"released {entry} (due now)\n"), r.stderr)
        e = self.entry_json(entry)
        self.assertFalse(e["held"])
        self.assertTrue(e["due"])
        self.assertLessEqual(e["next_attempt"], int(time.time()))
        r = self.queue("release", entry)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"error: {entry}: not held", r.stderr)

        r = self.queue("hold", "0123abcd")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not found", r.stderr)
        r = self.queue("retry", "../x")
        self.assertEqual(r.returncode, 2)

    def test_all_flags(self):
        first = self.inject("alice@example.org", "bob@example.net")
        second = self.inject("alice@example.org", "carol@example.net")
        third = self.inject("alice@example.org", "dave@example.net")
        for entry in (first, second):
            self.set_next_attempt(entry, int(time.time()) + 3600)
        self.assertEqual(self.queue("hold", second).returncode, 0)

        r = self.queue("retry", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [f"retried {first} (due now)",
                                                 f"retried {third} (due now)",
                                                 "2 retried, 1 held (left alone), 0 not retried"])
        self.assertTrue(self.entry_json(first)["due"])
        self.assertFalse(self.entry_json(second)["due"])

        for args in (["retry"], ["retry", first, "--all"], ["delete"], ["delete", "--all", first]):
            r = self.queue(*args)
            self.assertEqual(r.returncode, 2, args)
        r = self.queue("delete", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[-1], "3 deleted, 0 not deleted")
        _, last = self.listing()
        self.assertEqual(last, "0 entries")

    def test_busy_entries_are_left_alone(self):
        entry = self.inject("alice@example.org", "bob@example.net")
        # A worker's claim, as spool_files.h describes it: an open file description's write
        # lock on byte 0 of messages/<id>, and one at 2^32 + the worker's process id. Taken by a
        # child process, as smtp-out in the server would.
        message = os.path.join(self.tmp.name, "data", "spool", "messages", entry)
        ready_r, ready_w = os.pipe()
        stop_r, stop_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                fd = os.open(message, os.O_RDWR)
                for start in (0, (1 << 32) + os.getpid()):
                    lock = struct.pack("hh4xqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, 1, 0)
                    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, lock)
                os.write(ready_w, b"1")
                os.read(stop_r, 1)
            finally:
                os._exit(0)
        self.addCleanup(lambda: os.waitpid(pid, 0))
        self.addCleanup(os.write, stop_w, b"x")
        self.assertEqual(os.read(ready_r, 1), b"1")

        before = read_envelope(self.spool(), entry)
        for action in ("retry", "hold", "release", "delete", "bounce"):
            r = self.queue(action, entry)
            self.assertEqual(r.returncode, 1, f"{action}: {r.stdout}{r.stderr}")
            self.assertIn(f"error: {entry}: busy: ", r.stderr, action)
            self.assertIn(f"being delivered (by process {pid}); left alone", r.stderr, action)
            self.assertEqual(r.stdout, "", action)
        self.assertEqual(read_envelope(self.spool(), entry), before)
        entries, _ = self.listing()
        self.assertEqual(entries[entry][0][3], "active")
        e = self.entry_json(entry)
        self.assertTrue(e["claimed"])
        self.assertEqual(e["claimed_by"], pid)

    def add_local_account(self, address):
        domain = address.split("@")[1]
        r = harness.run_portico("domain", "add", domain, "--config", self.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = harness.run_portico("user", "add", address, "--password-stdin", "--config",
                                self.config, input_text="a password\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def delivery_status(self, octets):
        """The report parsed by Python's email package: (the message, its delivery-status
        part's text)."""
        msg = email.message_from_bytes(octets, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        parts = list(msg.iter_parts())
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        status = "".join(str(block) for block in parts[1].get_payload())
        return msg, status

    def test_bounce_to_a_local_sender(self):
        self.add_local_account("alice@example.test")
        entry = self.inject("alice@example.test", "bob@example.net", "carol@example.net")
        r = self.queue("bounce", entry)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"bounced {entry}: 2 recipient(s) failed; report delivered to "
                                   "alice@example.test here\n")
        _, last = self.listing()
        self.assertEqual(last, "0 entries")  # removed, and nothing queued
        out = os.path.join(self.tmp.name, "out")
        r = harness.run_portico("export", "--maildir", out, "--user", "alice@example.test",
                                "--config", self.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = [os.path.join(out, sub, name) for sub in ("new", "cur")
                 for name in os.listdir(os.path.join(out, sub))]
        self.assertEqual(len(files), 1, files)
        with open(files[0], "rb") as f:
            msg, status = self.delivery_status(f.read())
        self.assertEqual(msg["To"], "alice@example.test")
        for rcpt in ("bob@example.net", "carol@example.net"):
            self.assertIn(f"Final-Recipient: rfc822; {rcpt}", status)
        self.assertIn("Status: 5.0.0", status)
        self.assertIn("Diagnostic-Code: X-Portico; bounced by the operator", status)

    def test_bounce_to_a_remote_sender(self):
        entry = self.inject("someone@elsewhere.example", "bob@example.net")
        r = self.queue("bounce", entry)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.fullmatch(rf"bounced {entry}: 1 recipient\(s\) failed; report queued as "
                         r"([0-9A-Za-z]+) for someone@elsewhere.example\n", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        report = self.entry_json(m.group(1))
        self.assertIsNone(self.entry_json(entry))
        self.assertEqual(report["sender"], "")  # from <>
        self.assertEqual([x["address"] for x in report["recipients"]],
                         ["someone@elsewhere.example"])
        with open(report["message_path"], "rb") as f:
            _, status = self.delivery_status(f.read())
        self.assertIn("Final-Recipient: rfc822; bob@example.net", status)
        # A report is never reported on: bouncing it removes it and sends nothing.
        r = self.queue("bounce", m.group(1))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no report", r.stdout)
        _, last = self.listing()
        self.assertEqual(last, "0 entries")

    def test_list_json_has_every_field(self):
        entry = self.inject("alice@example.org", "bob@example.net", "b\u00f8b@example.net")
        r = self.queue("list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = json.loads(r.stdout)
        self.assertEqual(data["count"], 1)
        e = data["entries"][0]
        self.assertEqual(set(e), {
            "id", "state", "size", "message_path", "claimed", "claimed_by", "damage", "sender",
            "ret", "envid", "smtputf8", "eight_bit_mime", "received", "auth_user",
            "client_address", "helo", "attempts", "next_attempt", "due", "last_error", "held",
            "notes", "recipients"})
        self.assertEqual(e["id"], entry)
        self.assertEqual(e["state"], "queued")
        self.assertEqual(e["size"], len(MESSAGE.encode()))
        self.assertEqual((e["sender"], e["helo"], e["client_address"]),
                         ("alice@example.org", "portico queue inject", "local"))
        self.assertEqual((e["attempts"], e["held"], e["due"], e["claimed"]), (0, False, True, False))
        self.assertEqual(e["recipients"][1], {"address": "b\u00f8b@example.net", "notify": "",
                                              "orcpt": "", "state": "pending", "reply": ""})
        self.assertTrue(os.path.isfile(e["message_path"]))

    def test_status_and_metrics_show_the_queue(self):
        port = harness.free_port()
        with harness.PorticoServer(start=False, plugins={
                "lineproto": harness.lineproto_settings(port)}) as srv:
            def inject(*recipients):
                args = ["queue", "inject", "--from", "a@example.org"]
                for rcpt in recipients:
                    args += ["--to", rcpt]
                r = srv.cli(*args, self.message)
                self.assertEqual(r.returncode, 0, r.stderr)
                return r.stdout.strip()
            inject("b@example.net")                                  # active
            deferred = inject("c@example.net", "d@example.net")      # deferred
            held = inject("e@example.net", "f@example.net", "g@example.net")  # held
            spool = os.path.join(srv.dir, "data", "spool")
            text = read_envelope(spool, deferred)
            write_envelope(spool, deferred, re.sub(
                r"next-attempt: \d+", f"next-attempt: {int(time.time()) + 3600}", text))
            self.assertEqual(srv.cli("queue", "hold", held).returncode, 0)
            srv.start()

            status = srv.status_json()
            self.assertEqual({k: v for k, v in status["queue"].items() if k != "scanned_at"},
                             {"active": 1, "deferred": 1, "held": 1, "damaged": 0,
                              "recipients_pending": 6}, status)
            self.assertGreater(status["queue"]["scanned_at"], 0)
            r = srv.cli("status")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("queue      1 active, 1 deferred, 1 held, 0 damaged; 6 recipient(s) "
                          "pending\n", r.stdout)

            with urllib.request.urlopen(srv.metrics_url(), timeout=5) as response:
                text = response.read().decode()
            self.assertIn("# TYPE portico_queue_entries gauge", text)
            self.assertIn("# TYPE portico_queue_recipients_pending gauge", text)
            def value(name, labels=""):
                m = re.search(rf"(?m)^{re.escape(name + labels)} (\S+)$", text)
                self.assertIsNotNone(m, f"{name}{labels} not in:\n{text}")
                return float(m.group(1))
            for state, n in (("active", 1), ("deferred", 1), ("held", 1), ("damaged", 0)):
                self.assertEqual(value("portico_queue_entries", f'{{state="{state}"}}'), n, state)
            self.assertEqual(value("portico_queue_recipients_pending"), 6)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_inject_is_hidden(self):
        r = harness.run_portico("queue", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("list", r.stdout)
        self.assertNotIn("inject", r.stdout)


if __name__ == "__main__":
    unittest.main()

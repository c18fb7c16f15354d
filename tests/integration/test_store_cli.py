"""`portico import`, `portico export` and `portico store check` on a real Maildir.

A Maildir++ tree written here (Python's mailbox module, as a Dovecot or Postfix user would have
it) goes into a fresh data directory, comes back out with the same bytes and flags, and the
store checks clean; a stray body file is found and then repaired away.
"""

import mailbox
import os
import tempfile
import unittest
from email.message import EmailMessage

import harness


def make_message(subject, body, attachment=None):
    msg = EmailMessage()
    msg["From"] = "Jürgen <juergen@example.de>"
    msg["To"] = "zed@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<%s@example.de>" % abs(hash(subject))
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream",
                           filename="data.bin")
    return msg


class StoreCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.config = os.path.join(self.dir, "portico.yaml")
        with open(self.config, "w") as f:
            f.write(harness.to_yaml({"server": {"hostname": harness.HOSTNAME,
                                                "data_dir": os.path.join(self.dir, "data")}}))

    def tearDown(self):
        self.tmp.cleanup()

    def portico(self, *args):
        return harness.run_portico(*args, "--config", self.config)

    def test_import_export_check(self):
        src = os.path.join(self.dir, "in")
        md = mailbox.Maildir(src, create=True)
        flags = {}

        def content(folder, key):
            with folder.get_file(key) as f:
                return f.read()

        for i, (subject, flag) in enumerate([("Grüße", "S"), ("Hello", "FRS"), ("New", ""),
                                             ("Draft", "DS")]):
            m = mailbox.MaildirMessage(make_message(subject, "text %d\n" % i,
                                                    os.urandom(3000) if i == 0 else None))
            if flag:
                m.set_subdir("cur")
                m.set_flags(flag)
            key = md.add(m)
            flags[content(md, key)] = flag
        sent = md.add_folder("Sent")
        m = mailbox.MaildirMessage(make_message("Sent one", "sent\n"))
        m.set_subdir("cur")
        m.set_flags("S")
        key = sent.add(m)
        flags[content(sent, key)] = "S"

        r = self.portico("import", "--maildir", src, "--user", "zed@example.com")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("imported 5 message(s)", r.stdout)

        out = os.path.join(self.dir, "out")
        r = self.portico("export", "--maildir", out, "--user", "zed@example.com")
        self.assertEqual(r.returncode, 0, r.stderr)
        exported = {}
        for root, _, files in os.walk(out):
            if os.path.basename(root) not in ("cur", "new"):
                continue
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    exported[f.read()] = name.split(":2,")[1] if ":2," in name else ""
        self.assertEqual(exported, flags)

        r = self.portico("store", "check", "--all")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("zed@example.com: clean", r.stdout)

        bodies = os.path.join(self.dir, "data", "store", "example.com", "zed", "bodies")
        with open(os.path.join(bodies, ".tmp-interrupted"), "w") as f:
            f.write("From: half")
        r = self.portico("store", "check", "--user", "zed@example.com")
        self.assertEqual(r.returncode, 1)
        self.assertIn("temp file", r.stdout)
        r = self.portico("store", "check", "--repair", "--user", "zed@example.com")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.portico("store", "check", "--user", "zed@example.com")
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_usage_errors(self):
        r = self.portico("import", "--maildir", os.path.join(self.dir, "none"), "--user", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("domain", r.stderr)
        r = self.portico("import", "--maildir", os.path.join(self.dir, "none"),
                         "--user", "a@b.test")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a folder", r.stderr)
        r = self.portico("store", "check")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()

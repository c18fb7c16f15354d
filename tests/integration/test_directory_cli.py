"""`portico domain|user|alias|list|retrieval` against a temporary configuration: changes land in
<data_dir>/directory.sqlite, lists never show passwords or secrets, the address-book attributes
are set by `user add|set` and shown by `user list`, and mistakes exit non-zero (1 refused,
2 usage)."""

import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class DirectoryCliTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="portico-dir-")
        self.dir = self._tmp.name
        self.config = os.path.join(self.dir, "portico.yaml")
        with open(self.config, "w") as f:
            f.write("server: {data_dir: data}\n")
        self.database = os.path.join(self.dir, "data", "directory.sqlite")

    def tearDown(self):
        self._tmp.cleanup()

    def portico(self, *args, input_text=None):
        return harness.run_portico(*args, "--config", self.config, input_text=input_text)

    def ok(self, *args, input_text=None):
        r = self.portico(*args, input_text=input_text)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stdout}{r.stderr}")
        return r.stdout

    def fails(self, *args, input_text=None, code=None):
        r = self.portico(*args, input_text=input_text)
        self.assertNotEqual(r.returncode, 0, f"{args} succeeded: {r.stdout}")
        if code is not None:
            self.assertEqual(r.returncode, code, f"{args}: {r.stderr}")
        return r.stderr

    def password_hash(self, address):
        with sqlite3.connect(self.database) as db:
            row = db.execute("SELECT password_hash FROM accounts WHERE address = ?",
                             (address,)).fetchone()
        return row[0] if row else None

    def test_user_lifecycle(self):
        self.ok("domain", "add", "Example.com")
        self.assertIn("example.com", self.ok("domain", "list"))
        self.ok("user", "add", "Alice@example.com", "--name", "Alice Liddell", "--quota", "1GB",
                "--password-stdin", input_text="wonderland\n")
        listing = self.ok("user", "list")
        self.assertIn("alice@example.com", listing)
        self.assertIn("enabled", listing)
        self.assertIn("quota=1GB", listing)
        self.assertNotIn("wonderland", listing)
        self.assertNotIn("$y$", listing)
        first = self.password_hash("alice@example.com")
        self.assertTrue(first.startswith("$y$"), first)
        self.assertNotIn("wonderland", first)

        self.ok("user", "passwd", "alice@example.com", "--password-stdin",
                input_text="looking glass\n")
        self.assertNotEqual(self.password_hash("alice@example.com"), first)

        self.ok("user", "disable", "alice@example.com")
        self.assertIn("disabled", self.ok("user", "list"))
        self.ok("user", "enable", "alice@example.com")
        self.ok("user", "remove", "alice@example.com")
        self.assertNotIn("alice@example.com", self.ok("user", "list"))
        self.assertIsNone(self.password_hash("alice@example.com"))

    def attributes(self, address):
        with sqlite3.connect(self.database) as db:
            return db.execute("SELECT display_name, given_name, surname, title, department, "
                              "organization, phones, quota FROM accounts WHERE address = ?",
                              (address,)).fetchone()

    def test_address_book_attributes(self):
        self.ok("domain", "add", "example.com")
        self.ok("user", "add", "zoe@example.com", "--password-stdin", "--display-name",
                "Zoe Washburne", "--given-name", "Zoe", "--phone", "+1 555 0100",
                input_text="serenity\n")
        self.assertEqual(self.attributes("zoe@example.com"),
                         ("Zoe Washburne", "Zoe", "", "", "", "", "+1 555 0100", 0))
        r = harness.run_portico("user", "set", "Zoe@example.com", "--surname", "Washburne",
                                "--title", "First Mate", "--department", "Crew",
                                "--organization", "Serenity", "--phone", "+1 555 0101",
                                "--phone", "(555) 0199 ext. 2", "--quota", "2MB",
                                "--config", self.config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout
        self.assertIn("account zoe@example.com updated", out)
        self.assertEqual(self.attributes("zoe@example.com"),
                         ("Zoe Washburne", "Zoe", "Washburne", "First Mate", "Crew", "Serenity",
                          "+1 555 0101\n(555) 0199 ext. 2", 2 * 1024 * 1024))
        listing = self.ok("user", "list")
        for shown in ('name="Zoe Washburne"', 'given-name="Zoe"', 'surname="Washburne"',
                      'title="First Mate"', 'department="Crew"', 'organization="Serenity"',
                      'phones="+1 555 0101, (555) 0199 ext. 2"', "quota=2MB"):
            self.assertIn(shown, listing)
        self.assertNotIn("serenity\n", listing)

        # Options left out are kept; "" clears one; --name still works; --no-phones clears.
        self.ok("user", "set", "zoe@example.com", "--title", "", "--name", "Zoë")
        self.ok("user", "set", "zoe@example.com", "--no-phones")
        self.assertEqual(self.attributes("zoe@example.com"),
                         ("Zoë", "Zoe", "Washburne", "", "Crew", "Serenity", "", 2 * 1024 * 1024))
        listing = self.ok("user", "list", "example.com")
        self.assertIn('name="Zoë"', listing)
        self.assertNotIn("title=", listing)
        self.assertNotIn("phones=", listing)

        # Mistakes: both phone options, an empty number, a control character, no such account.
        self.fails("user", "set", "zoe@example.com", "--phone", "1", "--no-phones", code=2)
        self.fails("user", "set", "zoe@example.com", "--phone", "", code=1)
        self.fails("user", "set", "zoe@example.com", "--surname", "a\nb", code=1)
        self.fails("user", "set", "nobody@example.com", "--title", "x", code=1)
        self.fails("user", "set", "zoe@example.com", "--phone", code=2)
        self.assertEqual(self.attributes("zoe@example.com")[2], "Washburne")

    def test_errors_exit_non_zero(self):
        self.ok("domain", "add", "example.com")
        err = self.fails("user", "add", "bob@unknown.org", "--password-stdin", input_text="x\n",
                         code=1)
        self.assertIn("unknown.org", err)
        self.fails("user", "add", "not-an-address", "--password-stdin", input_text="x\n")
        self.fails("user", "add", "bob@example.com", "--password-stdin", input_text="", code=2)
        self.fails("user", "add", "bob@example.com", "--quota", "lots", "--password-stdin",
                   input_text="x\n", code=2)
        # No terminal and no --password-stdin: refused rather than stuck on a prompt.
        self.fails("user", "add", "bob@example.com", input_text="", code=2)
        self.fails("user", "passwd", "nobody@example.com", "--password-stdin", input_text="x\n",
                   code=1)
        self.fails("user", "remove", "nobody@example.com", code=1)
        self.fails("domain", "add", "example.com", code=1)
        # Usage errors exit 2, like every other command's: a group without its command, an
        # unknown option, a missing argument.
        self.fails("user", code=2)
        self.fails("domain", "add", "--no-such-option", "x.org", code=2)
        self.fails("retrieval", "remove", code=2)
        self.assertEqual(harness.run_portico("--version").returncode, 0)
        self.assertEqual(harness.run_portico("domain", "--help").returncode, 0)

    def test_domain_removal_needs_force(self):
        self.ok("domain", "add", "example.com")
        self.ok("user", "add", "bob@example.com", "--password-stdin", input_text="builder\n")
        err = self.fails("domain", "remove", "example.com", code=1)
        self.assertIn("--force", err)
        self.ok("domain", "remove", "example.com", "--force")
        self.assertNotIn("example.com", self.ok("domain", "list"))

    def test_aliases_lists_catch_all(self):
        self.ok("domain", "add", "example.com")
        self.ok("user", "add", "bob@example.com", "--password-stdin", input_text="builder\n")
        self.ok("alias", "add", "postmaster@example.com", "bob@example.com", "ops@remote.net")
        self.assertIn("postmaster@example.com -> bob@example.com, ops@remote.net",
                      self.ok("alias", "list"))
        self.ok("alias", "remove", "postmaster@example.com", "ops@remote.net")
        self.assertNotIn("ops@remote.net", self.ok("alias", "list"))
        self.fails("alias", "add", "bob@example.com", "x@remote.net", code=1)

        self.ok("list", "add", "staff@example.com", "bob@example.com", "partner@remote.net")
        self.assertIn("staff@example.com  members=2", self.ok("list", "list"))
        self.assertEqual(self.ok("list", "members", "staff@example.com").split(),
                         ["bob@example.com", "partner@remote.net"])
        self.ok("list", "remove", "staff@example.com", "partner@remote.net")
        self.ok("list", "remove", "staff@example.com")
        self.fails("list", "members", "staff@example.com", code=1)

        self.assertIn("catch-all=off", self.ok("domain", "list"))
        self.ok("domain", "catch-all", "example.com", "bob@example.com")
        self.assertIn("catch-all=bob@example.com", self.ok("domain", "list"))
        self.ok("domain", "catch-all", "example.com", "off")
        self.assertIn("catch-all=off", self.ok("domain", "list"))

    def test_case_sensitive_local_parts(self):
        self.ok("domain", "add", "example.com")
        self.assertIn("local-part=case-insensitive", self.ok("domain", "list"))
        self.ok("domain", "add", "Strict.example", "--case-sensitive-local-part")
        self.assertIn("strict.example  accounts=0  catch-all=off  local-part=case-sensitive",
                      self.ok("domain", "list"))
        out = self.ok("user", "add", "Alice@STRICT.example", "--password-stdin",
                      input_text="upper\n")
        self.assertIn("account Alice@strict.example added", out)
        self.ok("user", "add", "alice@strict.example", "--password-stdin", input_text="lower\n")
        self.assertIsNotNone(self.password_hash("Alice@strict.example"))
        self.assertIsNotNone(self.password_hash("alice@strict.example"))
        self.assertNotEqual(self.password_hash("Alice@strict.example"),
                            self.password_hash("alice@strict.example"))
        self.fails("user", "remove", "ALICE@strict.example", code=1)
        # Upper-case local parts are stored: switching back is refused.
        err = self.fails("domain", "set", "strict.example", "--case-sensitive-local-part",
                         "false", code=1)
        self.assertIn("Alice@strict.example", err)
        self.fails("domain", "set", "strict.example", "--case-sensitive-local-part", "maybe",
                   code=2)
        self.fails("domain", "set", "strict.example")  # the option is required
        self.fails("domain", "set", "nowhere.example", "--case-sensitive-local-part", "true",
                   code=1)
        self.ok("user", "remove", "Alice@strict.example")
        self.ok("domain", "set", "strict.example", "--case-sensitive-local-part", "false")
        self.assertIn("strict.example  accounts=1  catch-all=off  local-part=case-insensitive",
                      self.ok("domain", "list"))
        self.ok("domain", "set", "example.com", "--case-sensitive-local-part", "true")
        self.assertIn("example.com  accounts=0  catch-all=off  local-part=case-sensitive",
                      self.ok("domain", "list"))

    def test_retrieval_secret_is_never_shown(self):
        self.ok("domain", "add", "example.com")
        self.ok("user", "add", "bob@example.com", "--password-stdin", input_text="builder\n")
        out = self.ok("retrieval", "add", "bob@example.com", "--protocol", "imap", "--host",
                      "imap.remote.net", "--port", "993", "--tls", "implicit", "--user", "bob.r",
                      "--secret-stdin", "--source-folder", "Archive", "--leave-on-server",
                      input_text="hunter2\n")
        self.assertIn("retrieval source 1 added", out)
        listing = self.ok("retrieval", "list")
        self.assertIn("imap://bob.r@imap.remote.net:993", listing)
        self.assertIn("****", listing)
        self.assertNotIn("hunter2", listing)
        self.fails("retrieval", "add", "bob@example.com", "--protocol", "ftp", "--host", "h",
                   "--user", "u")
        self.fails("retrieval", "add", "bob@example.com", "--protocol", "imap", "--apop",
                   "--host", "h", "--user", "u", code=2)
        self.ok("retrieval", "remove", "1")
        self.assertEqual(self.ok("retrieval", "list"), "")
        self.fails("retrieval", "remove", "1", code=1)


if __name__ == "__main__":
    unittest.main()

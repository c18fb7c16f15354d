"""imap mailbox names against a real client library: Python's imaplib over implicit TLS creates,
lists, APPENDs into, SELECTs, COPYs into and STATUSes mailboxes with non-ASCII names in their
modified UTF-7 form (RFC 3501 section 5.1.3); another session after ENABLE UTF8=ACCEPT
(RFC 6855) sees and selects the same mailboxes by their UTF-8 names; names that are not valid
modified UTF-7 get NO, 8-bit names before UTF-8 is enabled BAD, and neither creates anything."""

import imaplib
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop_support import message  # noqa: E402
from test_imap import THREE, Server, login  # noqa: E402

JAPANESE = "&ZeVnLIqe-"  # 日本語
NESTED = "Entw&APw-rfe/&U,BTFw-"  # Entwürfe/台北


def names_of(listing):
    return [line.split(b' "/" ', 1)[1] for line in listing if line]


class MailboxNameTest(unittest.TestCase):
    def test_non_ascii_names_in_modified_utf7_and_in_utf8(self):
        with Server(mailboxes={"alice": THREE}) as srv:
            m = login(srv, implicit=True)
            self.assertEqual(m.create(JAPANESE)[0], "OK")
            self.assertEqual(m.create(NESTED)[0], "OK")
            typ, data = m.list('""', "*")
            self.assertEqual(typ, "OK")
            names = names_of(data)
            for name in (b"INBOX", JAPANESE.encode(), NESTED.encode()):
                self.assertIn(name, names)
            typ, data = m.list('""', "Entw&APw-rfe/%")
            self.assertEqual(names_of(data), [NESTED.encode()])

            new = message("in japanese", body="konnichiwa\r\n")
            typ, data = m.append(JAPANESE, "(\\Seen)", None, new)
            self.assertEqual(typ, "OK")
            self.assertEqual(m.response("APPENDUID")[1][0].split()[1], b"1")
            self.assertEqual(m.status(JAPANESE, "(MESSAGES)")[1],
                             [JAPANESE.encode() + b" (MESSAGES 1)"])
            typ, data = m.select(JAPANESE)
            self.assertEqual((typ, data), ("OK", [b"1"]))
            typ, data = m.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1], new)
            self.assertEqual(m.copy("1", NESTED)[0], "OK")
            self.assertEqual(m.status(NESTED, "(MESSAGES)")[1],
                             [NESTED.encode() + b" (MESSAGES 1)"])

            # Not valid modified UTF-7: NO, with the reason; nothing is created.
            typ, data = m.create("&AGE-")  # "a", which must stand for itself
            self.assertEqual(typ, "NO")
            self.assertIn(b"not valid modified UTF-7", data[0])
            self.assertEqual(m.create("AT&T")[0], "NO")  # "&" is "&-"
            self.assertEqual(m.select("&ZeVn")[0], "NO")
            with self.assertRaises(imaplib.IMAP4.error):  # 8-bit without UTF-8: BAD
                m.create(b'"caf\xc3\xa9"')
            typ, data = m.list('""', "*")
            self.assertEqual(len(names_of(data)), len(names))
            m.logout()

            u = login(srv, implicit=True)
            self.assertEqual(u.enable("UTF8=ACCEPT")[0], "OK")
            typ, data = u.list('""', '"*"')
            names = names_of(data)
            self.assertIn('"日本語"'.encode(), names)
            self.assertIn('"Entwürfe/台北"'.encode(), names)
            self.assertNotIn(JAPANESE.encode(), names)
            typ, data = u.select('"日本語"')
            self.assertEqual((typ, data), ("OK", [b"1"]))
            self.assertEqual(u.status('"Entwürfe/台北"', "(MESSAGES)")[1],
                             ['"Entwürfe/台北" (MESSAGES 1)'.encode()])
            # A UTF-8 session takes "&ZeVnLIqe-" as that very name: no such mailbox.
            self.assertEqual(u.select(JAPANESE)[0], "NO")
            u.logout()


if __name__ == "__main__":
    unittest.main()

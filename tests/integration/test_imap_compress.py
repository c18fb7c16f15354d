"""imap COMPRESS=DEFLATE (RFC 4978) against Python's imaplib, deflating with zlib (raw deflate,
wbits -15) after the tagged OK: the capability once logged in, BAD before login and for an
unknown mechanism, NO [COMPRESSIONACTIVE] the second time, then SELECT, FETCH of a text
message and of large ones (output throttled while compressed), APPEND, over a plain connection,
STARTTLS and implicit TLS; a command pipelined behind COMPRESS is read compressed. Prints the
octets a compressed FETCH of a text message saved."""

import imaplib
import os
import socket
import sys
import unittest
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from pop_support import DOMAIN, PASSWORD, message  # noqa: E402
from test_imap import Server as TlsServer, imap_settings  # noqa: E402
from pop_support import PLUGINS  # noqa: E402

ALICE = f"alice@{DOMAIN}"
imaplib.Commands.setdefault("COMPRESS", ("NONAUTH", "AUTH", "SELECTED"))

# A text message of real prose: the SDK's guide, as a plain-text mail.
with open(os.path.join(harness.SOURCE_DIR, "docs", "sdk.md"), encoding="utf-8") as _f:
    TEXT = message("the SDK", body="".join(line.rstrip("\n") + "\r\n"
                                           for line in _f.read()[:20000].splitlines()))
# Large messages of varied text, so a FETCH 1:* passes the output throttle while compressing.
LARGE = [message(f"large {n}", body="".join(
    f"{n}-{i} {(i * 7919) % 104729:08x} lorem ipsum dolor sit amet {i * n}\r\n"
    for i in range(40000))) for n in range(3)]


class Deflate:
    """imaplib, deflated both ways after COMPRESS DEFLATE (wire_in/plain_in count octets)."""

    _zout = None

    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        if typ == "OK":
            self._zout = zlib.compressobj(wbits=-15)
            self._zin = zlib.decompressobj(wbits=-15)
            self._zbuf = b""
            self.wire_in = self.plain_in = 0
        return typ, data

    def send(self, data):
        if self._zout is None:
            return super().send(data)
        self.sock.sendall(self._zout.compress(data) + self._zout.flush(zlib.Z_SYNC_FLUSH))

    def _zfill(self):
        data = self.sock.recv(65536)
        if not data:
            raise imaplib.IMAP4.abort("socket error: EOF")
        self.wire_in += len(data)
        plain = self._zin.decompress(data)
        self.plain_in += len(plain)
        self._zbuf += plain

    def read(self, size):
        if self._zout is None:
            return super().read(size)
        while len(self._zbuf) < size:
            self._zfill()
        out, self._zbuf = self._zbuf[:size], self._zbuf[size:]
        return out

    def readline(self):
        if self._zout is None:
            return super().readline()
        while b"\n" not in self._zbuf:
            self._zfill()
        end = self._zbuf.index(b"\n") + 1
        out, self._zbuf = self._zbuf[:end], self._zbuf[end:]
        return out


class Imap(Deflate, imaplib.IMAP4):
    pass


class ImapSsl(Deflate, imaplib.IMAP4_SSL):
    pass


class PlainServer(TlsServer):
    """test_imap's server, with passwords allowed on the STARTTLS listener before TLS."""

    def __init__(self, mailboxes=None):
        self.imap_port, self.imap_tls_port = harness.free_ports(2)
        harness.PorticoServer.__init__(
            self, plugins={"imap": imap_settings(self.imap_port, self.imap_tls_port,
                                                 allow_plaintext_auth_without_tls=True)},
            plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", DOMAIN)
        self.run("user", "add", ALICE, "--password-stdin", input_text=PASSWORD)
        for user, messages in (mailboxes or {}).items():
            self.import_messages(user, messages)
        self.start()


class CompressTest(unittest.TestCase):
    def exercise(self, m):
        """Logged in: the refusals, COMPRESS, then SELECT, FETCH and APPEND compressed."""
        self.assertIn("COMPRESS=DEFLATE", m.capabilities)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            m._simple_command("COMPRESS", "GZIP")
        typ, data = m.compress()
        self.assertEqual(typ, "OK")
        self.assertIn(b"DEFLATE active", data[-1])
        typ, data = m.compress()
        self.assertEqual(typ, "NO")
        self.assertIn(b"[COMPRESSIONACTIVE]", data[-1])

        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(int(data[0]), 1 + len(LARGE))
        wire, plain = m.wire_in, m.plain_in
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], TEXT)
        wire, plain = m.wire_in - wire, m.plain_in - plain
        self.assertLess(wire * 2, plain)
        print(f"\nFETCH 1 (BODY.PEEK[]) of a {len(TEXT)}-octet text message: {plain} octets "
              f"of response, {wire} on the wire compressed ({plain - wire} saved, "
              f"{100 * (plain - wire) / plain:.0f}%)", file=sys.stderr)

        # Large messages: more than the output throttle, all compressed, intact.
        typ, data = m.fetch(f"2:{1 + len(LARGE)}", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual([d[1] for d in data if isinstance(d, tuple)], LARGE)

        note = message("appended", body="Written compressed.\r\n" * 50)
        typ, data = m.append("INBOX", None, None, note)
        self.assertEqual(typ, "OK", data)
        typ, data = m.fetch(str(2 + len(LARGE)), "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], note)
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.logout()[0], "BYE")

    def test_plain_connection(self):
        with PlainServer(mailboxes={"alice": [TEXT] + LARGE}) as srv:
            m = Imap("127.0.0.1", srv.imap_port, timeout=30)
            self.assertNotIn("COMPRESS=DEFLATE", m.capabilities)
            with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
                m.compress()  # not before login
            m.login(ALICE, PASSWORD)
            m._get_capabilities()
            self.exercise(m)

    def test_starttls_and_implicit_tls(self):
        with TlsServer(mailboxes={"alice": [TEXT] + LARGE}) as srv:
            m = Imap("127.0.0.1", srv.imap_port, timeout=30)
            m.starttls(ssl_context=harness.unverified_context())
            m.login(ALICE, PASSWORD)
            m._get_capabilities()
            self.exercise(m)

        with TlsServer(mailboxes={"alice": [TEXT] + LARGE}) as srv:
            m = ImapSsl("127.0.0.1", srv.imap_tls_port, ssl_context=harness.unverified_context(),
                        timeout=30)
            m.login(ALICE, PASSWORD)
            m._get_capabilities()
            self.exercise(m)

    def test_a_command_pipelined_behind_compress_is_read_compressed(self):
        with PlainServer(mailboxes={"alice": [TEXT]}) as srv:
            with socket.create_connection(("127.0.0.1", srv.imap_port), timeout=10) as s:
                f = s.makefile("rb")
                self.assertTrue(f.readline().startswith(b"* OK"))
                s.sendall(f'a LOGIN "{ALICE}" "{PASSWORD}"\r\n'.encode())
                while not f.readline().startswith(b"a OK"):
                    pass
                out = zlib.compressobj(wbits=-15)
                s.sendall(b"b COMPRESS DEFLATE\r\n" + out.compress(b"c NOOP\r\n") +
                          out.flush(zlib.Z_SYNC_FLUSH))
                self.assertEqual(f.readline(), b"b OK DEFLATE active\r\n")
                inf = zlib.decompressobj(wbits=-15)
                plain = inf.decompress(f.read1(65536))
                while b"c " not in plain:
                    plain += inf.decompress(s.recv(65536))
                self.assertIn(b"c OK NOOP completed\r\n", plain)


if __name__ == "__main__":
    unittest.main()

"""The core's deflate layer (SessionContext::start_compression, SDK 1.6) over real sockets.

lineproto's COMPRESS answers "+OK compressing" uncompressed and turns on raw deflate (RFC 1951,
as RFC 4978 uses it) both ways. Checked here: bytes sent behind the command are inflated, not
taken as plain; replies are flushed so the client never waits; counted bytes and the line length
limit apply to inflated input (a bomb is cut as a long line and the connection goes on); corrupt
input closes the connection; STARTTLS is refused once compressing; compression above TLS.
"""

import os
import sys
import unittest
import zlib

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Deflating:
    """Turns a LineClient into a deflating one, after the server's reply to COMPRESS."""

    def __init__(self, client):
        self.client = client
        self.out = zlib.compressobj(wbits=-15)
        self.inf = zlib.decompressobj(wbits=-15)
        self.wire_in = 0

        def send_raw(data):
            if isinstance(data, str):
                data = data.encode()
            client.sock.sendall(self.compress(data))

        def fill():
            data = client.sock.recv(65536)
            if not data:
                raise EOFError("connection closed by the server")
            self.wire_in += len(data)
            client.buf += self.inf.decompress(data)

        client.send_raw = send_raw
        client._fill = fill
        # What came in behind the plain reply is compressed already.
        if client.buf:
            pending, client.buf = client.buf, b""
            self.wire_in += len(pending)
            client.buf = self.inf.decompress(pending)

    def compress(self, data):
        return self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH)


def server(port, **overrides):
    return harness.PorticoServer(plugins={"lineproto": harness.lineproto_settings(port,
                                                                                  **overrides)})


class CompressTest(unittest.TestCase):
    def test_both_ways_with_bytes_sent_behind_the_command(self):
        port = harness.free_port()
        with server(port) as srv:
            with srv.client() as c:
                early = zlib.compressobj(wbits=-15)
                behind = early.compress(b"ECHO early\r\n") + early.flush(zlib.Z_SYNC_FLUSH)
                c.send_raw(b"COMPRESS\r\n" + behind)
                self.assertEqual(c.readline(), "+OK compressing")
                z = Deflating(c)
                z.out = early  # the client's stream went on from those bytes
                self.assertEqual(c.readline(), "+OK early")
                self.assertEqual(c.command("ECHO later"), "+OK later")
                # Counted bytes are counted after inflating.
                c.send_raw(b"BYTES 10\r\n0123456789")
                self.assertEqual(c.readline(), "+OK 10 bytes")
                self.assertEqual(c.command("STARTTLS"), "-ERR TLS not available")
                self.assertEqual(c.command("COMPRESS"), "+OK compressing")
                self.assertEqual(c.readline(), "-ERR already compressing")
                self.assertEqual(c.command("QUIT"), "+OK bye")
                self.assertTrue(c.at_eof())
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_the_reply_is_plain_and_everything_after_it_deflated(self):
        port = harness.free_port()
        with server(port) as srv:
            with srv.client() as c:
                c.send("COMPRESS")
                self.assertEqual(c.readline(), "+OK compressing")
                self.assertEqual(c.buf, b"")
                out = zlib.compressobj(wbits=-15)
                c.send_raw(out.compress(b"ECHO " + b"z" * 200 + b"\r\n") +
                           out.flush(zlib.Z_SYNC_FLUSH))
                wire = b""
                while b"\n" not in zlib.decompressobj(wbits=-15).decompress(wire):
                    wire += c.sock.recv(65536)
                # Deflated, and flushed: all of the reply inflates from what was sent.
                self.assertNotIn(b"zzzz", wire)
                self.assertEqual(zlib.decompressobj(wbits=-15).decompress(wire),
                                 b"+OK " + b"z" * 200 + b"\r\n")
                self.assertLess(len(wire), 50)

    def test_a_bomb_is_cut_by_the_line_limit_and_the_connection_goes_on(self):
        port = harness.free_port()
        with server(port) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("COMPRESS"), "+OK compressing")
                z = Deflating(c)
                # 256 MiB of one byte without a line end: about 256 KiB on the wire.
                chunk = b"a" * (1 << 20)
                sent = 0
                for _ in range(256):
                    data = z.out.compress(chunk)
                    c.sock.sendall(data)
                    sent += len(data)
                tail = z.out.compress(b"\r\nECHO alive\r\n") + z.out.flush(zlib.Z_SYNC_FLUSH)
                c.sock.sendall(tail)
                self.assertLess(sent + len(tail), 2 << 20)
                self.assertEqual(c.readline(timeout=120), "-ERR line too long")
                self.assertEqual(c.readline(timeout=60), "+OK alive")
                self.assertEqual(c.command("ECHO still"), "+OK still")
            self.assertTrue(srv.alive())
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_corrupt_input_closes_the_connection(self):
        port = harness.free_port()
        with server(port) as srv:
            with srv.client() as c:
                self.assertEqual(c.command("COMPRESS"), "+OK compressing")
                Deflating(c)
                c.sock.sendall(b"\xff\xff\xff\xffnot deflate at all\r\n")
                self.assertTrue(c.at_eof())
            srv.wait_log(r"compressed input: .*; closing")
            with srv.client() as c:
                self.assertEqual(c.command("ECHO next"), "+OK next")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_above_implicit_tls(self):
        port = harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(port, "implicit")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            with harness.tls_client(port) as c:
                self.assertEqual(c.command("COMPRESS"), "+OK compressing")
                Deflating(c)
                self.assertEqual(c.command("TLS?"), "+OK yes")
                self.assertEqual(c.command("ECHO " + "q" * 300), "+OK " + "q" * 300)
                self.assertEqual(c.command("QUIT"), "+OK bye")
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main()

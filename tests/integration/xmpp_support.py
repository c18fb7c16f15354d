"""What the xmpp integration tests share: a portico with the xmpp plugin and a few accounts,
slixmpp clients (Debian's python3-slixmpp) logged in over STARTTLS or direct TLS and awaited
with asyncio, and a raw client for what no library sends."""

import asyncio
import os
import re
import socket
import ssl
import time

import harness

try:
    import slixmpp
except ImportError:  # pragma: no cover - python3-slixmpp is installed by scripts/deps.sh
    slixmpp = None

PLUGINS = os.path.join(harness.BUILD_DIR, "plugins")
PASSWORD = "correct horse battery staple"
DOMAIN = "example.test"
ALICE = "alice@example.test"
BOB = "bob@example.test"
CAROL = "carol@example.test"
STREAM_NS = "http://etherx.jabber.org/streams"


class XmppServer(harness.PorticoServer):
    """portico with the xmpp plugin on a STARTTLS listener and a direct-TLS one (XEP-0368), the
    domains example.test and other.test, and alice, bob and carol."""

    def __init__(self, **settings):
        self.c2s_port, self.tls_port = harness.free_ports(2)
        section = {
            "enabled": True,
            "listeners": [harness.listener(self.c2s_port, "starttls"),
                          harness.listener(self.tls_port, "implicit")],
            "command_timeout": "5s",
            "session_timeout": "60s",
        }
        section.update(settings)
        super().__init__(plugins={"xmpp": section}, plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", DOMAIN)
        self.run("domain", "add", "other.test")
        for address in (ALICE, BOB, CAROL):
            self.run("user", "add", address, "--password-stdin", input_text=PASSWORD)
        self.run("user", "set", ALICE, "--display-name", "Alice Liddell")
        self.start()

    def listeners(self, protocol="xmpp"):
        return super().listeners(protocol)


class Client(slixmpp.ClientXMPP if slixmpp else object):
    """A slixmpp client whose received stanzas wait in asyncio queues."""

    def __init__(self, jid, password=PASSWORD, mechanism=None):
        super().__init__(jid, password)
        if mechanism:
            self["feature_mechanisms"].use_mech = mechanism
        for plugin in ("xep_0030", "xep_0199", "xep_0280", "xep_0313", "xep_0191", "xep_0054",
                       "xep_0092", "xep_0203"):
            self.register_plugin(plugin)
        self.ssl_context = harness.unverified_context()
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.carbons = asyncio.Queue()
        self.started = asyncio.get_running_loop().create_future()
        self.add_event_handler("session_start", self._started)
        self.add_event_handler("failed_all_auth", self._failed)
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("message_error", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("presence_available", lambda p: self.presences.put_nowait(p))
        self.add_event_handler("carbon_received", lambda m: self.carbons.put_nowait(("received", m)))
        self.add_event_handler("carbon_sent", lambda m: self.carbons.put_nowait(("sent", m)))

    def _started(self, _event):
        if not self.started.done():
            self.started.set_result(True)

    def _failed(self, _event):
        if not self.started.done():
            self.started.set_exception(PermissionError("authentication failed"))

    async def next_message(self, timeout=10):
        while True:
            m = await asyncio.wait_for(self.messages.get(), timeout)
            if m["body"] or m["type"] == "error":
                return m


async def login(server, jid, password=PASSWORD, direct_tls=False, mechanism=None, presence=True,
                roster=True):
    """A logged-in client, after its roster request and initial presence (as a chat client
    starts)."""
    c = Client(jid, password, mechanism)
    port = server.tls_port if direct_tls else server.c2s_port
    c.connect(address=("127.0.0.1", port), use_ssl=direct_tls, force_starttls=not direct_tls)
    try:
        await asyncio.wait_for(c.started, 15)
    except BaseException:
        c.abort()
        raise
    if roster:
        await c.get_roster()
    if presence:
        c.send_presence()
    return c


async def logout(*clients):
    for c in clients:
        c.disconnect()
    for c in clients:
        try:
            await asyncio.wait_for(c.disconnected, 5)
        except (asyncio.TimeoutError, Exception):
            c.abort()


def run(coro, timeout=90):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class RawStream:
    """A TLS connection speaking XMPP by hand: header, SASL PLAIN, bind, then whatever a test
    sends. Reads return text as received."""

    def __init__(self, server, domain=DOMAIN, timeout=10):
        raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=timeout)
        self.sock = harness.unverified_context().wrap_socket(raw)
        self.domain = domain
        self.buffer = ""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def read_until(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.buffer, re.S):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.buffer[-2000:]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"closed before {pattern!r}: {self.buffer[-2000:]!r}")
            self.buffer += chunk.decode("utf-8", "replace")
        return self.buffer

    def open(self):
        self.send(f"<?xml version='1.0'?><stream:stream to='{self.domain}' version='1.0' "
                  "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        return self.read_until(r"</stream:features>")

    def login(self, user="alice", password=PASSWORD, resource="raw"):
        import base64
        self.open()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        self.read_until(r"<success")
        self.buffer = ""
        self.open()
        self.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        self.read_until(r"</iq>")
        self.buffer = ""

    def closed(self, timeout=10):
        """True once the server has closed the connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                return True
            if not chunk:
                return True
            self.buffer += chunk.decode("utf-8", "replace")
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

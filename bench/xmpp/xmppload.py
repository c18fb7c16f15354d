#!/usr/bin/python3
"""XMPP load generator for bench/xmpp/run.sh: raw client-to-server XMPP over plain TCP (SASL
PLAIN, no TLS, the same for every server), python3 asyncio in one process.

  xmppload.py --port P --clients N [--msgs M] [--hold S] [--pid PID] [--websocket PATH]

With --websocket PATH the clients speak XMPP over WebSocket (RFC 7395, python3-websockets) to
ws://host:port/PATH instead: <open/> for the stream, one stanza per message.

1. Logs in N clients <prefix>1..<prefix>N@<domain> (at most --parallel logins at a time):
   stream, SASL PLAIN, stream restart, resource binding, roster request, initial presence.
2. With --msgs M: clients are paired (1-2, 3-4, ...) and each sends M chat messages to its
   partner's bare JID, keeping at most --window unanswered (each client counts the messages it
   receives); prints the messages routed per second from the first message sent to the last
   one received, and any error stanza.
3. With --hold S: all connections stay idle S seconds, then the server's RSS (VmRSS of --pid,
   and of its children) is printed next to the RSS before the logins.
Lines printed: key=value pairs prefixed with "XMPPLOAD". Loopback only; bounded by --max-secs.
"""
import argparse
import asyncio
import base64
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--domain", default="example.test")
ap.add_argument("--prefix", default="load")
ap.add_argument("--password", default="secret")
ap.add_argument("--clients", type=int, default=200)
ap.add_argument("--parallel", type=int, default=50)
ap.add_argument("--msgs", type=int, default=0)
ap.add_argument("--window", type=int, default=50)
ap.add_argument("--body", type=int, default=100)
ap.add_argument("--hold", type=float, default=0)
ap.add_argument("--pid", type=int)
ap.add_argument("--max-secs", type=float, default=240)
ap.add_argument("--websocket", default="")
a = ap.parse_args()
assert a.host.startswith("127.") or a.host == "::1", "loopback only"
DEADLINE = time.monotonic() + a.max_secs


def left():
    return max(0.1, DEADLINE - time.monotonic())


def rss_kib(pid):
    """VmRSS of pid and its descendants, KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError:
            pass
    return total


class Client:
    def __init__(self, n):
        self.user = f"{a.prefix}{n}"
        self.received = 0
        self.errors = 0
        self.tail = b""
        self.credit = asyncio.Event()

    async def until(self, *marks):
        buf = b""
        while not any(m in buf for m in marks):
            data = await asyncio.wait_for(self.r.read(65536), left())
            if not data:
                raise EOFError(f"{self.user}: closed after {buf[-300:]!r}")
            buf += data
        return buf

    def header(self):
        return (f"<?xml version='1.0'?><stream:stream to='{a.domain}' version='1.0' "
                "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>").encode()

    async def login(self):
        self.r, self.w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port), left())
        self.w.write(self.header())
        await self.until(b"</stream:features>")
        token = base64.b64encode(f"\0{self.user}\0{a.password}".encode()).decode()
        self.w.write(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                     f"{token}</auth>".encode())
        if b"<failure" in await self.until(b"<success", b"<failure"):
            raise PermissionError(f"{self.user}: authentication failed")
        self.w.write(self.header())
        await self.until(b"</stream:features>")
        self.w.write(b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                     b"<resource>load</resource></bind></iq>")
        await self.until(b"</iq>")
        self.w.write(b"<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
        await self.until(b"id='r1'", b'id="r1"')
        self.w.write(b"<presence/>")
        await self.w.drain()

    async def read(self):
        try:
            while True:
                data = await self.r.read(65536)
                if not data:
                    return
                chunk = self.tail + data
                got = chunk.count(b"<message")
                self.received += got
                self.errors += chunk.count(b"type='error'") + chunk.count(b'type="error"')
                self.tail = chunk[-16:]
                if got:
                    self.credit.set()
        except Exception:
            return

    async def send(self, partner, count, peer_client):
        body = "x" * a.body
        sent = 0
        while sent < count:
            # At most `window` messages of ours the partner has not received yet.
            while sent - peer_client.received >= a.window:
                peer_client.credit.clear()
                await asyncio.wait_for(peer_client.credit.wait(), left())
            n = min(count - sent, a.window - (sent - peer_client.received))
            await self.write_stanzas([
                f"<message xmlns='jabber:client' to='{partner}@{a.domain}' type='chat' "
                f"id='m{sent + i}'><body>{sent + i} {body}</body></message>" for i in range(n)])
            sent += n

    async def write_stanzas(self, stanzas):
        self.w.write("".join(stanzas).encode())
        await self.w.drain()

    async def close(self):
        try:
            self.w.write(b"</stream:stream>")
            await asyncio.wait_for(self.w.drain(), 5)
            self.w.close()
        except Exception:
            pass


class WsClient(Client):
    """The same client over WebSocket (RFC 7395): each stanza is one message."""

    FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"

    async def next(self, *marks):
        while True:
            m = await asyncio.wait_for(self.ws.recv(), left())
            if any(k in m for k in marks):
                return m

    async def open(self):
        await self.ws.send(f"<open xmlns='{self.FRAMING}' to='{a.domain}' version='1.0'/>")
        await self.next("<stream:features")

    async def login(self):
        import websockets.client
        self.ws = await asyncio.wait_for(websockets.client.connect(
            f"ws://{a.host}:{a.port}{a.websocket}", subprotocols=["xmpp"], compression=None,
            max_size=None, ping_interval=None), left())
        await self.open()
        token = base64.b64encode(f"\0{self.user}\0{a.password}".encode()).decode()
        await self.ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                           f"{token}</auth>")
        if "<failure" in await self.next("<success", "<failure"):
            raise PermissionError(f"{self.user}: authentication failed")
        await self.open()
        await self.ws.send("<iq xmlns='jabber:client' type='set' id='b1'>"
                           "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                           "<resource>load</resource></bind></iq>")
        await self.next("</iq>", "id='b1'")
        await self.ws.send("<iq xmlns='jabber:client' type='get' id='r1'>"
                           "<query xmlns='jabber:iq:roster'/></iq>")
        await self.next("id='r1'", 'id="r1"')
        await self.ws.send("<presence xmlns='jabber:client'/>")

    async def read(self):
        try:
            async for m in self.ws:
                if m.startswith("<message"):
                    self.received += 1
                    if "type='error'" in m or 'type="error"' in m:
                        self.errors += 1
                    self.credit.set()
        except Exception:
            return

    async def write_stanzas(self, stanzas):
        for stanza in stanzas:  # one stanza per message (RFC 7395 3.3.3)
            await self.ws.send(stanza)

    async def close(self):
        try:
            await self.ws.send(f"<close xmlns='{self.FRAMING}'/>")
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:
            pass


async def main():
    before = rss_kib(a.pid) if a.pid else 0
    kind = WsClient if a.websocket else Client
    clients = [kind(i + 1) for i in range(a.clients)]
    gate = asyncio.Semaphore(a.parallel)
    failures = []

    async def login(c):
        async with gate:
            try:
                await c.login()
                return c
            except Exception as e:
                failures.append(str(e))
                return None

    t = time.monotonic()
    ok = [c for c in await asyncio.gather(*(login(c) for c in clients)) if c]
    t_login = time.monotonic() - t
    print(f"XMPPLOAD logged_in={len(ok)} failed={len(failures)} login_secs={t_login:.2f}")
    for f in failures[:3]:
        print("XMPPLOAD login_error", f, file=sys.stderr)
    readers = [asyncio.ensure_future(c.read()) for c in ok]
    await asyncio.sleep(0.5)  # presence broadcasts settle
    for c in ok:
        c.received = 0
        c.errors = 0
    if a.msgs and len(ok) >= 2:
        pairs = ok[:len(ok) // 2 * 2]
        t = time.monotonic()
        await asyncio.gather(*(pairs[i].send(pairs[i ^ 1].user, a.msgs, pairs[i ^ 1])
                               for i in range(len(pairs))))
        expected = a.msgs * len(pairs)
        while sum(c.received for c in pairs) < expected and time.monotonic() < DEADLINE:
            await asyncio.sleep(0.01)
        secs = time.monotonic() - t
        got = sum(c.received for c in pairs)
        print(f"XMPPLOAD clients={len(pairs)} sent={expected} received={got} "
              f"errors={sum(c.errors for c in pairs)} secs={secs:.2f} msgs_per_s={got / secs:.0f}")
    if a.hold:
        await asyncio.sleep(min(a.hold, left()))
        if a.pid:
            after = rss_kib(a.pid)
            print(f"XMPPLOAD idle_clients={len(ok)} rss_before_kib={before} rss_after_kib={after} "
                  f"per_connection_kib={(after - before) / max(1, len(ok)):.1f}")
    await asyncio.gather(*(c.close() for c in ok))
    for r in readers:
        r.cancel()


asyncio.run(main())

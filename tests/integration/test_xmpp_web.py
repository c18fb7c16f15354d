"""The xmpp plugin's web chat listeners (web_chat_listeners) against the real portico binary:
HTTP on the listener (the page, XEP-0156's host-meta, 404/405/400); XMPP over WebSocket (RFC
7395) with Debian's python3-websockets as the client: login over wss:// with PLAIN, messages
both ways with a slixmpp client over TCP, a roster item and a subscription approved by a
slixmpp client whose presence then arrives, carbons, offline delivery, an archive query, stream
resumption after a dropped WebSocket, stream errors, the closing handshake, an oversized
message, a billion-laughs document; and the web chat page itself driven in headless Chromium
with Selenium (python3-selenium, chromium, chromium-driver): log in with SCRAM, send a message
that a slixmpp client receives, and show its reply."""

import asyncio
import base64
import contextlib
import http.client
import os
import re
import shutil
import time
import unittest

import harness
import xmpp_support as xs
from xmpp_support import ALICE, BOB, DOMAIN, PASSWORD

try:
    import websockets
    import websockets.client
except ImportError:  # pragma: no cover - python3-websockets is installed by scripts/deps.sh
    websockets = None

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - python3-selenium is installed by scripts/deps.sh
    webdriver = None

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
PATH = "/xmpp-websocket"


class WebChatServer(xs.XmppServer):
    """XmppServer with a web chat listener over plain HTTP and one over HTTPS."""

    def __init__(self, **settings):
        self.http_port, self.https_port = harness.free_ports(2)
        settings.setdefault("web_chat_listeners", [
            f"http://127.0.0.1:{self.http_port}{PATH}",
            f"https://127.0.0.1:{self.https_port}{PATH}",
        ])
        super().__init__(**settings)


def http_request(port, method, path, headers=None, tls=False):
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=harness.unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


class WebChatHttpTest(unittest.TestCase):
    """What the listener answers to plain HTTP."""

    @classmethod
    def setUpClass(cls):
        cls.server = WebChatServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_the_page_names_its_websocket_path(self):
        status, headers, body = http_request(self.server.http_port, "GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(f'<meta name="xmpp-websocket" content="{PATH}">', body.decode())
        self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
        status, headers, body = http_request(self.server.http_port, "GET", "/webchat.js")
        self.assertEqual(status, 200)
        self.assertIn("SCRAM-SHA-256", body.decode())

    def test_the_page_over_https(self):
        status, _, body = http_request(self.server.https_port, "GET", "/", tls=True)
        self.assertEqual(status, 200)
        self.assertIn(b"Portico web chat", body)

    def test_head_has_the_length_and_no_body(self):
        _, _, full = http_request(self.server.http_port, "GET", "/")
        status, headers, body = http_request(self.server.http_port, "HEAD", "/")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), len(full))
        self.assertEqual(body, b"")

    def test_host_meta_points_at_the_websocket(self):
        """XEP-0156: clients discover the WebSocket endpoint."""
        status, _, body = http_request(self.server.http_port, "GET", "/.well-known/host-meta")
        self.assertEqual(status, 200)
        self.assertIn(f"href='ws://127.0.0.1:{self.server.http_port}{PATH}'", body.decode())
        status, _, body = http_request(self.server.https_port, "GET",
                                       "/.well-known/host-meta.json", tls=True)
        self.assertIn(f'"href":"wss://127.0.0.1:{self.server.https_port}{PATH}"', body.decode())

    def test_unknown_paths_and_methods(self):
        self.assertEqual(http_request(self.server.http_port, "GET", "/nothing")[0], 404)
        status, headers, _ = http_request(self.server.http_port, "POST", "/")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")

    def test_an_upgrade_without_the_xmpp_subprotocol_is_refused(self):
        """RFC 7395 3.1: the endpoint speaks the "xmpp" subprotocol."""
        headers = {"Upgrade": "websocket", "Connection": "Upgrade",
                   "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                   "Sec-WebSocket-Version": "13"}
        status, _, body = http_request(self.server.http_port, "GET", PATH, headers)
        self.assertEqual(status, 400)
        self.assertIn(b"xmpp", body)
        headers["Sec-WebSocket-Protocol"] = "chat, xmpp"
        status, headers_back, _ = http_request(self.server.http_port, "GET", PATH, headers)
        self.assertEqual(status, 101)
        self.assertEqual(headers_back["Sec-WebSocket-Protocol"], "xmpp")

    def test_a_request_that_stops_arriving_gets_408_at_the_command_timeout(self):
        """Slow HTTP clients do not keep a place for the session timeout (60 s here), only for
        the command timeout (5 s)."""
        import socket
        with socket.create_connection(("127.0.0.1", self.server.http_port), timeout=15) as s:
            start = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
            self.assertTrue(reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reply)
            self.assertLess(time.monotonic() - start, 12)

    def test_a_request_and_a_frame_cut_across_tcp_writes(self):
        """The server waits for the rest of a request, and of a WebSocket frame, sent later."""
        import socket
        with socket.create_connection(("127.0.0.1", self.server.http_port), timeout=10) as s:
            key = base64.b64encode(os.urandom(16)).decode()
            request = (f"GET {PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                       "Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Version: 13\r\n\r\n")
            s.sendall(request[:40].encode())
            time.sleep(0.3)
            s.sendall(request[40:].encode())
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"closed: {reply!r}")
                reply += chunk
            self.assertTrue(reply.startswith(b"HTTP/1.1 101"), reply)
            payload = f"<open xmlns='{FRAMING}' to='{DOMAIN}' version='1.0'/>".encode()
            mask = os.urandom(4)
            frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
                b ^ mask[i % 4] for i, b in enumerate(payload))
            s.sendall(frame[:9])
            time.sleep(0.3)
            s.sendall(frame[9:])
            got = reply.split(b"\r\n\r\n", 1)[1]
            while b"stream:features" not in got:
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"closed: {got!r}")
                got += chunk
            self.assertIn(b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'", got)

    def test_garbage_gets_400_and_the_listener_keeps_serving(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.server.http_port), timeout=10) as s:
            s.sendall(b"\x00\x01 not http at all\r\n\r\n")
            self.assertIn(b"400", s.recv(4096))
        self.assertEqual(http_request(self.server.http_port, "GET", "/")[0], 200)


class WebChatBusyTest(unittest.TestCase):
    def test_over_max_connections_http_gets_503(self):
        import socket
        server = WebChatServer(max_connections=1)
        try:
            with socket.create_connection(("127.0.0.1", server.http_port), timeout=10):
                time.sleep(0.3)  # the first connection holds the only place
                status, headers, _ = http_request(server.http_port, "GET", "/")
                self.assertEqual(status, 503)
                self.assertEqual(headers["Connection"], "close")
            time.sleep(0.3)
            self.assertEqual(http_request(server.http_port, "GET", "/")[0], 200)
        finally:
            server.stop()


class WebChatShutdownTest(unittest.TestCase):
    def test_an_idle_keep_alive_connection_does_not_hold_up_shutdown(self):
        """A browser keeps its HTTP connection open between requests; the server stops at
        once, not after the grace period."""
        server = WebChatServer()
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        try:
            conn.request("GET", "/")
            self.assertEqual(conn.getresponse().read()[:15], b"<!DOCTYPE html>")
            self.assertEqual(server.stop(), 0)
            log = server.log()
            self.assertIn("1 connection(s) open", log)
            # The connection was closed at once, not when the grace period ran out.
            self.assertNotIn("grace period over", log)
        finally:
            conn.close()


@unittest.skipIf(websockets is None or xs.slixmpp is None, "python3-websockets or slixmpp missing")
class XmppOverWebSocketTest(unittest.TestCase):
    """RFC 7395 with a raw WebSocket client, and slixmpp over TCP on the other side."""

    @classmethod
    def setUpClass(cls):
        cls.server = WebChatServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    @contextlib.asynccontextmanager
    async def websocket(self, tls=True):
        """A WebSocket to the server, closed at the end of the block."""
        ws = await self.connect(tls)
        try:
            yield ws
        finally:
            await ws.close()

    async def connect(self, tls=True):
        if tls:
            url = f"wss://127.0.0.1:{self.server.https_port}{PATH}"
            return await websockets.client.connect(url, subprotocols=["xmpp"],
                                                   ssl=harness.unverified_context())
        url = f"ws://127.0.0.1:{self.server.http_port}{PATH}"
        return await websockets.client.connect(url, subprotocols=["xmpp"])

    async def recv(self, ws, pattern, timeout=10):
        """The next messages until one matches; each must be one whole element."""
        while True:
            m = await asyncio.wait_for(ws.recv(), timeout)
            self.assertRegex(m, r"^\s*<[^!?]", "a message is one element (RFC 7395 3.3.3)")
            if re.search(pattern, m, re.S):
                return m

    async def open(self, ws):
        await ws.send(f"<open xmlns='{FRAMING}' to='{DOMAIN}' version='1.0'/>")
        opened = await self.recv(ws, r"<open ")
        self.assertIn(f"xmlns='{FRAMING}'", opened)
        self.assertRegex(opened, r"/>\s*$")
        return await self.recv(ws, r"<stream:features")

    async def login(self, ws, user="alice", resource="ws"):
        features = await self.open(ws)
        self.assertIn("xmlns:stream='http://etherx.jabber.org/streams'", features)
        self.assertIn("<mechanism>PLAIN</mechanism>", features)
        token = base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()
        await ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                      f"{token}</auth>")
        await self.recv(ws, r"<success")
        features = await self.open(ws)
        self.assertIn("urn:ietf:params:xml:ns:xmpp-bind", features)
        await ws.send("<iq xmlns='jabber:client' type='set' id='b'>"
                      "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      f"<resource>{resource}</resource></bind></iq>")
        bound = await self.recv(ws, r"<iq ")
        self.assertIn(f"<jid>{user}@{DOMAIN}/{resource}</jid>", bound)
        await ws.send("<presence xmlns='jabber:client'/>")

    def test_messages_both_ways_with_a_tcp_client(self):
        async def scenario():
            bob = await xs.login(self.server, BOB)
            ws = await self.connect()
            try:
                await self.login(ws)
                await ws.send(f"<message xmlns='jabber:client' type='chat' to='{BOB}' id='m1'>"
                              "<body>hello from the browser side</body></message>")
                m = await bob.next_message()
                self.assertEqual(m["body"], "hello from the browser side")
                self.assertEqual(str(m["from"]), f"{ALICE}/ws")
                bob.send_message(mto=ALICE, mbody="hello back over TCP", mtype="chat")
                got = await self.recv(ws, r"hello back over TCP")
                # Every stanza stands alone: its namespace is declared on it.
                self.assertRegex(got, r"^<message[^>]* xmlns='jabber:client'")
                # RFC 7395 3.6: <close/> is answered with <close/>, then the WebSocket closes.
                await ws.send(f"<close xmlns='{FRAMING}'/>")
                await self.recv(ws, r"<close xmlns='" + FRAMING)
                await asyncio.wait_for(ws.wait_closed(), 10)
                self.assertEqual(ws.close_code, 1000)
            finally:
                await ws.close()
                await xs.logout(bob)

        xs.run(scenario())

    def test_offline_delivery_at_login_over_websocket(self):
        async def scenario():
            bob = await xs.login(self.server, BOB)
            try:
                bob.send_message(mto=xs.CAROL, mbody="kept for later", mtype="chat")
                await asyncio.sleep(0.5)  # stored
            finally:
                await xs.logout(bob)
            async with self.websocket() as ws:
                await self.login(ws, user="carol", resource="ws-offline")
                m = await self.recv(ws, r"kept for later")
                self.assertIn("urn:xmpp:delay", m)  # XEP-0203: when it was stored
                self.assertRegex(m, r"^<message[^>]* xmlns='jabber:client'")

        xs.run(scenario())

    def test_archive_query_over_websocket(self):
        """XEP-0313: each archived message comes as a message of its own, then the <fin/>."""
        async def scenario():
            async with self.websocket() as ws:
                await self.login(ws, resource="ws-mam")
                await ws.send(f"<message xmlns='jabber:client' type='chat' to='{xs.CAROL}' "
                              "id='arch1'><body>for the archive</body></message>")
                await asyncio.sleep(0.5)  # the archive is written in groups
                await ws.send("<iq xmlns='jabber:client' type='set' id='q1'>"
                              "<query xmlns='urn:xmpp:mam:2' queryid='f1'/></iq>")
                result = await self.recv(ws, r"for the archive")
                self.assertRegex(result, r"<result xmlns=['\"]urn:xmpp:mam:2['\"]")
                self.assertRegex(result, r"queryid=['\"]f1['\"]")
                fin = await self.recv(ws, r"id=['\"]q1['\"]")
                self.assertRegex(fin, r"^<iq[^>]* xmlns='jabber:client'")
                self.assertRegex(fin, r"<fin xmlns=['\"]urn:xmpp:mam:2['\"] complete=")

        xs.run(scenario())

    def test_stream_resumption_after_a_dropped_websocket(self):
        """XEP-0198 over RFC 7395: the connection drops, a message arrives meanwhile, the
        client resumes on a new WebSocket and gets it."""
        async def scenario():
            bob = await xs.login(self.server, BOB)
            ws = await self.connect()
            try:
                await self.login(ws, resource="ws-sm")
                await ws.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
                enabled = await self.recv(ws, r"<enabled ")
                previd = re.search(r"id='([^']+)'", enabled).group(1)
                ws.transport.abort()  # no closing handshake, no </close>: the network went away
                await asyncio.sleep(0.5)
                bob.send_message(mto=f"{ALICE}/ws-sm", mbody="while you were gone",
                                 mtype="chat")
                await asyncio.sleep(0.5)
                ws = await self.connect()
                await self.open(ws)
                token = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
                await ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                              f"mechanism='PLAIN'>{token}</auth>")
                await self.recv(ws, r"<success")
                await self.open(ws)
                await ws.send(f"<resume xmlns='urn:xmpp:sm:3' h='0' previd='{previd}'/>")
                await self.recv(ws, r"<resumed ")
                await self.recv(ws, r"while you were gone")
            finally:
                await ws.close()
                await xs.logout(bob)

        xs.run(scenario())

    def test_roster_add_and_subscription_seen_by_the_other_side(self):
        async def scenario():
            carol = await xs.login(self.server, xs.CAROL)  # slixmpp approves subscriptions
            ws = await self.connect()
            try:
                await self.login(ws, resource="ws-roster")
                # A resource that asked for the roster gets its pushes (RFC 6121 2.1.6).
                await ws.send("<iq xmlns='jabber:client' type='get' id='rg'>"
                              "<query xmlns='jabber:iq:roster'/></iq>")
                await self.recv(ws, r"id=['\"]rg['\"]")
                await ws.send("<iq xmlns='jabber:client' type='set' id='ra'>"
                              "<query xmlns='jabber:iq:roster'>"
                              f"<item jid='{xs.CAROL}' name='Carol'/></query></iq>")
                push = await self.recv(ws, r"jabber:iq:roster")
                self.assertRegex(push, r"jid=['\"]" + re.escape(xs.CAROL))
                await ws.send(f"<presence xmlns='jabber:client' type='subscribe' to='{xs.CAROL}'/>")
                await self.recv(ws, r"type=['\"]subscribed['\"]")
                # Carol is online: her presence follows the approval.
                seen = await self.recv(ws, r"<presence(?![^>]*type=)[^>]*from=['\"]" +
                                       re.escape(xs.CAROL))
                self.assertRegex(seen, r"^<presence[^>]* xmlns='jabber:client'")
            finally:
                await ws.close()
                await xs.logout(carol)

        xs.run(scenario())

    def test_carbons_to_a_websocket_resource(self):
        """XEP-0280: what alice sends from a TCP client is copied to her WebSocket resource."""
        async def scenario():
            ws = await self.connect()
            alice = None
            try:
                await self.login(ws, resource="ws-carbons")
                await ws.send("<iq xmlns='jabber:client' type='set' id='c1'>"
                              "<enable xmlns='urn:xmpp:carbons:2'/></iq>")
                await self.recv(ws, r"id=['\"]c1['\"]")
                alice = await xs.login(self.server, ALICE)
                alice.send_message(mto=xs.CAROL, mbody="copied to the browser", mtype="chat")
                copy = await self.recv(ws, r"copied to the browser")
                self.assertRegex(copy, r"<sent xmlns=['\"]urn:xmpp:carbons:2['\"]")
            finally:
                await ws.close()
                if alice:
                    await xs.logout(alice)

        xs.run(scenario())

    def test_plain_websocket_without_tls_offers_no_authentication(self):
        """require_tls (the default) holds over ws:// too: no mechanisms, <encryption-required/>."""
        async def scenario():
            async with self.websocket(tls=False) as ws:
                features = await self.open(ws)
                self.assertNotIn("<mechanism>", features)
                token = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
                await ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                              f"mechanism='PLAIN'>{token}</auth>")
                await self.recv(ws, r"<encryption-required/>")

        xs.run(scenario())

    def test_a_stanza_before_authentication_is_a_stream_error_then_close(self):
        async def scenario():
            async with self.websocket() as ws:
                await self.open(ws)
                await ws.send(f"<message xmlns='jabber:client' to='{BOB}'><body>x</body></message>")
                error = await self.recv(ws, r"<stream:error")
                self.assertIn("xmlns:stream='http://etherx.jabber.org/streams'", error)
                self.assertIn("<not-authorized", error)
                await self.recv(ws, r"<close ")
                await asyncio.wait_for(ws.wait_closed(), 10)

        xs.run(scenario())

    def test_billion_laughs_is_restricted_xml(self):
        laughs = ("<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;'>]>"
                  "<message xmlns='jabber:client'><body>&lol2;</body></message>")

        async def scenario():
            async with self.websocket() as ws:
                await self.open(ws)
                await ws.send(laughs)
                error = await self.recv(ws, r"<stream:error")
                self.assertIn("<restricted-xml", error)

        xs.run(scenario())

    def test_a_message_over_max_stanza_size_closes_with_1009(self):
        async def scenario():
            async with self.websocket() as ws:
                await self.login(ws, resource="big")
                await ws.send("<message xmlns='jabber:client' to='bob@example.test'><body>" +
                              "x" * (300 * 1024) + "</body></message>")
                await asyncio.wait_for(ws.wait_closed(), 10)
                self.assertEqual(ws.close_code, 1009)
            # Others are not disturbed.
            async with self.websocket() as ws:
                await self.login(ws, resource="after")

        xs.run(scenario())

    def test_a_message_of_half_an_element_is_not_well_formed(self):
        async def scenario():
            async with self.websocket() as ws:
                await self.open(ws)
                await ws.send("<iq xmlns='jabber:client' type='get' id='1'>")
                error = await self.recv(ws, r"<stream:error")
                self.assertIn("<not-well-formed", error)

        xs.run(scenario())


def chromium_driver():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    from selenium.webdriver.chrome.service import Service
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


@unittest.skipIf(webdriver is None or xs.slixmpp is None or not shutil.which("chromium"),
                 "python3-selenium, chromium or slixmpp missing")
class WebChatPageTest(unittest.TestCase):
    """The web chat page in headless Chromium: SCRAM login, a message out, a reply in."""

    @classmethod
    def setUpClass(cls):
        # The page is served over http:// on loopback, as behind a TLS-terminating proxy.
        cls.server = WebChatServer(web_chat_considered_secure=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_log_in_send_and_receive(self):
        async def scenario():
            loop = asyncio.get_running_loop()
            bob = await xs.login(self.server, BOB)
            browser = await loop.run_in_executor(None, chromium_driver)
            try:
                def log_in():
                    browser.get(f"http://127.0.0.1:{self.server.http_port}/")
                    browser.find_element(By.ID, "jid").send_keys(ALICE)
                    browser.find_element(By.ID, "password").send_keys(PASSWORD)
                    browser.find_element(By.ID, "login-button").click()
                    WebDriverWait(browser, 20).until(
                        EC.text_to_be_present_in_element((By.ID, "status"), f"online as {ALICE}"))
                    browser.find_element(By.ID, "to").send_keys(BOB)
                    browser.find_element(By.ID, "text").send_keys("hi bob, from Chromium")
                    browser.find_element(By.ID, "send").click()

                await loop.run_in_executor(None, log_in)
                m = await bob.next_message(timeout=20)
                self.assertEqual(m["body"], "hi bob, from Chromium")
                self.assertTrue(str(m["from"]).startswith(f"{ALICE}/web-"))
                bob.send_message(mto=m["from"], mbody="hi alice <3 & welcome", mtype="chat")

                def see_reply():
                    WebDriverWait(browser, 20).until(
                        EC.text_to_be_present_in_element((By.ID, "log"), "hi alice <3 & welcome"))
                    return browser.find_element(By.CSS_SELECTOR, "#log li.in .from").text

                self.assertEqual(await loop.run_in_executor(None, see_reply), BOB)
            finally:
                await loop.run_in_executor(None, browser.quit)
                await xs.logout(bob)

        xs.run(scenario(), timeout=120)

    def test_a_wrong_password_is_said_so(self):
        def attempt():
            browser = chromium_driver()
            try:
                browser.get(f"http://127.0.0.1:{self.server.http_port}/")
                browser.find_element(By.ID, "jid").send_keys(ALICE)
                browser.find_element(By.ID, "password").send_keys("not the password")
                browser.find_element(By.ID, "login-button").click()
                WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element(
                    (By.ID, "status"), "wrong address or password"))
                return browser.find_element(By.ID, "chat").is_displayed()
            finally:
                browser.quit()

        self.assertFalse(attempt())


if __name__ == "__main__":
    unittest.main()

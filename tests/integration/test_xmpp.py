"""The xmpp plugin driven by slixmpp (Debian's python3-slixmpp, an independent XMPP library)
against the real `portico` binary: SCRAM over STARTTLS and direct TLS, rosters and presence
subscriptions, messages between local users, offline delivery, carbons, the archive, blocking,
vCards; and raw TLS connections for the bad input no library sends (a billion laughs, a 10 MB
stanza, unclosed tags, a stanza for another domain, a broken SASL exchange), each answered with
its stream or stanza error while other clients carry on."""

import asyncio
import base64
import re
import time
import unittest

import harness
from xmpp_support import (ALICE, BOB, CAROL, DOMAIN, PASSWORD, Client, RawStream, XmppServer,
                          login, logout, run, slixmpp)


class ServerTest(unittest.TestCase):
    """One server for the tests of a class."""

    @classmethod
    def setUpClass(cls):
        cls.server = XmppServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()


@unittest.skipIf(slixmpp is None, "python3-slixmpp is not installed")
class XmppTest(ServerTest):
    def unblock_all(self, account):
        async def scenario():
            c = await login(self.server, f"{account}/cleanup", presence=False, roster=False)
            await c["xep_0191"].unblock([])
            await logout(c)
        run(scenario())

    def test_scram_login_over_starttls_and_direct_tls(self):
        async def scenario():
            for mech, direct in (("SCRAM-SHA-256", False), ("SCRAM-SHA-1", True),
                                 ("PLAIN", False)):
                c = await login(self.server, f"{CAROL}/{mech}", mechanism=mech, direct_tls=direct,
                                presence=False, roster=False)
                self.assertEqual(str(c.boundjid), f"{CAROL}/{mech}")
                self.assertTrue(c.is_connected())
                await logout(c)
        run(scenario())

    def test_wrong_password_is_refused(self):
        async def scenario():
            with self.assertRaises(PermissionError):
                c = await login(self.server, f"{CAROL}/x", password="wrong", presence=False,
                                roster=False)
                await logout(c)
        run(scenario())
        self.assertTrue(self.server.alive())

    def test_message_between_two_users(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/desk")
            bob = await login(self.server, f"{BOB}/phone")
            alice.send_message(mto=f"{BOB}/phone", mbody="hello bob", mtype="chat")
            m = await bob.next_message()
            self.assertEqual(m["body"], "hello bob")
            self.assertEqual(str(m["from"]), f"{ALICE}/desk")
            self.assertEqual(m["type"], "chat")
            bob.send_message(mto=ALICE, mbody="hi alice", mtype="chat")
            m = await alice.next_message()
            self.assertEqual(m["body"], "hi alice")
            self.assertEqual(str(m["from"]), f"{BOB}/phone")
            await logout(alice, bob)
        run(scenario())

    def test_subscription_and_presence(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/sub")
            bob = await login(self.server, f"{BOB}/sub")
            alice.auto_authorize = True
            bob.auto_authorize = True
            bob.auto_subscribe = False
            alice.send_presence_subscription(pto=BOB)
            # bob's client approves; alice then sees bob's presence.
            deadline = asyncio.get_running_loop().time() + 10
            seen = None
            while seen is None:
                p = await asyncio.wait_for(alice.presences.get(),
                                           deadline - asyncio.get_running_loop().time())
                if p["from"].bare == BOB:
                    seen = p
            self.assertEqual(str(seen["from"]), f"{BOB}/sub")
            await alice.get_roster()
            self.assertIn(alice.client_roster[BOB]["subscription"], ("to", "both"))
            await bob.get_roster()
            self.assertIn(bob.client_roster[ALICE]["subscription"], ("from", "both"))
            await logout(alice, bob)
            # The roster is stored: a new login finds it.
            again = await login(self.server, f"{ALICE}/again")
            self.assertIn(again.client_roster[BOB]["subscription"], ("to", "both"))
            await logout(again)
        run(scenario())

    def test_offline_message_is_delivered_at_next_login(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/off")
            alice.send_message(mto=CAROL, mbody="while you were out", mtype="chat")
            await asyncio.sleep(0.5)
            carol = await login(self.server, f"{CAROL}/back")
            m = await carol.next_message()
            self.assertEqual(m["body"], "while you were out")
            self.assertEqual(m["from"].bare, ALICE)
            self.assertTrue(m["delay"]["stamp"], "an offline message carries its delay")
            await logout(alice, carol)
        run(scenario())

    def test_carbons_reach_the_second_resource(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/c1")
            bob1 = await login(self.server, f"{BOB}/one")
            bob2 = await login(self.server, f"{BOB}/two")
            await bob2["xep_0280"].enable()
            alice.send_message(mto=f"{BOB}/one", mbody="carbon copy me", mtype="chat")
            m = await bob1.next_message()
            self.assertEqual(m["body"], "carbon copy me")
            kind, carbon = await asyncio.wait_for(bob2.carbons.get(), 10)
            self.assertEqual(kind, "received")
            self.assertEqual(carbon["carbon_received"]["body"], "carbon copy me")
            bob1.send_message(mto=ALICE, mbody="sent from one", mtype="chat")
            kind, carbon = await asyncio.wait_for(bob2.carbons.get(), 10)
            self.assertEqual(kind, "sent")
            self.assertEqual(carbon["carbon_sent"]["body"], "sent from one")
            await logout(alice, bob1, bob2)
        run(scenario())

    def test_archive_query(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/mam")
            bob = await login(self.server, f"{BOB}/mam")
            for i in range(3):
                alice.send_message(mto=f"{BOB}/mam", mbody=f"archived {i}", mtype="chat")
                await bob.next_message()
            results = []
            async for rsm_page in bob["xep_0313"].retrieve(with_jid=slixmpp.JID(ALICE),
                                                          iterator=True, rsm={"max": 2}):
                for m in rsm_page["mam"]["results"]:
                    results.append(m["mam_result"]["forwarded"]["stanza"]["body"])
            self.assertEqual([b for b in results if b.startswith("archived")][-3:],
                             ["archived 0", "archived 1", "archived 2"])
            await logout(alice, bob)
        run(scenario())

    def test_blocking(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/blk")
            carol = await login(self.server, f"{CAROL}/blk")
            await carol["xep_0191"].block(ALICE)
            self.addCleanup(self.unblock_all, CAROL)
            blocked = await carol["xep_0191"].get_blocked()
            self.assertIn(ALICE, {str(j) for j in blocked["blocklist"]["items"]})
            alice.send_message(mto=f"{CAROL}/blk", mbody="can you hear me", mtype="chat")
            m = await alice.next_message()
            self.assertEqual(m["type"], "error")
            self.assertEqual(m["error"]["condition"], "service-unavailable")
            await carol["xep_0191"].unblock(ALICE)
            alice.send_message(mto=f"{CAROL}/blk", mbody="and now", mtype="chat")
            m = await carol.next_message()
            self.assertEqual(m["body"], "and now")
            await logout(alice, carol)
        run(scenario())

    def test_stream_resumption_after_a_dropped_connection(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/sm")
            bob = Client(f"{BOB}/sm")
            bob.register_plugin("xep_0198")
            enabled = asyncio.get_running_loop().create_future()
            resumed = asyncio.get_running_loop().create_future()
            bob.add_event_handler("sm_enabled", lambda _: enabled.done() or enabled.set_result(1))
            bob.add_event_handler("session_resumed",
                                  lambda _: resumed.done() or resumed.set_result(1))
            bob.connect(address=("127.0.0.1", self.server.c2s_port), force_starttls=True)
            await asyncio.wait_for(bob.started, 15)
            bob.send_presence()
            await asyncio.wait_for(enabled, 10)
            self.assertTrue(bob["xep_0198"].sm_id)
            alice.send_message(mto=f"{BOB}/sm", mbody="before the drop", mtype="chat")
            self.assertEqual((await bob.next_message())["body"], "before the drop")
            # The TCP connection dies without a closing stream tag.
            bob.transport.abort()
            await asyncio.wait_for(bob.disconnected, 10)
            await asyncio.sleep(0.3)
            alice.send_message(mto=f"{BOB}/sm", mbody="while you were gone", mtype="chat")
            await asyncio.sleep(0.3)
            bob.connect(address=("127.0.0.1", self.server.c2s_port), force_starttls=True)
            await asyncio.wait_for(resumed, 15)
            m = await bob.next_message()
            self.assertEqual(m["body"], "while you were gone")
            self.assertEqual(str(bob.boundjid), f"{BOB}/sm")
            # The resumed session is routed to as before.
            alice.send_message(mto=f"{BOB}/sm", mbody="after", mtype="chat")
            self.assertEqual((await bob.next_message())["body"], "after")
            await logout(alice, bob)
        run(scenario())

    def test_vcard_name_and_version_and_ping(self):
        async def scenario():
            bob = await login(self.server, f"{BOB}/vc")
            card = await bob["xep_0054"].get_vcard(ALICE)
            self.assertEqual(card["vcard_temp"]["FN"], "Alice Liddell")
            version = await bob["xep_0092"].get_version(DOMAIN)
            self.assertEqual(version["software_version"]["name"], "Portico")
            rtt = await bob["xep_0199"].ping(DOMAIN, timeout=5)
            self.assertGreaterEqual(rtt, 0)
            info = await bob["xep_0030"].get_info(DOMAIN)
            features = info["disco_info"]["features"]
            for f in ("urn:xmpp:carbons:2", "urn:xmpp:blocking", "urn:xmpp:ping"):
                self.assertIn(f, features)
            await logout(bob)
        run(scenario())


@unittest.skipIf(slixmpp is None, "python3-slixmpp is not installed")
class XmppBadInputTest(ServerTest):
    """Raw streams: each abuse gets its error; a logged-in slixmpp client is undisturbed."""

    def stream(self):
        s = RawStream(self.server)
        self.addCleanup(s.close)
        return s

    def test_billion_laughs_is_restricted_xml(self):
        s = self.stream()
        lol = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>" + "".join(
            f"<!ENTITY lol{i} '{('&lol%s;' % (i - 1 if i > 1 else '')) * 10}'>" for i in range(1, 10)
        ) + "]><stream:stream to='example.test' version='1.0' xmlns='jabber:client' " \
            "xmlns:stream='http://etherx.jabber.org/streams'>&lol9;"
        s.send(lol)
        s.read_until(r"<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
        self.assertTrue(s.closed())

    def test_ten_megabyte_stanza_is_a_policy_violation(self):
        s = self.stream()
        s.login()
        s.send("<message to='bob@example.test'><body>")
        try:
            for _ in range(160):
                s.send("x" * 65536)
        except OSError:
            pass  # the server closed the connection while the stanza was still coming
        s.read_until(r"<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
        self.assertTrue(s.closed())
        self.assertTrue(self.server.alive())

    def test_unclosed_tags_are_not_well_formed(self):
        s = self.stream()
        s.login()
        s.send("<message to='bob@example.test'><body>open</stream:stream>")
        s.read_until(r"<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
        self.assertTrue(s.closed())

    def test_stanza_to_another_domain_gets_remote_server_not_found(self):
        s = self.stream()
        s.login()
        s.send("<message to='someone@elsewhere.example' id='m1' type='chat'><body>hi</body>"
               "</message>")
        s.read_until(r"remote-server-not-found")
        self.assertIn("type='error'", s.buffer.replace('"', "'"))
        # The stream stays up: a ping is answered.
        s.send("<iq type='get' id='p1' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        s.read_until(r"id=.p1.")

    def test_bad_sasl_exchange_gets_sasl_failures(self):
        s = self.stream()
        s.open()
        s.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!notbase64"
               "</auth>")
        s.read_until(r"<incorrect-encoding/>")
        s.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-UNKNOWN'/>")
        s.read_until(r"<invalid-mechanism/>")
        token = base64.b64encode(b"\0alice\0wrong password").decode()
        s.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        s.read_until(r"<not-authorized/>")
        s.send("<message to='bob@example.test'><body>sneaky</body></message>")
        s.read_until(r"<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
        self.assertTrue(s.closed())

    def test_others_carry_on_during_abuse(self):
        async def scenario():
            alice = await login(self.server, f"{ALICE}/calm")
            bob = await login(self.server, f"{BOB}/calm")
            s = self.stream()
            s.send("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'a'>]><x/>")
            alice.send_message(mto=f"{BOB}/calm", mbody="still here", mtype="chat")
            m = await bob.next_message()
            self.assertEqual(m["body"], "still here")
            await logout(alice, bob)
        run(scenario())

    def test_a_stream_goes_on_after_its_parser_is_freed(self):
        # Between stanzas the server frees the stream's parser (after each read); the stream,
        # idle a while, goes on as if nothing happened.
        s = self.stream()
        s.login()
        s.send("<iq type='get' id='p0' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        s.read_until(r"id=.p0.")
        time.sleep(4.5)
        s.send("<iq type='get' id='p1' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        s.read_until(r"id=.p1.")
        s.send("<iq type='get' id='p2' to='example.test'><query "
               "xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        s.read_until(r"urn:xmpp:ping.*</iq>")

    def test_every_stream_gets_a_new_id(self):
        s = self.stream()
        first = re.search(r"<stream:stream[^>]* id='([^']+)'", s.open()).group(1)
        token = base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode()
        s.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        s.read_until(r"<success")
        s.buffer = ""
        second = re.search(r"<stream:stream[^>]* id='([^']+)'", s.open()).group(1)
        self.assertNotEqual(first, second, "RFC 6120 4.7.3: a restarted stream has a new id")

    def test_a_resource_ended_by_a_stream_error_is_announced_unavailable(self):
        watcher = self.stream()
        watcher.login(resource="watcher")
        watcher.send("<presence/>")
        doomed = self.stream()
        doomed.login(resource="doomed")
        doomed.send("<presence/>")
        watcher.read_until(r"<presence[^>]*from=.alice@example.test/doomed.")
        doomed.send("<message><body>unclosed</stream:stream>")  # not well-formed
        doomed.read_until(r"<not-well-formed")
        watcher.read_until(r"<presence[^>]*from=.alice@example.test/doomed.[^>]*"
                           r"type=.unavailable.")

    def test_plain_listener_requires_starttls(self):
        c = harness.LineClient(self.server.c2s_port)
        self.addCleanup(c.close)
        c.send_raw(b"<stream:stream to='example.test' version='1.0' xmlns='jabber:client' "
                   b"xmlns:stream='http://etherx.jabber.org/streams'>")
        data = b""
        while b"</stream:features>" not in data:
            chunk = c.sock.recv(4096)
            self.assertTrue(chunk)
            data += chunk
        self.assertIn(b"<required/>", data)
        self.assertNotIn(b"<mechanisms", data)


@unittest.skipIf(slixmpp is None, "python3-slixmpp is not installed")
class XmppBlockListAfterRestartTest(ServerTest):
    """Block lists are kept (XEP-0191): after a restart they hold before the blocking user has
    done anything, and for messages to a user who is not connected."""

    def test_block_list_holds_after_a_restart_and_while_offline(self):
        async def block():
            carol = await login(self.server, f"{CAROL}/r")
            await carol["xep_0191"].block(ALICE)
            await logout(carol)
        run(block())
        self.server.stop()
        self.server.start()

        async def scenario():
            alice = await login(self.server, f"{ALICE}/r")
            # carol is not connected: the message would go to offline storage.
            alice.send_message(mto=CAROL, mbody="offline and blocked", mtype="chat")
            m = await alice.next_message()
            self.assertEqual(m["type"], "error")
            self.assertEqual(m["error"]["condition"], "service-unavailable")
            carol = await login(self.server, f"{CAROL}/r")
            alice.send_message(mto=f"{CAROL}/r", mbody="online and blocked", mtype="chat")
            m = await alice.next_message()
            self.assertEqual(m["type"], "error")
            with self.assertRaises(asyncio.TimeoutError):
                await carol.next_message(timeout=1)
            await logout(alice, carol)
        run(scenario())


class XmppServerPingTest(unittest.TestCase):
    """XEP-0199 from the server's side: a client silent for ping_interval gets a ping."""

    @classmethod
    def setUpClass(cls):
        cls.server = XmppServer(ping_interval="10s")

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_a_silent_client_is_pinged_and_stays_when_it_answers(self):
        s = RawStream(self.server)
        self.addCleanup(s.close)
        s.login()
        # Up to two intervals: the first tick only notes that the client was heard from.
        s.read_until(r"<iq[^>]*type=.get.[^>]*>\s*<ping xmlns=.urn:xmpp:ping.", timeout=25)
        ping_id = re.search(r"<iq[^>]*id=.(ping-[^'\"]+)", s.buffer).group(1)
        s.send(f"<iq type='result' id='{ping_id}' to='example.test'/>")
        s.send("<iq type='get' id='after' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        s.read_until(r"id=.after.")


if __name__ == "__main__":
    unittest.main()

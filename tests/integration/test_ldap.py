"""The ldap plugin driven by real clients: OpenLDAP's ldapsearch, ldapwhoami, ldapcompare and
ldapdelete (Debian's ldap-utils) and python3-ldap3 (an independent implementation), against the
real `portico` binary with the directory filled through the CLI. Also raw sockets for what no
client sends: a PDU cut in half, one claiming a 2 GB length."""

import os
import re
import socket
import ssl
import subprocess
import time
import unittest

import harness

try:
    import ldap3
except ImportError:  # pragma: no cover - python3-ldap3 is installed by scripts/deps.sh
    ldap3 = None

PLUGINS = os.path.join(harness.BUILD_DIR, "plugins")
PASSWORD = "correct horse battery staple"
BASE = "dc=example,dc=test"
ALICE = "uid=alice,ou=people,dc=example,dc=test"
BOB = "uid=bob,ou=people,dc=example,dc=test"
CAROL = "uid=carol,ou=people,dc=example,dc=test"


class LdapServer(harness.PorticoServer):
    """portico with the ldap plugin (a StartTLS listener and an implicit-TLS one), the domains
    example.test and other.test, and a few people with address-book attributes."""

    def __init__(self, **settings):
        self.ldap_port, self.ldaps_port = harness.free_ports(2)
        section = {
            "enabled": True,
            "listeners": [harness.listener(self.ldap_port, "starttls"),
                          harness.listener(self.ldaps_port, "implicit")],
            "command_timeout": "3s",
            "session_timeout": "20s",
        }
        section.update(settings)
        super().__init__(plugins={"ldap": section}, plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", "example.test")
        self.run("domain", "add", "other.test")
        people = {
            "alice@example.test": ["--given-name", "Alice", "--surname", "Smith", "--title",
                                   "Engineer", "--department", "R&D", "--phone", "+1 555 0100"],
            "bob@example.test": ["--given-name", "Bob", "--surname", "Jones"],
            "carol@example.test": ["--display-name", "Carol Smithers"],
            "dave@other.test": ["--given-name", "Dave", "--surname", "Smith"],
        }
        for address, attributes in people.items():
            self.run("user", "add", address, "--password-stdin", input_text=PASSWORD)
            self.run("user", "set", address, *attributes)
        self.run("alias", "add", "sales@example.test", "alice@example.test", "bob@example.test")
        self.start()

    def listeners(self, protocol="ldap"):
        return super().listeners(protocol)

    def url(self, tls=False):
        return f"ldaps://127.0.0.1:{self.ldaps_port}" if tls else f"ldap://127.0.0.1:{self.ldap_port}"


def ldap_env():
    env = dict(os.environ)
    env["LDAPTLS_REQCERT"] = "never"  # the server's certificate is its own, self-signed
    return env


def tool(*args, timeout=30, input_text=""):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          env=ldap_env(), input=input_text)


def dns(ldif):
    return set(re.findall(r"^dn: (.*)$", ldif, flags=re.M))


class ServerTest(unittest.TestCase):
    """One server per test class, with the class's `settings` for the ldap plugin."""

    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.server = LdapServer(**cls.settings)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()


class LdapUtilsTest(ServerTest):
    def search(self, filter_text, *extra, who=ALICE, base=BASE):
        r = tool("ldapsearch", "-x", "-ZZ", "-H", self.server.url(), "-D", who, "-w", PASSWORD,
                 "-b", base, "-LLL", *extra, filter_text, "1.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        return dns(r.stdout)

    def test_each_filter_kind_over_starttls(self):
        self.assertEqual(self.search("(mail=ALICE@example.test)"), {ALICE})
        self.assertEqual(self.search("(cn=*smi*)"), {ALICE, CAROL})
        self.assertEqual(self.search("(&(objectClass=person)(sn>=J))"), {ALICE, BOB})
        self.assertEqual(self.search("(&(objectClass=person)(givenName<=B))"), {ALICE})
        self.assertEqual(self.search("(givenName~=bob)"), {BOB})
        self.assertEqual(self.search("(&(title=*)(!(uid=bob)))"), {ALICE})
        self.assertEqual(self.search("(|(uid=bob)(uid=carol))"), {BOB, CAROL})
        self.assertEqual(self.search("(telephoneNumber=+15550100)"), {ALICE})
        self.assertEqual(self.search("(sn:caseExactMatch:=Smith)"), {ALICE})
        self.assertEqual(self.search("(rfc822MailMember=bob@example.test)"),
                         {"cn=sales,ou=aliases,dc=example,dc=test"})
        # Bob sees his own domain only: dave of other.test stays out of reach.
        self.assertEqual(self.search("(sn=smith)", who="bob@example.test"), {ALICE})

    def test_whoami_and_a_wrong_password(self):
        r = tool("ldapwhoami", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "dn:" + ALICE)
        r = tool("ldapwhoami", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", "wrong")
        self.assertEqual(r.returncode, 49, r.stdout + r.stderr)
        self.assertIn("Invalid credentials", r.stderr)

    def test_password_before_tls_and_anonymous_are_refused(self):
        r = tool("ldapwhoami", "-x", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD)
        self.assertEqual(r.returncode, 13, r.stdout + r.stderr)  # confidentialityRequired
        r = tool("ldapsearch", "-x", "-ZZ", "-H", self.server.url(), "-b", BASE, "(uid=alice)")
        self.assertEqual(r.returncode, 48, r.stdout + r.stderr)  # inappropriateAuthentication

    def test_paging_and_sorting(self):
        r = tool("ldapsearch", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD,
                 "-b", BASE, "-LLL", "-E", "pr=1/noprompt", "-E", "sss=cn",
                 "(objectClass=inetOrgPerson)", "cn")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(re.findall(r"^cn: (.*)$", r.stdout, flags=re.M),
                         ["Alice Smith", "Bob Jones", "Carol Smithers"])

    def test_virtual_list_view(self):
        # Outlook's address book: sorted by cn, a window around the first name >= "b".
        # ldapsearch then asks on stdin for the next window: "q" is not one, and it stops.
        r = tool("ldapsearch", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD,
                 "-b", BASE, "-E", "sss=cn", "-E", "vlv=0/1:b", "(objectClass=inetOrgPerson)",
                 "cn", input_text="q\n")
        self.assertEqual(re.findall(r"^cn: (.*)$", r.stdout, flags=re.M),
                         ["Bob Jones", "Carol Smithers"], r.stderr)
        self.assertIn("vlvResult: pos=2 count=3 context= (0) Success", r.stdout)

    def test_compare_and_refused_writes(self):
        r = tool("ldapcompare", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD,
                 BOB, "sn:JONES")
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)  # compareTrue
        r = tool("ldapdelete", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD,
                 BOB)
        self.assertEqual(r.returncode, 53, r.stdout + r.stderr)
        self.assertIn("unwilling to perform", r.stderr.lower())

    def test_a_cli_change_is_seen_at_once(self):
        self.server.run("user", "set", "bob@example.test", "--title", "Boss")
        self.assertEqual(self.search("(title=boss)"), {BOB})


class RawPduTest(ServerTest):
    def read_all(self, sock, limit=10.0):
        sock.settimeout(limit)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return data, False
            if not chunk:
                return data, True
            data += chunk

    def test_a_pdu_claiming_2_gb_gets_a_notice_of_disconnection(self):
        with socket.create_connection(("127.0.0.1", self.server.ldap_port), timeout=10) as s:
            s.sendall(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01")
            data, closed = self.read_all(s)
        self.assertTrue(closed)
        self.assertIn(b"1.3.6.1.4.1.1466.20036", data)  # the notice's name
        self.assertEqual(data[:2], b"\x30" + bytes([len(data) - 2]))
        self.assertIn(b"\x0a\x01\x02", data)  # resultCode protocolError

    def test_a_pdu_cut_in_half_times_out_with_a_notice(self):
        bind = bytes.fromhex("300c020101600702010304008000")
        with socket.create_connection(("127.0.0.1", self.server.ldap_port), timeout=10) as s:
            s.sendall(bind[:7])
            started = time.monotonic()
            data, closed = self.read_all(s)
        self.assertTrue(closed)
        self.assertGreater(time.monotonic() - started, 2.0)  # the command timeout, 3 s
        self.assertIn(b"1.3.6.1.4.1.1466.20036", data)
        self.assertIn(b"\x0a\x01\x34", data)  # unavailable
        # The server goes on serving.
        r = tool("ldapwhoami", "-x", "-ZZ", "-H", self.server.url(), "-D", ALICE, "-w", PASSWORD)
        self.assertEqual(r.returncode, 0, r.stderr)


@unittest.skipIf(ldap3 is None, "python3-ldap3 is not installed")
class Ldap3Test(ServerTest):
    """python3-ldap3 over LDAPS, with the queries Thunderbird sends."""

    settings = {"visible_domains": "all"}

    def connect(self, user=ALICE, password=PASSWORD):
        tls = ldap3.Tls(validate=ssl.CERT_NONE)
        server = ldap3.Server("127.0.0.1", port=self.server.ldaps_port, use_ssl=True, tls=tls,
                              get_info=ldap3.NONE)
        return ldap3.Connection(server, user=user, password=password, auto_bind=False,
                                raise_exceptions=False)

    def test_thunderbird_query(self):
        c = self.connect()
        self.assertTrue(c.bind(), c.result)
        c.search(BASE, "(|(cn=*smi*)(mail=*smi*)(givenName=*smi*)(sn=*smi*))",
                 attributes=["cn", "mail", "telephoneNumber"])
        self.assertEqual(c.result["result"], 0, c.result)
        found = {str(e.entry_dn): e for e in c.entries}
        self.assertEqual(set(found), {ALICE, CAROL})
        self.assertEqual(found[ALICE]["telephoneNumber"].values, ["+1 555 0100"])
        # With visible_domains: all, a search from the root reaches other.test too.
        c.search("dc=other,dc=test", "(sn=smith)", attributes=["mail"])
        self.assertEqual([e.entry_dn for e in c.entries], ["uid=dave,ou=people,dc=other,dc=test"])
        c.unbind()

    def test_wrong_password_and_who_am_i(self):
        c = self.connect(password="nope")
        self.assertFalse(c.bind())
        self.assertEqual(c.result["result"], 49)
        c = self.connect(user="carol@example.test")
        self.assertTrue(c.bind(), c.result)
        self.assertEqual(c.extend.standard.who_am_i(), "dn:uid=carol,ou=people,dc=example,dc=test")
        c.unbind()

    def test_paged_search_returns_everything_once(self):
        c = self.connect()
        self.assertTrue(c.bind())
        entries = c.extend.standard.paged_search(BASE, "(objectClass=*)", attributes=["cn"],
                                                 paged_size=2, generator=False)
        names = [e["dn"] for e in entries if e.get("type") == "searchResEntry"]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn(ALICE, names)
        self.assertIn("ou=people,dc=example,dc=test", names)
        self.assertEqual(len(names), 1 + 3 + 3 + 1)  # base, 3 ou, 3 people, 1 alias
        c.unbind()

    def test_root_dse_without_a_bind(self):
        c = self.connect(user=None, password=None)
        c.open()
        c.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["+"])
        self.assertEqual(c.result["result"], 0, c.result)
        dse = c.entries[0]
        self.assertEqual(set(dse["namingContexts"].values), {BASE, "dc=other,dc=test"})
        self.assertIn("1.3.6.1.4.1.4203.1.11.3", dse["supportedExtension"].values)
        self.assertIn("1.2.840.113556.1.4.319", dse["supportedControl"].values)
        # No bind, anonymous access off: nothing else.
        c.search(BASE, "(objectClass=*)")
        self.assertEqual(c.result["result"], 8, c.result)  # strongerAuthRequired
        c.unbind()

    def test_write_is_refused(self):
        c = self.connect()
        self.assertTrue(c.bind())
        c.modify(ALICE, {"title": [(ldap3.MODIFY_REPLACE, ["Boss"])]})
        self.assertEqual(c.result["result"], 53)
        c.unbind()


if __name__ == "__main__":
    unittest.main()

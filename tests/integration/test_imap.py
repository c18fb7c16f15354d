"""imap against a real client library: Python's imaplib over STARTTLS and implicit TLS (LOGIN,
AUTHENTICATE PLAIN, SELECT/EXAMINE, FETCH of every item, STORE, SEARCH, APPEND, COPY, MOVE,
EXPUNGE and their UID variants, CREATE/RENAME/DELETE/LIST/STATUS), IDLE over a raw TLS socket
woken by an SMTP delivery and by another session's flag change, a 5 MB message fetched intact,
a 50 MB APPEND and parts of a 20 MB message read with the server's memory measured, SORT and
THREAD, a
QRESYNC resynchronisation after another session's changes, and mbsync
(Debian's isync) syncing a 500-message mailbox both ways, then once more with nothing to do."""

import imaplib
import os
import glob
import re
import shutil
import smtplib
import subprocess
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from pop_support import DOMAIN, PASSWORD, PLUGINS, PopServer, message  # noqa: E402
from smtp_support import SmtpServer  # noqa: E402

ALICE = f"alice@{DOMAIN}"
THREE = [message("first"),
         message("second", body="Shall we meet?\r\n", sender="carol@remote.test"),
         message("third", body="".join(f"line {i}\r\n" for i in range(1, 11)))]


def imap_settings(port, tls_port, **overrides):
    section = {
        "enabled": True,
        "listeners": [harness.listener(port, "starttls"), harness.listener(tls_port, "implicit")],
        "banner": "#HostName# IMAP test",
        "command_timeout": "20s",
        "session_timeout": "30s",
    }
    section.update(overrides)
    return section


def login(srv, implicit=False):
    if implicit:
        m = imaplib.IMAP4_SSL("127.0.0.1", srv.imap_tls_port,
                              ssl_context=harness.unverified_context(), timeout=10)
    else:
        m = imaplib.IMAP4("127.0.0.1", srv.imap_port, timeout=10)
        m.starttls(ssl_context=harness.unverified_context())
    m.login(ALICE, PASSWORD)
    return m


class Server(PopServer):
    """portico with the imap plugin alone (a STARTTLS listener and an implicit-TLS one), alice
    and bob, and alice's INBOX filled through `portico import --maildir`."""

    def __init__(self, mailboxes=None):
        self.imap_port, self.imap_tls_port = harness.free_ports(2)
        harness.PorticoServer.__init__(
            self, plugins={"imap": imap_settings(self.imap_port, self.imap_tls_port)},
            plugin_dir=PLUGINS, start=False)
        self.run("domain", "add", DOMAIN)
        for user in ("alice", "bob"):
            self.run("user", "add", f"{user}@{DOMAIN}", "--password-stdin", input_text=PASSWORD)
        for user, messages in (mailboxes or {}).items():
            self.import_messages(user, messages)
        self.start()


class ImaplibTest(unittest.TestCase):
    def test_starttls_login_and_every_fetch_item(self):
        with Server(mailboxes={"alice": THREE}) as srv:
            m = imaplib.IMAP4("127.0.0.1", srv.imap_port, timeout=10)
            self.assertIn(b"IMAP test", m.welcome)
            self.assertIn("LOGINDISABLED", m.capabilities)
            self.assertIn("STARTTLS", m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error):
                m.login(ALICE, PASSWORD)  # no password before TLS
            m.starttls(ssl_context=harness.unverified_context())
            self.assertNotIn("LOGINDISABLED", m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error):
                m.login(ALICE, "wrong")
            typ, _ = m.login(ALICE, PASSWORD)
            self.assertEqual(typ, "OK")
            typ, data = m.select("INBOX")
            self.assertEqual((typ, data), ("OK", [b"3"]))
            typ, data = m.fetch("1:3", "(UID FLAGS RFC822.SIZE)")
            sizes = [int(re.search(rb"RFC822.SIZE (\d+)", d).group(1)) for d in data]
            self.assertEqual(sizes, [len(x) for x in THREE])
            for i, expected in enumerate(THREE, start=1):
                typ, data = m.fetch(str(i), "(BODY.PEEK[])")
                self.assertEqual(data[0][1], expected)
            typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(data[0][1], b"Subject: second\r\n\r\n")
            typ, data = m.fetch("3", "(BODY.PEEK[TEXT]<0.6>)")
            self.assertEqual(data[0][1], b"line 1")
            typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE INTERNALDATE)")
            self.assertIn(b'"first"', data[0])
            self.assertIn(b'("TEXT" "PLAIN"', data[0].upper())
#Nothing read so far : PEEK leaves \Seen alone; RFC822 sets it.
            typ, data = m.fetch("1:3", "(FLAGS)")
            self.assertNotIn(b"\\Seen", b"".join(data))
            typ, data = m.fetch("1", "(RFC822)")
            self.assertEqual(data[0][1], THREE[0])
            typ, data = m.fetch("1", "(FLAGS)")
            self.assertIn(b"\\Seen", data[0])
            m.logout()

    def test_store_search_copy_move_expunge_and_uid_variants(self):
        with Server(mailboxes={"alice": THREE}) as srv:
            m = login(srv, implicit=True)
            m.select("INBOX")
            typ, data = m.store("2", "+FLAGS", "(\\Flagged $Work)")
            self.assertIn(b"\\Flagged", data[0])
            self.assertIn(b"$Work", data[0])
            self.assertEqual(m.search(None, "FLAGGED")[1], [b"2"])
            self.assertEqual(m.search(None, "KEYWORD", "$Work")[1], [b"2"])
            self.assertEqual(m.search(None, "FROM", "carol")[1], [b"2"])
            self.assertEqual(m.search(None, "BODY", '"line 7"')[1], [b"3"])
            self.assertEqual(m.search(None, "NOT", "FLAGGED")[1], [b"1 3"])
            self.assertEqual(m.search(None, "OR", "SUBJECT", "first", "SUBJECT", "third")[1],
                             [b"1 3"])
            typ, data = m.uid("SEARCH", None, "ALL")
            uids = data[0].split()
            self.assertEqual(len(uids), 3)
            m.create("Archive")
            typ, data = m.uid("COPY", uids[0].decode(), "Archive")
            self.assertEqual(typ, "OK")
            code = m.response("COPYUID")[1][0].split()  # the tagged OK's response code
            self.assertEqual(code[1:], [uids[0], b"1"])
            typ, data = m.uid("MOVE", uids[2].decode(), "Archive")
            self.assertEqual(typ, "OK")
            self.assertEqual(m.response("EXPUNGE")[1], [b"3"])  # RFC 6851: the moved one
            self.assertEqual(m.status("Archive", "(MESSAGES)")[1],
                             [b'Archive (MESSAGES 2)'])
            self.assertEqual(m.search(None, "ALL")[1], [b"1 2"])
            m.store("1", "+FLAGS", "(\\Deleted)")
            typ, data = m.expunge()
            self.assertEqual(data, [b"1"])
            self.assertEqual(m.search(None, "ALL")[1], [b"1"])
            typ, data = m.uid("FETCH", uids[1].decode(), "(BODY.PEEK[])")
            self.assertEqual(data[0][1], THREE[1])
#APPEND with flags and a date, then the message is there as sent.
            new = message("appended", body="appended body\r\n")
            typ, data = m.append("Archive", "(\\Seen)", imaplib.Time2Internaldate(1700000000),
                                 new)
            self.assertEqual(typ, "OK")
            self.assertEqual(m.response("APPENDUID")[1][0].split()[1], b"3")
            m.select("Archive", readonly=True)
            typ, data = m.search(None, "SUBJECT", "appended")
            self.assertEqual(data, [b"3"])
            typ, data = m.fetch("3", "(FLAGS BODY.PEEK[])")
            self.assertIn(b"\\Seen", data[0][0])
            self.assertEqual(data[0][1], new)
            self.assertEqual(m.store("1", "+FLAGS", "(\\Deleted)")[0], "NO")  # EXAMINE
            m.close()
            self.assertEqual(m.rename("Archive", "Old")[0], "OK")
            typ, data = m.list()
            names = [d.split(b' "/" ')[1] for d in data]
            self.assertIn(b"INBOX", names)
            self.assertIn(b"Old", names)
            self.assertEqual(m.delete("Old")[0], "OK")
            self.assertEqual(m.select("Old")[0], "NO")
            m.logout()

    def test_authenticate_plain_and_a_large_message(self):
        big = message("big", body="".join(f"{i:08d} " + "x" * 90 + "\r\n"
                                          for i in range(50000)))
        self.assertGreater(len(big), 5_000_000)
        with Server(mailboxes={"alice": [big]}) as srv:
            m = imaplib.IMAP4_SSL("127.0.0.1", srv.imap_tls_port,
                                  ssl_context=harness.unverified_context(), timeout=30)
            typ, _ = m.authenticate("PLAIN",
                                    lambda _: f"\0{ALICE}\0{PASSWORD}".encode())
            self.assertEqual(typ, "OK")
            m.select("INBOX")
            typ, data = m.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1], big)
            m.logout()


def rss(pid):
    """VmRSS of a process, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class RssSampler(threading.Thread):
    """The highest VmRSS of a process seen while it runs (sampled every 10 ms)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, rss(pid), threading.Event()

    def run(self):
        while not self.stop.wait(0.01):
            self.peak = max(self.peak, rss(self.pid))

    def finish(self):
        self.stop.set()
        self.join()
        return self.peak


def measure_without_quarantine(test):
    """AddressSanitizer keeps freed memory in quarantine (256 MB by default), which would count
    every freed piece as resident: off for the servers `test` starts, so that RSS is the
    program's."""
    saved = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ((saved + ":") if saved else "detect_leaks=1:") + \
        "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    test.addCleanup(lambda: os.environ.__setitem__("ASAN_OPTIONS", saved) if saved
                    else os.environ.pop("ASAN_OPTIONS", None))


class LargeAppendTest(unittest.TestCase):
    """RFC 9051 section 6.3.12: a 50 MB APPEND is written to a file as it arrives and handed
    to the store from there, and a FETCH of it is sent from the store in pieces; the server's
    memory grows by far less than the message either way."""

    def test_a_50_mb_append_and_its_fetch_never_hold_it_in_memory(self):
        body = "".join(f"{i:08d} " + "y" * 90 + "\r\n" for i in range(520000))
        big = message("huge", body=body)
        self.assertGreater(len(big), 50_000_000)
        measure_without_quarantine(self)
        with Server() as srv:
            m = login(srv, implicit=True)
            m.select("INBOX")
            before = rss(srv.proc.pid)
            sampler = RssSampler(srv.proc.pid)
            sampler.start()
            typ, _ = m.append("INBOX", "(\\Seen)", None, big)
            grown = sampler.finish() - before
            self.assertEqual(typ, "OK")
            typ, data = m.fetch("1", "(RFC822.SIZE FLAGS BODYSTRUCTURE)")
            self.assertIn(f"RFC822.SIZE {len(big)}".encode(), data[0])
            self.assertIn(b"\\Seen", data[0])
            self.assertIn(f'"7BIT" {len(body)} 520000'.encode(), data[0].upper())
            # The whole message comes back from the store in pieces, not read whole.
            before = rss(srv.proc.pid)
            sampler = RssSampler(srv.proc.pid)
            sampler.start()
            typ, data = m.fetch("1", "(BODY.PEEK[])")
            fetch_grown = sampler.finish() - before
            self.assertEqual(data[0][1], big)
            del data
            self.assertLess(fetch_grown, 16 * 2**20, f"FETCH: RSS grew by {fetch_grown} bytes")
            typ, data = m.fetch("1", f"(BODY.PEEK[]<{len(big) - 200}.200>)")
            self.assertEqual(data[0][1], big[-200:])
            typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(data[0][1], b"Subject: huge\r\n\r\n")
            m.logout()
#Held whole, the message alone would add 50 MB.
            self.assertLess(grown, 16 * 2**20, f"peak RSS grew by {grown} bytes")
            print(f"\n50 MB APPEND: RSS grew by {grown / 2**20:.1f} MiB, its FETCH by "
                  f"{fetch_grown / 2**20:.1f} MiB", file=sys.stderr)


class LargePartFetchTest(unittest.TestCase):
    """RFC 9051 section 6.4.5: BODY[part]<partial> and BINARY of a 20 MB message are read at
    the part offsets the store keeps: a small part costs its own octets, a large one is sent
    from the store in pieces, and the server's memory grows by far less than the message."""

    def test_parts_of_a_20_mb_message_are_read_alone(self):
        import base64
        blob = bytes((i * 7919) % 256 for i in range(15_000_000))
        encoded = base64.encodebytes(blob).replace(b"\n", b"\r\n")
        big = (b"From: Bob <bob@" + DOMAIN.encode() + b">\r\nSubject: parts\r\n"
               b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n"
               b"--p\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"
               b"--p\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--p--\r\n")
        self.assertGreater(len(big), 20_000_000)
        measure_without_quarantine(self)
        with Server() as srv:
            m = login(srv, implicit=True)
            m.select("INBOX")
            self.assertEqual(m.append("INBOX", None, None, big)[0], "OK")
            before = rss(srv.proc.pid)
            sampler = RssSampler(srv.proc.pid)
            sampler.start()
            typ, data = m.fetch("1", "(BODY.PEEK[1] BINARY.PEEK[1] BODY.PEEK[2.MIME])")
            self.assertEqual(typ, "OK")
            self.assertEqual(data[0][1], b"see the attachment")
            self.assertEqual(data[1][1], b"see the attachment")
            self.assertEqual(data[2][1], b"Content-Type: application/octet-stream\r\n"
                             b"Content-Transfer-Encoding: base64\r\n\r\n")
            typ, data = m.fetch("1", "(BODY.PEEK[2]<10000000.64>)")
            self.assertEqual(data[0][1], encoded[10_000_000:10_000_064])
            typ, data = m.fetch("1", "(BODY.PEEK[2])")
            self.assertEqual(data[0][1], encoded[:-2])  # the CRLF before "--p--" is the boundary's
            del data
            grown = sampler.finish() - before
            m.logout()
            self.assertLess(grown, 8 * 2**20, f"RSS grew by {grown} bytes")
            print(f"\nparts of a 20 MB message: RSS grew by {grown / 2**20:.1f} MiB",
                  file=sys.stderr)


class SortTest(unittest.TestCase):
    """RFC 5256 SORT and THREAD through imaplib: by base subject (a reply sorts with what it
    answers), by sender, reversed, as UID SORT over a search, and replies threaded by their
    References and In-Reply-To fields (REFERENCES) and by subject (ORDEREDSUBJECT)."""

    def test_sort(self):
        with Server(mailboxes={"alice": THREE}) as srv:
            m = login(srv)
            self.assertIn("SORT", m.capabilities)
            m.select("INBOX")
            self.assertEqual(m.append("INBOX", None, None, message("Re: [team] first"))[0], "OK")
            typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
            self.assertEqual((typ, data), ("OK", [b"1 4 2 3"]))
            typ, data = m.sort("(REVERSE SUBJECT)", "UTF-8", "ALL")
            self.assertEqual(data, [b"3 2 1 4"])  # equal subjects keep mailbox order
            typ, data = m.sort("(FROM SUBJECT)", "UTF-8", "ALL")
            self.assertEqual(data, [b"2 1 4 3"])  # carol sent "second"
            typ, data = m.uid("SORT", "(REVERSE SUBJECT)", "UTF-8", "SUBJECT", "first")
            self.assertEqual(data, [b"1 4"])
            # THREAD (RFC 5256 section 3): a reply by References, one by In-Reply-To only.
            self.assertIn("THREAD=REFERENCES", m.capabilities)
            for subject, extra in (("Re: second", "References: <second@remote.test>\r\n"),
                                   ("Re: Re: second",
                                    "In-Reply-To: <Re:.second@remote.test>\r\n")):
                raw = (f"From: bob@remote.test\r\nSubject: {subject}\r\n"
                       f"Message-ID: <{subject.replace(' ', '.')}@remote.test>\r\n{extra}"
                       "\r\nreply\r\n").encode()
                self.assertEqual(m.append("INBOX", None, None, raw)[0], "OK")
            typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
            self.assertEqual((typ, data), ("OK", [b"(1 4)(2 5 6)(3)"]))
            typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
            self.assertEqual(data, [b"(1 4)(2 (5)(6))(3)"])
            m.logout()


class QresyncTest(unittest.TestCase):
    """RFC 7162: a client that knew the mailbox at some MODSEQ comes back after another
    session's changes and learns them in one SELECT (QRESYNC) and in UID FETCH (CHANGEDSINCE
    VANISHED), through imaplib."""

    def test_resync_after_another_sessions_changes(self):
        with Server(mailboxes={"alice": THREE}) as srv:
            m = login(srv)
            self.assertIn("QRESYNC", m.capabilities)
            self.assertEqual(m.enable("CONDSTORE")[0], "OK")
            m.select("INBOX")
            uidvalidity = m.response("UIDVALIDITY")[1][0].decode()
            known = m.response("HIGHESTMODSEQ")[1][0].decode()
            m.logout()

            other = login(srv, implicit=True)
            other.select("INBOX")
            other.store("2", "+FLAGS", "(\\Flagged)")
            other.store("1", "+FLAGS", "(\\Deleted)")
            other.expunge()
            other.append("INBOX", None, None, message("fourth"))
            other.logout()

            m = login(srv)
            self.assertEqual(m.enable("QRESYNC")[0], "OK")
            typ, _ = m._simple_command(
                "SELECT", f"INBOX (QRESYNC ({uidvalidity} {known} 1:3))")
            self.assertEqual(typ, "OK")
            m.state = "SELECTED"
            self.assertEqual(m.untagged_responses.pop("EXISTS"), [b"3"])
            self.assertEqual(m.untagged_responses.pop("VANISHED"), [b"(EARLIER) 1"])
            fetched = b" ".join(m.untagged_responses.pop("FETCH"))
            self.assertRegex(fetched, rb"1 \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)")
            self.assertRegex(fetched, rb"3 \(UID 4 FLAGS \(\) MODSEQ \(\d+\)\)")
            self.assertNotIn(b"UID 3 ", fetched)  # unchanged since

            typ, data = m.uid("FETCH", "1:*", f"(FLAGS) (CHANGEDSINCE {known} VANISHED)")
            self.assertEqual(typ, "OK")
            self.assertEqual(m.untagged_responses.pop("VANISHED"), [b"(EARLIER) 1"])
            self.assertEqual(len(data), 2)
#Its own expunge is told as VANISHED, not EXPUNGE.
            m.uid("STORE", "3", "+FLAGS.SILENT", "(\\Deleted)")
            typ, data = m.expunge()
            self.assertEqual(typ, "OK")
            self.assertEqual(m.untagged_responses.pop("VANISHED"), [b"3"])
            m.logout()


class IdleTest(unittest.TestCase):
    def test_idle_is_woken_by_an_smtp_delivery_and_a_flag_change_from_another_session(self):
        imap_port, imap_tls_port = harness.free_ports(2)
        with SmtpServer(other_plugins={"imap": imap_settings(imap_port, imap_tls_port)}) as srv:
            srv.imap_port, srv.imap_tls_port = imap_port, imap_tls_port
            raw = socket.create_connection(("127.0.0.1", imap_tls_port), timeout=10)
            s = harness.unverified_context().wrap_socket(raw)
            f = s.makefile("rb")

            def until(tag):
                lines = []
                while True:
                    line = f.readline()
                    self.assertTrue(line, "connection closed")
                    lines.append(line)
                    if line.startswith(tag):
                        return lines

            f.readline()
            s.sendall(f"a1 LOGIN {ALICE} \"{PASSWORD}\"\r\na2 SELECT INBOX\r\n".encode())
            self.assertIn(b"* 0 EXISTS\r\n", until(b"a2 "))
            s.sendall(b"a3 IDLE\r\n")
            self.assertEqual(f.readline(), b"+ idling\r\n")
            started = time.monotonic()
            with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as smtp:
                smtp.sendmail("outsider@remote.test", [ALICE], message("delivered"))
            self.assertEqual(f.readline(), b"* 1 EXISTS\r\n")
            self.assertLess(time.monotonic() - started, 1.5)
            self.assertEqual(f.readline(), b"* 1 RECENT\r\n")  # claimed by this session
            other = login(srv, implicit=True)
            other.select("INBOX")
            started = time.monotonic()
            other.store("1", "+FLAGS", "(\\Flagged)")
            self.assertEqual(f.readline(), b"* 1 FETCH (FLAGS (\\Flagged \\Recent) UID 1)\r\n")
            self.assertLess(time.monotonic() - started, 1.5)
            s.sendall(b"DONE\r\n")
            self.assertEqual(until(b"a3 ")[-1], b"a3 OK IDLE terminated\r\n")
            s.sendall(b"a4 LOGOUT\r\n")
            until(b"a4 ")
            other.logout()
            f.close()
            s.close()


MBSYNC_CONFIG = """IMAPAccount portico
Host 127.0.0.1
Port {port}
User {user}
Pass "{password}"
SSLType IMAPS
SystemCertificates no
CertificateFile {cert}

IMAPStore remote
Account portico

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX Archive
Create Both
Expunge Both
SyncState *
"""


@unittest.skipUnless(shutil.which("mbsync"), "mbsync (Debian package isync) is not installed")
class MbsyncTest(unittest.TestCase):
    def mbsync(self, config):
        r = subprocess.run(["mbsync", "-V", "-c", config, "-a"], capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_a_500_message_mailbox_both_ways_then_nothing_to_do(self):
        messages = [message(f"message {i}", body=f"body of message {i}\r\n" * (1 + i % 40))
                    for i in range(500)]
        with Server(mailboxes={"alice": messages}) as srv:
            local = os.path.join(srv.dir, "local")
            os.makedirs(local)
            cert = glob.glob(os.path.join(srv.dir, "data", "**", "development-cert.pem"),
                             recursive=True)
            self.assertTrue(cert, "no development certificate in the data directory")
            config = srv.write_file("mbsyncrc", MBSYNC_CONFIG.format(
                port=srv.imap_tls_port, user=ALICE, password=PASSWORD, cert=cert[0],
                local=local))
            m = login(srv, implicit=True)
            m.create("Archive")
            m.append("Archive", "(\\Flagged)", None, message("archived"))

#First sync : everything comes down, byte for byte.
            self.mbsync(config)
            inbox = sorted(glob.glob(os.path.join(local, "INBOX", "cur", "*")) +
                           glob.glob(os.path.join(local, "INBOX", "new", "*")))
            self.assertEqual(len(inbox), 500)
            got = set()
            for path in inbox:
                with open(path, "rb") as f:
                    got.add(re.sub(rb"X-TUID: [^\n]*\n", b"", f.read()))
#mbsync keeps a maildir's messages with the local line ends (LF), and marks each
#copy it makes with an X - TUID header.
            want = {x.replace(b"\r\n", b"\n") for x in messages}
            self.assertTrue(got == want, f"{len(got ^ want)} messages differ, e.g. {sorted(got - want)[:1]}")
            archived = glob.glob(os.path.join(local, "Archive", "*", "*:2,*"))
            self.assertEqual(len(archived), 1)
            self.assertTrue(archived[0].endswith("F"), archived[0])  # \Flagged came down

#Local changes go up : one read, one deleted, one new.
            os.rename(inbox[0], inbox[0].replace("/new/", "/cur/").split(":2,")[0] + ":2,S")
            os.remove(inbox[1])
            with open(os.path.join(local, "INBOX", "cur", "1700000000.new.local:2,"), "wb") as f:
                f.write(message("written locally"))
            self.mbsync(config)
            m.select("INBOX")
            self.assertEqual(m.search(None, "ALL")[1][0].split()[-1], b"500")
            self.assertEqual(m.search(None, "SEEN")[1], [b"1"])
            self.assertEqual(m.search(None, "SUBJECT", '"written locally"')[1], [b"500"])
            self.assertEqual(m.search(None, "SUBJECT", '"message 1"', "NOT", "SUBJECT",
                                       '"message 1"')[1], [b""])

#A server - side change comes down, then a sync with nothing to do changes nothing.
            m.store("2", "+FLAGS", "(\\Flagged)")
            self.mbsync(config)
            status = m.status("INBOX", "(MESSAGES UIDNEXT HIGHESTMODSEQ)")[1]
            before = sorted(os.listdir(os.path.join(local, "INBOX", "cur")))
            self.assertEqual(sum(1 for n in before if n.endswith("F")), 1)
            out = self.mbsync(config)
            self.assertEqual(sorted(os.listdir(os.path.join(local, "INBOX", "cur"))), before)
            self.assertEqual(m.status("INBOX", "(MESSAGES UIDNEXT HIGHESTMODSEQ)")[1], status)
            self.assertIn("far side: 500 messages", out)
            m.logout()


if __name__ == "__main__":
    unittest.main()

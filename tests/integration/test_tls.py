"""TLS: STARTTLS, implicit TLS (Python ssl and openssl s_client), SNI, the development cert."""

import os
import ssl
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class StartTlsTest(unittest.TestCase):
    def test_starttls_upgrade(self):
        tls_port, plain_port = harness.free_ports(2)
        settings = harness.lineproto_settings(listeners=[harness.listener(tls_port, "starttls"),
                                                         harness.listener(plain_port, "none")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            with srv.client(tls_port) as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c.command("TLS?"), "+OK no")
                self.assertEqual(c.command("STARTTLS"), "+OK begin TLS")
                c.starttls()
                self.assertEqual(c.command("TLS?"), "+OK yes")
                self.assertEqual(c.command("ECHO secret"), "+OK secret")
                # A second STARTTLS on a secured channel is refused.
                self.assertEqual(c.command("STARTTLS"), "-ERR TLS not available")
                self.assertEqual(c.command("QUIT"), "+OK bye")
                self.assertTrue(c.at_eof())

            # STARTTLS on a plain listener is refused.
            with srv.client(plain_port) as c:
                self.assertEqual(c.command("STARTTLS"), "-ERR TLS not available")
                self.assertEqual(c.command("TLS?"), "+OK no")
                self.assertEqual(c.command("ECHO plain"), "+OK plain")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_pipelined_plaintext_after_starttls_is_discarded(self):
        port = harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(port, "starttls")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            with srv.client() as c:
                c.send_raw("STARTTLS\r\nECHO injected\r\n")
                self.assertEqual(c.readline(), "+OK begin TLS")
                c.starttls()
                first = c.command("TLS?")
                self.assertNotEqual(first, "+OK injected")
                self.assertEqual(first, "+OK yes")
                self.assertEqual(c.command("ECHO after"), "+OK after")
            self.assertEqual(srv.stop(), 0, srv.log())


class ImplicitTlsTest(unittest.TestCase):
    def test_implicit_tls_python(self):
        port = harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(port, "implicit")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            with harness.tls_client(port) as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c.command("TLS?"), "+OK yes")
                self.assertEqual(c.command("STARTTLS"), "-ERR TLS not available")
                self.assertEqual(c.command("QUIT"), "+OK bye")
                self.assertTrue(c.at_eof())
            self.assertIn("(tls: implicit)", srv.log())
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_implicit_tls_openssl_s_client(self):
        port = harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(port, "implicit")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet"],
                               input="TLS?\nQUIT\n", capture_output=True, text=True, timeout=30)
            lines = [l.rstrip("\r") for l in r.stdout.splitlines()]
            self.assertEqual(lines, [f"+OK {harness.HOSTNAME} lineproto ready", "+OK yes",
                                     "+OK bye"], f"stdout {r.stdout!r} stderr {r.stderr!r}")
            self.assertEqual(srv.stop(), 0, srv.log())


class SniTest(unittest.TestCase):
    def test_sni_chooses_certificate(self):
        port, starttls_port = harness.free_ports(2)
        with harness.PorticoServer(start=False) as srv:
            a_cert, a_key = harness.make_certificate(srv.dir, "a.test")
            b_cert, b_key = harness.make_certificate(srv.dir, "b.test")
            srv.write_config(
                plugins={"lineproto": harness.lineproto_settings(listeners=[
                    harness.listener(port, "implicit"),
                    harness.listener(starttls_port, "starttls")])},
                server={"tls": {"certificate": "a.test.pem", "key": "a.test.key",
                                "sni": [{"certificate": "b.test.pem", "key": "b.test.key"}]}})
            srv.start()

            def served_certificate(name, starttls=False):
                if starttls:
                    c = srv.client(starttls_port)
                    self.assertEqual(c.command("STARTTLS"), "+OK begin TLS")
                    c.starttls(server_hostname=name)
                else:
                    c = harness.tls_client(port, server_hostname=name)
                with c:
                    self.assertEqual(c.command("TLS?"), "+OK yes")
                    return c.sock.getpeercert(binary_form=True)

            der = served_certificate("b.test")
            self.assertEqual(der, harness.pem_to_der(b_cert))
            self.assertIn("CN = b.test", harness.certificate_subject(der))

            der = served_certificate("a.test")
            self.assertEqual(der, harness.pem_to_der(a_cert))
            self.assertIn("CN = a.test", harness.certificate_subject(der))

            # An unknown name, or none, gets the default certificate.
            self.assertEqual(served_certificate("c.test"), harness.pem_to_der(a_cert))
            self.assertEqual(served_certificate(None), harness.pem_to_der(a_cert))

            # SNI works after STARTTLS too.
            self.assertEqual(served_certificate("b.test", starttls=True),
                             harness.pem_to_der(b_cert))

            # A client that trusts b.test verifies the server under that name.
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(b_cert)
            with harness.tls_client(port, context=ctx, server_hostname="b.test") as c:
                self.assertEqual(c.command("TLS?"), "+OK yes")
            self.assertEqual(srv.stop(), 0, srv.log())


class CertificateReloadTest(unittest.TestCase):
    def test_certificate_files_are_reread_on_reload(self):
        port = harness.free_port()
        with harness.PorticoServer(start=False) as srv:
            old_cert, _ = harness.make_certificate(srv.dir, "old.test")
            os.replace(old_cert, srv.path("server.pem"))
            os.replace(srv.path("old.test.key"), srv.path("server.key"))
            old_der = harness.pem_to_der(srv.path("server.pem"))
            srv.write_config(
                plugins={"lineproto": harness.lineproto_settings(
                    listeners=[harness.listener(port, "implicit")])},
                server={"tls": {"certificate": "server.pem", "key": "server.key"}})
            srv.start()
            with harness.tls_client(port) as before:
                self.assertEqual(before.sock.getpeercert(binary_form=True), old_der)

                # The operator renews the certificate in place and sends SIGHUP.
                new_cert, new_key = harness.make_certificate(srv.dir, "new.test")
                os.replace(new_cert, srv.path("server.pem"))
                os.replace(new_key, srv.path("server.key"))
                srv.reload()
                with harness.tls_client(port) as after:
                    der = after.sock.getpeercert(binary_form=True)
                    self.assertEqual(der, harness.pem_to_der(srv.path("server.pem")))
                    self.assertIn("CN = new.test", harness.certificate_subject(der))
                # The connection made before the reload keeps working.
                self.assertEqual(before.command("TLS?"), "+OK yes")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_a_certificate_that_fails_leaves_the_plugins_as_they_were(self):
        # A reload whose certificate cannot be read is rejected before any plugin hears the new
        # settings: lineproto logs "configured, max_echo N" from configure().
        port = harness.free_port()
        with harness.PorticoServer(start=False) as srv:
            cert, key = harness.make_certificate(srv.dir, "old.test")
            settings = harness.lineproto_settings(listeners=[harness.listener(port, "implicit")])
            tls = {"certificate": cert, "key": key}
            srv.write_config(plugins={"lineproto": settings}, server={"tls": tls})
            srv.start()
            self.assertNotIn("max_echo 777 bytes", srv.log())
            settings["max_echo"] = 777
            srv.write_config(plugins={"lineproto": settings},
                             server={"tls": {"certificate": "missing.pem", "key": key}})
            said = srv.reload()
            self.assertIn("missing.pem", said)
            self.assertNotIn("max_echo 777 bytes", said)
            with harness.tls_client(port) as c:
                self.assertEqual(c.command("TLS?"), "+OK yes")
            self.assertEqual(srv.stop(), 0, srv.log())


class DevelopmentCertificateTest(unittest.TestCase):
    def test_dev_certificate_generated(self):
        port = harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(port, "implicit")])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            cert = srv.path(os.path.join("data", "tls", "development-cert.pem"))
            self.assertTrue(os.path.isfile(cert), os.listdir(srv.dir))
            self.assertRegex(srv.log(), r"generated a self-signed development certificate")
            self.assertIn(cert, srv.log())
            with harness.tls_client(port, server_hostname=harness.HOSTNAME) as c:
                self.assertEqual(c.sock.getpeercert(binary_form=True), harness.pem_to_der(cert))
                self.assertIn(f"CN = {harness.HOSTNAME}",
                              harness.certificate_subject(c.sock.getpeercert(binary_form=True)))
                self.assertEqual(c.command("TLS?"), "+OK yes")
            self.assertEqual(srv.stop(), 0, srv.log())

            # A second start reuses the certificate and does not say it generated one.
            with open(cert) as f:
                first = f.read()
            mark = len(srv.log())
            srv.start()
            self.assertNotIn("generated a self-signed", srv.log()[mark:])
            with open(cert) as f:
                self.assertEqual(f.read(), first)
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_no_certificate_until_something_serves_tls(self):
        # A server whose listeners are all plain sets no certificate up (and OpenSSL stays
        # unused); the reload that adds a TLS listener generates and serves it.
        plain, secure = harness.free_port(), harness.free_port()
        settings = harness.lineproto_settings(listeners=[harness.listener(plain)])
        with harness.PorticoServer(plugins={"lineproto": settings}) as srv:
            cert = srv.path(os.path.join("data", "tls", "development-cert.pem"))
            with srv.client(plain) as c:
                self.assertEqual(c.command("TLS?"), "+OK no")
            self.assertFalse(os.path.exists(cert))
            self.assertNotIn("development certificate", srv.log())

            settings["listeners"].append(harness.listener(secure, "implicit"))
            srv.write_config(plugins={"lineproto": settings})
            self.assertRegex(srv.reload(), r"generated a self-signed development certificate")
            self.assertTrue(os.path.isfile(cert))
            srv.wait_log(rf"lineproto listening on 127\.0\.0\.1:{secure}\b")
            with harness.tls_client(secure) as c:
                self.assertEqual(c.sock.getpeercert(binary_form=True), harness.pem_to_der(cert))
                self.assertEqual(c.command("TLS?"), "+OK yes")
            with srv.client(plain) as c:
                self.assertEqual(c.command("TLS?"), "+OK no")
            self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

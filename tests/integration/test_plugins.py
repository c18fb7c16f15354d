"""Plugin loading: refused libraries are reported one line each and the rest serve; the
`portico plugins` commands (list, describe, schema)."""

import json
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def abi_version():
    path = os.path.join(harness.SOURCE_DIR, "sdk", "include", "portico", "abi.h")
    with open(path) as f:
        text = f.read()
    major = int(re.search(r"#define PORTICO_ABI_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define PORTICO_ABI_MINOR (\d+)", text).group(1))
    return major, minor


# Each refused library of test-plugins/mixed and what its reason must say.
def refused_expectations():
    major, minor = abi_version()
    return {
        "stale_abi.so": [f"ABI {major + 1}.0", f"ABI {major}.{minor}"],
        "wrong_signature.so": ["not binary compatible", "gcc-1;other"],
        "no_symbol.so": ["no portico_plugin symbol"],
        "throwing_factory.so": ["boom in constructor"],
        "missing_dep.so": ["missing dependency 'no-such-plugin'"],
        "not_a_library.so": ["not a loadable library"],
        "schema_throws.so": ["schema() threw", "schema table is broken"],
    }


class MixedFolderTest(unittest.TestCase):
    def test_server_starts_and_reports_refused_plugins(self):
        port = harness.free_port()
        # needs-lineproto lives in dep_on_good.so, not needs-lineproto.so: to find it the server
        # opens every file of the folder, and reports each one it refuses.
        with harness.PorticoServer(plugin_dir=harness.MIXED_PLUGINS,
                                   plugins={"lineproto": harness.lineproto_settings(port),
                                            "needs-lineproto": {"enabled": True}}) as srv:
            with srv.client() as c:
                self.assertEqual(c.greeting, f"+OK {harness.HOSTNAME} lineproto ready")
                self.assertEqual(c.command("ECHO mixed"), "+OK mixed")
            log_lines = srv.log().splitlines()
            # Refused when opened: their descriptors are wrong, or they are no plugins at all.
            # The others are plugins nobody enabled, so their factories never ran.
            opened = ("stale_abi.so", "wrong_signature.so", "no_symbol.so", "not_a_library.so")
            for file in ("throwing_factory.so", "missing_dep.so", "schema_throws.so"):
                self.assertFalse([l for l in log_lines if file in l],
                                 f"{file} was created, though not enabled:\n{srv.log()}")
            for file, needles in refused_expectations().items():
                if file not in opened:
                    continue
                lines = [l for l in log_lines if os.path.join(harness.MIXED_PLUGINS, file) in l]
                self.assertEqual(len(lines), 1,
                                 f"expected one log line for {file}, got {lines}\n{srv.log()}")
                self.assertIn("refused", lines[0])
                for needle in needles:
                    self.assertIn(needle, lines[0], f"{file}: {lines[0]}")
            # The loadable ones are not refused.
            for file in ("lineproto.so", "dep_on_good.so"):
                self.assertFalse([l for l in log_lines if file in l and "refused" in l],
                                 f"{file} was refused:\n{srv.log()}")
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_plugins_list(self):
        r = harness.run_portico("plugins", "list", "--plugin-dir", harness.MIXED_PLUGINS)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn(f"plugin folder: {harness.MIXED_PLUGINS}", out)
        major, minor = abi_version()
        self.assertRegex(out, r"(?m)^\s+lineproto\s+1\.0\.0\s+line protocol used by Portico's "
                              rf"tests\s+\(lineproto\.so, SDK {major}\.{minor}\)$")
        self.assertRegex(out, r"(?m)^\s+needs-lineproto\s+1\.0\.0\s.*\(dep_on_good\.so, SDK "
                              rf"{major}\.{minor}\)$")
        for file, needles in refused_expectations().items():
            lines = [l for l in out.splitlines() if f"refused: {file}:" in l]
            self.assertEqual(len(lines), 1, f"{file} in:\n{out}")
            for needle in needles:
                self.assertIn(needle, lines[0])

    def test_plugin_built_against_sdk_1_0_loads(self):
        folder = os.path.join(harness.TEST_PLUGINS, "abi-1.0")
        r = harness.run_portico("plugins", "list", "--plugin-dir", folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        major, _ = abi_version()
        self.assertRegex(r.stdout, rf"(?m)^\s+lineproto\s.*\(lineproto\.so, SDK {major}\.0\)$")
        self.assertNotIn("refused", r.stdout)

    def test_plugins_list_good_folder(self):
        r = harness.run_portico("plugins", "list", "--plugin-dir", harness.GOOD_PLUGINS)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("lineproto", r.stdout)
        self.assertNotIn("refused", r.stdout)


class DescribeTest(unittest.TestCase):
    EXPECTED_DEFAULTS = {
        "enabled": "false",
        "listeners": "127.0.0.1:7070",
        "banner": "+OK #HostName# lineproto ready",
        "command_timeout": "1m",
        "session_timeout": "5m",
        "session_timeout_enabled": "true",
        "max_bad_commands": "8",
        "max_connections": "100",
        "max_connections_per_address": "0",
        "greeting_suffix": "(none)",
        "max_echo": "1KB",
        "mode.strict": "false",
    }

    def blocks(self, text):
        """Setting name -> its paragraph (lines joined), for lines that are a bare key."""
        out = {}
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line and not line.startswith(" ") and i + 1 < len(lines) and \
                    lines[i + 1].startswith("    "):
                body = []
                for follow in lines[i + 1:]:
                    if not follow.startswith("    "):
                        break
                    body.append(follow.strip())
                out[line.strip()] = " ".join(body)
        return out

    def test_describe_lineproto(self):
        for source in (["--plugin-dir", harness.GOOD_PLUGINS],
                       ["--plugin-dir", harness.MIXED_PLUGINS]):
            r = harness.run_portico("plugins", "describe", "lineproto", *source)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Plugin lineproto 1.0.0", r.stdout)
            blocks = self.blocks(r.stdout)
            for key, default in self.EXPECTED_DEFAULTS.items():
                self.assertIn(key, blocks, f"{key} not described:\n{r.stdout}")
                self.assertIn(f"Default: {default}.", blocks[key], f"{key}: {blocks[key]}")
            self.assertIn("Range: 1 .. 1MB", blocks["max_echo"])
            self.assertIn("Range: 1s .. 24h", blocks["command_timeout"])
            self.assertIn("Longest text ECHO repeats", blocks["max_echo"])

    def test_describe_from_config(self):
        port = harness.free_port()
        with harness.PorticoServer(start=False,
                                   plugins={"lineproto": harness.lineproto_settings(port)}) as srv:
            r = harness.run_portico("plugins", "describe", "lineproto", "--config",
                                    srv.config_path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("max_echo", r.stdout)

    def test_describe_unknown_plugin(self):
        r = harness.run_portico("plugins", "describe", "nosuch", "--plugin-dir",
                                harness.GOOD_PLUGINS)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no plugin named 'nosuch'", r.stderr)
        self.assertIn("lineproto", r.stderr)

    def test_describe_server(self):
        r = harness.run_portico("plugins", "describe", "server")
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = self.blocks(r.stdout)
        for key in ("hostname", "data_dir", "plugin_dir", "tls.certificate", "tls.key", "tls.sni",
                    "log_level", "control_socket", "metrics.port", "shutdown_grace"):
            self.assertIn(key, blocks, r.stdout)
        self.assertIn("Default: 30s.", blocks["shutdown_grace"])


class SchemaTest(unittest.TestCase):
    def test_schema_is_json(self):
        r = harness.run_portico("plugins", "schema", "--plugin-dir", harness.MIXED_PLUGINS)
        self.assertEqual(r.returncode, 0, r.stderr)
        schema = json.loads(r.stdout)
        plugins = schema["properties"]["plugins"]["properties"]
        self.assertIn("lineproto", plugins)
        lineproto = plugins["lineproto"]
        props = lineproto["properties"]
        for key in ("enabled", "listeners", "banner", "command_timeout", "max_echo",
                    "greeting_suffix"):
            self.assertIn(key, props, sorted(props))
        self.assertIn("server", schema["properties"])
        # Refused plugins have no schema.
        for name in ("stale-abi", "throwing-factory", "missing-dep", "schema-throws"):
            self.assertNotIn(name, plugins)


if __name__ == "__main__":
    unittest.main(verbosity=2)

// Unit tests of the generated documentation: describe_plugin's text page and json_schema's JSON
// Schema (checked by a real JSON parser when python3 is available).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/config/config.h"
#include "fake_schemas.h"

namespace portico::core {
namespace {

using testing::fake_schemas;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DescribePlugin, ListsEveryKeyWithTypeDefaultBoundsAndHelp) {
  const auto& info = fake_schemas().at("mail");
  const std::string page = describe_plugin("mail", "1.2.3", info.schema);
  EXPECT_TRUE(contains(page, "Plugin mail 1.2.3\n=================\n")) << page;
  EXPECT_TRUE(contains(page, "A test protocol with one setting of every type.")) << page;
  // Shared keys first, with the plugin's defaults.
  EXPECT_LT(page.find("\nenabled\n"), page.find("\ngreeting_delay\n"));
  EXPECT_TRUE(contains(page, "Type: duration. Default: 1m. Range: 1s .. 24h.")) << page;
  EXPECT_TRUE(contains(page, "Type: integer. Default: 8. Range: 0 .. 1000000.")) << page;
  EXPECT_TRUE(contains(page, "0 means unlimited.")) << page;
  EXPECT_TRUE(contains(page, "Default: 127.0.0.1:1143, [::1]:1993 (implicit).")) << page;
  EXPECT_TRUE(contains(page, "Type: string. Default: (none).")) << page;  // banner
  for (const auto& spec : info.schema.settings) {
    EXPECT_TRUE(contains(page, "\n" + spec.key + "\n")) << spec.key;
    EXPECT_TRUE(contains(page, spec.help)) << spec.key;
  }
  EXPECT_TRUE(contains(page, "Type: size. Default: 25MB. Range: 1KB .. 1GB.")) << page;
  EXPECT_TRUE(contains(page, "Choices: strict, lenient, legacy.")) << page;
  EXPECT_TRUE(contains(page, "Type: list of strings. Default: [PLAIN, LOGIN].")) << page;
  // Every line fits in 78 columns.
  std::size_t start = 0;
  while (start < page.size()) {
    const auto end = page.find('\n', start);
    EXPECT_LE(end - start, 78u) << page.substr(start, end - start);
    start = end + 1;
  }
}

TEST(DescribePlugin, DescribesTheServerSection) {
  const std::string page = describe_plugin("server", "", server_schema());
  EXPECT_TRUE(contains(page, "Section server\n")) << page;
  EXPECT_FALSE(contains(page, "every protocol shares")) << page;
  for (const auto& spec : server_schema().settings) {
    EXPECT_TRUE(contains(page, "\n" + spec.key + "\n")) << spec.key;
  }
  EXPECT_TRUE(contains(page, "Type: duration. Default: 30s. Range: 0s .. 1h.")) << page;
  EXPECT_TRUE(contains(page, "Type: list of {certificate, key}.")) << page;
  EXPECT_TRUE(contains(page, "Choices: trace, debug, info, warn, error.")) << page;
}

// Runs python3's JSON parser on `text`; returns its exit status, or -1 without python3.
int python_json_check(const std::string& text, const std::string& assertion) {
  char path[] = "/tmp/portico-schema-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  {
    std::ofstream out(path);
    out << text;
  }
  const std::string command = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); " +
                              assertion + "' " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr)
    std::fputs(buffer, stderr);
  const int status = pclose(pipe);
  std::remove(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(JsonSchema, IsValidJsonWithTheExpectedProperties) {
  PluginSchemas schemas = fake_schemas();
  // Help texts with characters JSON must escape.
  schemas.at("pop").schema.settings = {
      testing::spec("note", sdk::SettingType::string, "say \"hi\"\\\n\ttab\x01")};
  const std::string json = json_schema(schemas);
  EXPECT_TRUE(contains(json, "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));
  EXPECT_TRUE(contains(json, "\"default\": \"say \\\"hi\\\"\\\\\\n\\ttab\\u0001\"")) << json;

  if (std::system("python3 -c 'pass' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 is not available to parse the JSON";
  }
  const std::string checks =
      "s=d[\"properties\"][\"server\"][\"properties\"]; "
      "assert s[\"tls\"][\"properties\"][\"certificate\"][\"type\"]==\"string\"; "
      "assert s[\"metrics\"][\"properties\"][\"port\"][\"maximum\"]==65535; "
      "assert s[\"log_level\"][\"enum\"]==[\"trace\",\"debug\",\"info\",\"warn\",\"error\"]; "
      "assert s[\"shutdown_grace\"][\"default\"]==\"30s\"; "
      "assert d[\"properties\"][\"server\"][\"additionalProperties\"]==False; "
      "m=d[\"properties\"][\"plugins\"][\"properties\"][\"mail\"]; "
      "assert m[\"additionalProperties\"]==False; "
      "p=m[\"properties\"]; "
      "assert p[\"enabled\"][\"type\"]==\"boolean\" and p[\"enabled\"][\"default\"]==False; "
      "assert p[\"max_connections\"][\"maximum\"]==10000000; "
      "assert p[\"submission\"][\"properties\"][\"port\"][\"default\"]==587; "
      "assert p[\"idle\"][\"properties\"][\"enabled\"][\"default\"]==True; "
      "assert p[\"command_timeout\"][\"default\"]==\"1m\"; "
      "assert p[\"max_message_size\"][\"default\"]==\"25MB\"; "
      "assert p[\"auth_mechanisms\"][\"default\"]==[\"PLAIN\",\"LOGIN\"]; "
      "assert p[\"mode\"][\"enum\"]==[\"strict\",\"lenient\",\"legacy\"]; "
      "assert p[\"listeners\"][\"items\"][\"properties\"][\"port\"][\"minimum\"]==1; "
      "assert p[\"listeners\"][\"default\"][1]==dict(address=\"::1\",port=1993,tls=\"implicit\"); "
      "import re; assert re.match(p[\"greeting_delay\"][\"anyOf\"][0][\"pattern\"], \"250ms\"); "
      "assert \"pop\" in d[\"properties\"][\"plugins\"][\"properties\"]";
  EXPECT_EQ(python_json_check(json, checks), 0) << json;
}

}  // namespace
}  // namespace portico::core

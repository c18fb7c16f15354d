// Portico core — the pieces the configuration loader is built from; private to core/config.
//
// A SettingSpec is "compiled" once (its default and bounds parsed with the same rules as the
// file), then every YAML mapping is walked against the compiled specs: each value is checked
// and converted to a typed sdk::SettingValue, each problem recorded with the YAML position of
// the offending node. Nothing here throws for bad input; problems go to Diagnostics.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "portico/settings.h"

namespace portico::core::config_detail {

// Collects every error and warning of one load, in the order they are found.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& at, std::string key, std::string message);
  void error_unplaced(std::string key, std::string message);
  void warning(const YAML::Mark& at, const std::string& key, const std::string& message);

  std::size_t error_count() const { return errors_.size(); }
  const std::string& file() const { return file_; }
  // Errors sorted by position (unplaced ones last), keeping discovery order among equals.
  std::vector<ConfigError> take_errors();
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<std::string> warnings_;
};

// 1-based position of a yaml-cpp mark (0 when the mark is unset).
int line_of(const YAML::Mark& m);
int column_of(const YAML::Mark& m);

// " (did you mean 'x'?)" when a known word is within edit distance 2 (1 for short words) of
// `given`, or `given` is a prefix of it; otherwise "".
std::string did_you_mean(std::string_view given, const std::vector<std::string>& known);

// `text` in double quotes with control characters and quotes escaped, for messages.
std::string in_quotes(std::string_view text);
// An integer as is, anything else quoted: how a given value is echoed in messages.
std::string echoed(std::string_view text);
// "a sequence", "a mapping", ... for "expected X, got Y" messages.
std::string kind_name(const YAML::Node& node);

// Strict parsers shared by values in the file and texts in schemas.
std::optional<bool> parse_bool(std::string_view text);
std::optional<std::int64_t> parse_int(std::string_view text);
bool is_ip_literal(const std::string& text);

// What "not a duration" etc. should say after the value: the accepted spelling.
std::string expected_spelling(sdk::SettingType type, const sdk::SettingSpec& spec);

// A spec with its default and bounds already parsed.
struct CompiledSpec {
  sdk::SettingSpec spec;
  sdk::SettingValue default_value;
  std::optional<std::int64_t> min_int, max_int;
  std::optional<std::chrono::milliseconds> min_duration, max_duration;
  std::optional<std::uint64_t> min_size, max_size;
};

// Parses the spec's default and bounds (`listener_default` is the default of a listener_list).
// Relative path defaults are resolved against `base_dir`. On failure returns nullopt with a
// sentence saying what is wrong in `problem`.
std::optional<CompiledSpec> compile_spec(const sdk::SettingSpec& spec,
                                         const std::vector<sdk::ListenerSpec>& listener_default,
                                         const std::filesystem::path& base_dir,
                                         std::string* problem);

// Resolves a non-empty path against `base_dir` and makes it lexically normal.
std::string resolve_path(const std::string& text, const std::filesystem::path& base_dir);

struct ValueSite {
  const YAML::Node& node;  // the value (may be null)
  YAML::Mark key_mark;     // where the key is, used when the value has no position of its own
  std::string key_path;    // dotted, e.g. "plugins.imap.command_timeout"
};

// Checks one value against its spec; nullopt (with errors recorded) when it is not acceptable.
std::optional<sdk::SettingValue> validate_value(const ValueSite& site, const CompiledSpec& spec,
                                                const std::filesystem::path& base_dir,
                                                Diagnostics& diag);

// Checks a YAML list of listeners; used by validate_value for listener_list settings.
std::optional<std::vector<sdk::ListenerSpec>> validate_listeners(
    const ValueSite& site, const std::filesystem::path& base_dir, Diagnostics& diag);

// A key whose value the generic rules cannot describe (server.tls.sni).
using CustomValidator =
    std::function<std::optional<sdk::SettingValue>(const ValueSite&, Diagnostics&)>;

// Where a key was given in the file.
struct GivenKey {
  YAML::Mark key_mark;
  YAML::Mark value_mark;
};

struct SectionResult {
  sdk::Settings settings;                 // every spec's key: the given value or the default
  std::map<std::string, GivenKey> given;  // keys present in the file
  bool ok = true;                         // no error inside this section
};

// Walks `mapping` (null counts as empty) against `specs`, whose dotted keys nest mappings.
// Unknown keys, duplicate keys and bad values are errors named `prefix.key`.
SectionResult validate_section(const YAML::Node& mapping, const std::vector<CompiledSpec>& specs,
                               const std::string& prefix, const std::filesystem::path& base_dir,
                               Diagnostics& diag,
                               const std::map<std::string, CustomValidator>& custom = {});

// Iterates a mapping's pairs, reporting non-scalar and duplicate keys; calls `visit` for each
// remaining pair with its key text.
void for_each_pair(const YAML::Node& mapping, const std::string& prefix, Diagnostics& diag,
                   const std::function<void(const std::string& key, const YAML::Node& key_node,
                                            const YAML::Node& value)>& visit);

// "prefix.key", or "key" when the prefix is empty.
std::string join_key(const std::string& prefix, const std::string& key);

// "127.0.0.1:143 (starttls)" for describe and messages.
std::string listener_text(const sdk::ListenerSpec& l);

}  // namespace portico::core::config_detail

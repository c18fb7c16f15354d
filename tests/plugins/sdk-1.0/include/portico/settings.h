// Portico SDK — settings: how a plugin declares its configuration, and how it reads it back.
//
// A plugin never parses YAML. It returns a Schema (one SettingSpec per key, with a type carrying
// units, a default written as the operator would write it, bounds and help text) and the core
// validates the operator's file against it before anything starts. The validated values reach
// the plugin as a Settings object whose getters return typed values: durations as
// std::chrono::milliseconds, sizes as bytes, never bare integers.
//
// Guarantees: standard C++ types only; header-only; every getter of a key the schema declared
// succeeds after validation (a getter of an undeclared key throws std::out_of_range, inside the
// plugin, which is a plugin bug).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace portico::sdk {

// The kinds of value a setting can hold. Texts are written the way an operator writes YAML:
//   boolean  true | false            integer  42
//   duration 90s, 5m, 2h, 1d, 250ms  size     0, 512, 64KB, 25MB, 1GB (1024-based)
//   string   any text                enumeration  one of the spec's choices
//   string_list  [a, b]              listener_list  [{address, port, tls}]
//   path     a file or folder; relative paths resolve against the config file's folder
enum class SettingType {
  boolean,
  integer,
  duration,
  size,
  string,
  enumeration,
  string_list,
  listener_list,
  path,
};

inline const char* to_string(SettingType t) noexcept {
  switch (t) {
    case SettingType::boolean:
      return "boolean";
    case SettingType::integer:
      return "integer";
    case SettingType::duration:
      return "duration";
    case SettingType::size:
      return "size";
    case SettingType::string:
      return "string";
    case SettingType::enumeration:
      return "enum";
    case SettingType::string_list:
      return "list of strings";
    case SettingType::listener_list:
      return "list of listeners";
    case SettingType::path:
      return "path";
  }
  return "?";
}

// How a listener speaks TLS.
enum class TlsMode { none, starttls, implicit };

inline const char* to_string(TlsMode m) noexcept {
  switch (m) {
    case TlsMode::none:
      return "none";
    case TlsMode::starttls:
      return "starttls";
    case TlsMode::implicit:
      return "implicit";
  }
  return "?";
}

// One address and port a protocol listens on. `certificate`/`key` name this listener's own
// certificate (otherwise the server's certificates are offered, chosen by SNI).
struct ListenerSpec {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::none;
  std::string certificate;
  std::string key;

  friend bool operator==(const ListenerSpec& a, const ListenerSpec& b) {
    return a.address == b.address && a.port == b.port && a.tls == b.tls &&
           a.certificate == b.certificate && a.key == b.key;
  }
};

// A byte count (settings of type size).
struct ByteSize {
  std::uint64_t bytes = 0;
  friend bool operator==(ByteSize a, ByteSize b) { return a.bytes == b.bytes; }
};

using SettingValue = std::variant<bool, std::int64_t, std::chrono::milliseconds, ByteSize,
                                  std::string, std::vector<std::string>, std::vector<ListenerSpec>>;

// One declared key. Keys are snake_case; a dot nests a key in a YAML mapping
// ("submission.port" is `submission: {port: ...}`). Defaults and bounds are written as the
// operator would write them ("5m", "25MB", "true"); the core parses them with the same rules as
// the file and refuses a plugin whose own defaults do not parse.
struct SettingSpec {
  std::string key;
  SettingType type = SettingType::string;
  std::string default_text;  // for listener_list: ignored, see Schema::shared.listeners
  std::string help;
  std::string min_text;               // integer, duration, size: inclusive lower bound, if any
  std::string max_text;               // inclusive upper bound, if any
  std::vector<std::string> choices;   // enumeration: the allowed words
  bool zero_means_unlimited = false;  // documents that 0 switches the limit off
};

// Defaults a plugin gives to the keys every protocol shares. The core declares those keys once
// (enabled, listeners, banner, command_timeout, session_timeout, session_timeout_enabled,
// max_bad_commands, max_connections, max_connections_per_address).
struct SharedDefaults {
  std::vector<ListenerSpec> listeners;
  std::string banner;
  std::string command_timeout = "2m";
  std::string session_timeout = "10m";
  bool session_timeout_enabled = true;
  std::int64_t max_bad_commands = 8;
  std::int64_t max_connections = 1000;
  std::int64_t max_connections_per_address = 0;  // 0: unlimited
};

// A plugin's whole configuration surface.
struct Schema {
  std::string summary;  // one line shown by `portico plugins list`
  SharedDefaults shared;
  std::vector<SettingSpec> settings;  // the plugin's own keys
};

// Validated values of one plugin's settings (shared keys included, under their own names).
class Settings {
 public:
  Settings() = default;
  explicit Settings(std::map<std::string, SettingValue> values) : values_(std::move(values)) {}

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const SettingValue& value(const std::string& key) const { return values_.at(key); }

  bool get_bool(const std::string& key) const { return get<bool>(key); }
  std::int64_t get_int(const std::string& key) const { return get<std::int64_t>(key); }
  std::chrono::milliseconds get_duration(const std::string& key) const {
    return get<std::chrono::milliseconds>(key);
  }
  std::uint64_t get_size(const std::string& key) const { return get<ByteSize>(key).bytes; }
  // string, enumeration and path settings (paths are already absolute).
  const std::string& get_string(const std::string& key) const { return get<std::string>(key); }
  const std::vector<std::string>& get_list(const std::string& key) const {
    return get<std::vector<std::string>>(key);
  }
  const std::vector<ListenerSpec>& get_listeners(const std::string& key) const {
    return get<std::vector<ListenerSpec>>(key);
  }

  const std::map<std::string, SettingValue>& all() const { return values_; }
  void set(const std::string& key, SettingValue v) { values_[key] = std::move(v); }

 private:
  template <typename T>
  const T& get(const std::string& key) const {
    const T* v = std::get_if<T>(&values_.at(key));
    if (v == nullptr) throw std::out_of_range("setting '" + key + "' has another type");
    return *v;
  }
  std::map<std::string, SettingValue> values_;
};

}  // namespace portico::sdk

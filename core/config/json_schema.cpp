// Portico core — `portico plugins schema`: a JSON Schema (draft 2020-12) of the whole file.
//
// Generated from the same tables as validation: the server section, and one object per installed
// plugin (shared keys plus its own), with types, bounds, choices, defaults and help texts.
// Dotted keys become nested objects; every object refuses unknown properties, except the
// `plugins` map, which tolerates entries of plugins that are not installed (the loader warns).
// Durations and sizes are strings with a pattern (their bounds are in the description, as JSON
// Schema cannot compare units). Strings are escaped by the core's one JSON escaper (log.h).

#include "core/config/internal.h"
#include "core/config/units.h"
#include "core/log/log.h"

namespace portico::core {

namespace {

using sdk::SettingSpec;
using sdk::SettingType;

// A minimal JSON value: enough to build a schema and print it indented.
struct Json {
  enum class Kind { boolean, number, string, array, object } kind = Kind::object;
  bool boolean = false;
  std::string text;  // number (already formatted) or string
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  static Json of(bool b) {
    Json j;
    j.kind = Kind::boolean;
    j.boolean = b;
    return j;
  }
  static Json of(std::int64_t n) {
    Json j;
    j.kind = Kind::number;
    j.text = std::to_string(n);
    return j;
  }
  static Json of(std::string s) {
    Json j;
    j.kind = Kind::string;
    j.text = std::move(s);
    return j;
  }
  static Json of(const char* s) { return of(std::string(s)); }
  static Json array(std::vector<Json> items = {}) {
    Json j;
    j.kind = Kind::array;
    j.items = std::move(items);
    return j;
  }
  Json& set(const std::string& key, Json value) {
    for (auto& [k, v] : members) {
      if (k == key) {
        v = std::move(value);
        return v;
      }
    }
    members.emplace_back(key, std::move(value));
    return members.back().second;
  }
  Json* find(const std::string& key) {
    for (auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

void escape(std::string& out, const std::string& s) {
  out += '"';
  out += json_escape(s);
  out += '"';
}

void write(std::string& out, const Json& j, int depth) {
  const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string close_pad(static_cast<std::size_t>(depth) * 2, ' ');
  switch (j.kind) {
    case Json::Kind::boolean:
      out += j.boolean ? "true" : "false";
      return;
    case Json::Kind::number:
      out += j.text;
      return;
    case Json::Kind::string:
      escape(out, j.text);
      return;
    case Json::Kind::array:
      if (j.items.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (std::size_t i = 0; i < j.items.size(); ++i) {
        out += pad;
        write(out, j.items[i], depth + 1);
        out += i + 1 < j.items.size() ? ",\n" : "\n";
      }
      out += close_pad + "]";
      return;
    case Json::Kind::object:
      if (j.members.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (std::size_t i = 0; i < j.members.size(); ++i) {
        out += pad;
        escape(out, j.members[i].first);
        out += ": ";
        write(out, j.members[i].second, depth + 1);
        out += i + 1 < j.members.size() ? ",\n" : "\n";
      }
      out += close_pad + "}";
      return;
  }
}

Json object_schema() {
  Json j;
  j.set("type", Json::of("object"));
  j.set("additionalProperties", Json::of(false));
  j.set("properties", Json());
  return j;
}

constexpr const char* kDurationPattern = "^(0|[0-9]+(ms|s|m|h|d))$";
constexpr const char* kSizePattern = "^[0-9]+([KkMmGgTt]?[Bb])?$";

Json listener_schema() {
  Json j = object_schema();
  j.set("required", Json::array({Json::of("port")}));
  Json& p = *j.find("properties");
  Json address;
  address.set("type", Json::of("string"));
  address.set("default", Json::of("127.0.0.1"));
  address.set("description", Json::of("IP address literal (IPv4 or IPv6)."));
  p.set("address", address);
  Json port;
  port.set("type", Json::of("integer"));
  port.set("minimum", Json::of(std::int64_t{1}));
  port.set("maximum", Json::of(std::int64_t{65535}));
  p.set("port", port);
  Json tls;
  tls.set("enum", Json::array({Json::of("none"), Json::of("starttls"), Json::of("implicit")}));
  tls.set("default", Json::of("none"));
  p.set("tls", tls);
  Json file;
  file.set("type", Json::of("string"));
  p.set("certificate", file);
  p.set("key", file);
  return j;
}

Json listener_value(const sdk::ListenerSpec& l) {
  Json j;
  j.set("address", Json::of(l.address));
  j.set("port", Json::of(static_cast<std::int64_t>(l.port)));
  j.set("tls", Json::of(sdk::to_string(l.tls)));
  if (!l.certificate.empty()) j.set("certificate", Json::of(l.certificate));
  if (!l.key.empty()) j.set("key", Json::of(l.key));
  return j;
}

// The schema of one setting, with its default taken from the compiled (parsed) value.
Json setting_schema(const config_detail::CompiledSpec& c, bool is_server) {
  const SettingSpec& spec = c.spec;
  Json j;
  std::string description = spec.help;
  const auto note = [&description](const std::string& text) {
    description += (description.empty() ? "" : " ") + text;
  };
  switch (spec.type) {
    case SettingType::boolean:
      j.set("type", Json::of("boolean"));
      j.set("default", Json::of(std::get<bool>(c.default_value)));
      break;
    case SettingType::integer:
      j.set("type", Json::of("integer"));
      if (c.min_int) j.set("minimum", Json::of(*c.min_int));
      if (c.max_int) j.set("maximum", Json::of(*c.max_int));
      j.set("default", Json::of(std::get<std::int64_t>(c.default_value)));
      break;
    case SettingType::duration:
    case SettingType::size: {
      const bool duration = spec.type == SettingType::duration;
      Json text;
      text.set("type", Json::of("string"));
      text.set("pattern", Json::of(duration ? kDurationPattern : kSizePattern));
      Json number;
      number.set("type", Json::of("integer"));
      if (duration)
        number.set("const", Json::of(std::int64_t{0}));
      else
        number.set("minimum", Json::of(std::int64_t{0}));
      j.set("anyOf", Json::array({text, number}));
      j.set(
          "default",
          Json::of(duration ? format_duration(std::get<std::chrono::milliseconds>(c.default_value))
                            : format_size(std::get<sdk::ByteSize>(c.default_value).bytes)));
      if (!spec.min_text.empty() || !spec.max_text.empty()) {
        note("Range: " + (spec.min_text.empty() ? "0" : spec.min_text) + " .. " +
             (spec.max_text.empty() ? "no limit" : spec.max_text) + ".");
      }
      break;
    }
    case SettingType::enumeration: {
      Json choices = Json::array();
      for (const auto& choice : spec.choices)
        choices.items.push_back(Json::of(choice));
      j.set("enum", choices);
      j.set("default", Json::of(std::get<std::string>(c.default_value)));
      break;
    }
    case SettingType::string:
    case SettingType::path:
      j.set("type", Json::of("string"));
      j.set("default", Json::of(spec.default_text));
      break;
    case SettingType::string_list: {
      j.set("type", Json::of("array"));
      if (is_server && spec.key == "tls.sni") {
        Json pair = object_schema();
        pair.set("required", Json::array({Json::of("certificate"), Json::of("key")}));
        Json file;
        file.set("type", Json::of("string"));
        pair.find("properties")->set("certificate", file);
        pair.find("properties")->set("key", file);
        j.set("items", pair);
        j.set("default", Json::array());
        break;
      }
      Json item;
      item.set("type", Json::of("string"));
      j.set("items", item);
      Json defaults = Json::array();
      for (const auto& s : std::get<std::vector<std::string>>(c.default_value)) {
        defaults.items.push_back(Json::of(s));
      }
      j.set("default", defaults);
      break;
    }
    case SettingType::listener_list: {
      j.set("type", Json::array({Json::of("array"), Json::of("null")}));
      j.set("items", listener_schema());
      Json defaults = Json::array();
      for (const auto& l : std::get<std::vector<sdk::ListenerSpec>>(c.default_value)) {
        defaults.items.push_back(listener_value(l));
      }
      j.set("default", defaults);
      break;
    }
  }
  if (spec.zero_means_unlimited) note("0 means unlimited.");
  if (!description.empty()) j.set("description", Json::of(description));
  return j;
}

// Places each setting in `section` (an object schema), nesting objects for dotted keys.
void add_settings(Json& section, const std::vector<config_detail::CompiledSpec>& specs,
                  bool is_server) {
  for (const auto& c : specs) {
    Json* level = &section;
    const std::string& key = c.spec.key;
    std::size_t start = 0;
    for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
      const std::string part = key.substr(start, dot - start);
      Json& properties = *level->find("properties");
      Json* child = properties.find(part);
      if (child == nullptr) child = &properties.set(part, object_schema());
      level = child;
      start = dot + 1;
    }
    level->find("properties")->set(key.substr(start), setting_schema(c, is_server));
  }
}

std::vector<config_detail::CompiledSpec> compile_all(const std::vector<SettingSpec>& specs,
                                                     const sdk::SharedDefaults& shared) {
  std::vector<config_detail::CompiledSpec> out;
  for (const auto& spec : specs) {
    std::string problem;
    // A spec that does not compile is left out: the loader reports it as the plugin's defect.
    if (auto c = config_detail::compile_spec(spec, shared.listeners, {}, &problem)) {
      out.push_back(std::move(*c));
    }
  }
  return out;
}

}  // namespace

std::string json_schema(const PluginSchemas& plugins) {
  Json root;
  root.set("$schema", Json::of("https://json-schema.org/draft/2020-12/schema"));
  root.set("title", Json::of("Portico configuration"));
  root.set("type", Json::of("object"));
  root.set("additionalProperties", Json::of(false));
  Json& properties = root.set("properties", Json());

  Json server = object_schema();
  server.set("description", Json::of(server_schema().summary));
  add_settings(server, compile_all(server_schema().settings, {}), true);
  properties.set("server", server);

  Json plugin_map;
  plugin_map.set("type", Json::of("object"));
  plugin_map.set("description",
                 Json::of("One entry per protocol plugin, keyed by the plugin's name."));
  // Entries of plugins that are not installed are tolerated (the loader warns about them).
  Json any_object;
  any_object.set("type", Json::of("object"));
  plugin_map.set("additionalProperties", any_object);
  Json& plugin_properties = plugin_map.set("properties", Json());
  for (const auto& [name, info] : plugins) {
    Json plugin = object_schema();
    if (!info.schema.summary.empty()) plugin.set("description", Json::of(info.schema.summary));
    std::vector<SettingSpec> specs = shared_specs(info.schema.shared);
    specs.insert(specs.end(), info.schema.settings.begin(), info.schema.settings.end());
    add_settings(plugin, compile_all(specs, info.schema.shared), false);
    plugin_properties.set(name, plugin);
  }
  properties.set("plugins", plugin_map);

  std::string out;
  write(out, root, 0);
  out += '\n';
  return out;
}

}  // namespace portico::core

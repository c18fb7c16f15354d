// Portico core — walking one YAML mapping against a table of settings, and listener lists.
//
// Guarantees: every key in the mapping is either declared (dotted keys nest mappings:
// "submission.port" is `submission: {port: ...}`) or reported as unknown with a suggestion;
// a key given twice is reported (yaml-cpp keeps both pairs; the first one wins); every declared
// key ends up in the resulting Settings, with the given value when it is valid and the default
// otherwise, so callers can always read every key. Listener entries are checked field by field
// and errors point at the entry.
#include <set>
#include <stdexcept>

#include "core/config/internal.h"

namespace portico::core::config_detail {

namespace fs = std::filesystem;
using sdk::SettingType;
using sdk::SettingValue;

void for_each_pair(const YAML::Node& mapping, const std::string& prefix, Diagnostics& diag,
                   const std::function<void(const std::string& key, const YAML::Node& key_node,
                                            const YAML::Node& value)>& visit) {
  std::map<std::string, YAML::Mark> seen;
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      diag.error(key_node.Mark(), prefix, "a key must be a plain word, not " + kind_name(key_node));
      continue;
    }
    const std::string key = key_node.Scalar();
    const auto [first, inserted] = seen.emplace(key, key_node.Mark());
    if (!inserted) {
      diag.error(
          key_node.Mark(), join_key(prefix, key),
          "given twice (first on line " + std::to_string(line_of(first->second)) + "); remove one");
      continue;
    }
    visit(key, key_node, value);
  }
}

namespace {

// The dotted keys of a table, as a tree of mapping levels.
struct Level {
  std::map<std::string, Level> children;
  std::optional<std::size_t> spec;  // set when a setting ends here
};

Level build_tree(const std::vector<CompiledSpec>& specs) {
  Level root;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    Level* level = &root;
    const std::string& key = specs[i].spec.key;
    std::size_t start = 0;
    while (true) {
      const auto dot = key.find('.', start);
      level = &level->children[key.substr(start, dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    level->spec = i;
  }
  return root;
}

struct Found {
  YAML::Node value;
  GivenKey where;
};

void walk(const YAML::Node& mapping, const Level& level, const std::string& path, Diagnostics& diag,
          std::map<std::size_t, Found>& found) {
  if (mapping.IsNull()) return;
  if (!mapping.IsMap()) {
    diag.error(mapping.Mark(), path, "expected a mapping of settings, got " + kind_name(mapping));
    return;
  }
  std::vector<std::string> known;
  for (const auto& [name, child] : level.children)
    known.push_back(name);
  for_each_pair(mapping, path, diag,
                [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
                  const auto child = level.children.find(key);
                  if (child == level.children.end()) {
                    diag.error(key_node.Mark(), join_key(path, key),
                               "unknown setting '" + key + "'" + did_you_mean(key, known));
                    return;
                  }
                  const Level& next = child->second;
                  const bool nested = !next.children.empty() && (value.IsMap() || !next.spec);
                  if (nested) {
                    walk(value, next, join_key(path, key), diag, found);
                  } else {
                    const YAML::Mark value_mark = value.IsNull() ? key_node.Mark() : value.Mark();
                    found[*next.spec] = Found{value, {key_node.Mark(), value_mark}};
                  }
                });
}

// A spec's default; a relative path default is taken from the config file's folder too.
SettingValue default_for(const CompiledSpec& spec, const fs::path& base_dir) {
  if (spec.spec.type == SettingType::path) {
    return resolve_path(std::get<std::string>(spec.default_value), base_dir);
  }
  return spec.default_value;
}

}  // namespace

SectionResult validate_section(const YAML::Node& mapping, const std::vector<CompiledSpec>& specs,
                               const std::string& prefix, const fs::path& base_dir,
                               Diagnostics& diag,
                               const std::map<std::string, CustomValidator>& custom) {
  SectionResult result;
  const std::size_t errors_before = diag.error_count();
  std::map<std::size_t, Found> found;
  walk(mapping, build_tree(specs), prefix, diag, found);

  for (std::size_t i = 0; i < specs.size(); ++i) {
    const CompiledSpec& spec = specs[i];
    const auto it = found.find(i);
    if (it == found.end()) {
      result.settings.set(spec.spec.key, default_for(spec, base_dir));
      continue;
    }
    result.given[spec.spec.key] = it->second.where;
    const ValueSite site{it->second.value, it->second.where.key_mark,
                         join_key(prefix, spec.spec.key)};
    const auto special = custom.find(spec.spec.key);
    std::optional<SettingValue> value = special != custom.end()
                                            ? special->second(site, diag)
                                            : validate_value(site, spec, base_dir, diag);
    result.settings.set(spec.spec.key, value ? std::move(*value) : default_for(spec, base_dir));
  }
  result.ok = diag.error_count() == errors_before;
  return result;
}

// ---- Listeners -----------------------------------------------------------------------------

namespace {

struct ListenerFields {
  CompiledSpec address, port, tls, certificate, key;
  std::vector<std::string> names{"address", "port", "tls", "certificate", "key"};
};

// One field of a listener entry; these fixed tables always compile.
CompiledSpec field(std::string key, SettingType type, std::string default_text,
                   std::vector<std::string> choices = {}) {
  sdk::SettingSpec spec;
  spec.key = std::move(key);
  spec.type = type;
  spec.default_text = std::move(default_text);
  spec.choices = std::move(choices);
  if (type == SettingType::integer) {
    spec.min_text = "1";
    spec.max_text = "65535";
  }
  std::string problem;
  auto compiled = compile_spec(spec, {}, fs::path(), &problem);
  if (!compiled) throw std::logic_error("listener field " + spec.key + ": " + problem);
  return std::move(*compiled);
}

const ListenerFields& listener_fields() {
  static const ListenerFields fields{
      field("address", SettingType::string, "127.0.0.1"),
      field("port", SettingType::integer, "1"),  // required: the default is never used
      field("tls", SettingType::enumeration, "none", {"none", "starttls", "implicit"}),
      field("certificate", SettingType::path, ""),
      field("key", SettingType::path, ""),
  };
  return fields;
}

std::optional<sdk::ListenerSpec> validate_listener(const YAML::Node& entry,
                                                   const YAML::Mark& fallback,
                                                   const std::string& path,
                                                   const fs::path& base_dir, Diagnostics& diag) {
  const YAML::Mark at = entry.IsNull() ? fallback : entry.Mark();
  if (!entry.IsMap()) {
    diag.error(at, path, "expected a listener {address, port, tls}, got " + kind_name(entry));
    return std::nullopt;
  }
  const ListenerFields& f = listener_fields();
  const std::size_t errors_before = diag.error_count();
  sdk::ListenerSpec listener;
  bool has_port = false;
  for_each_pair(
      entry, path, diag,
      [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
        const CompiledSpec* spec = key == "address"       ? &f.address
                                   : key == "port"        ? &f.port
                                   : key == "tls"         ? &f.tls
                                   : key == "certificate" ? &f.certificate
                                   : key == "key"         ? &f.key
                                                          : nullptr;
        const std::string key_path = join_key(path, key);
        if (spec == nullptr) {
          diag.error(key_node.Mark(), key_path,
                     "unknown listener setting '" + key + "'" + did_you_mean(key, f.names));
          return;
        }
        const auto v = validate_value({value, key_node.Mark(), key_path}, *spec, base_dir, diag);
        if (!v) {
          if (spec == &f.port) has_port = true;  // reported already
          return;
        }
        if (spec == &f.address) {
          listener.address = std::get<std::string>(*v);
          if (!is_ip_literal(listener.address)) {
            diag.error(value.Mark(), key_path,
                       echoed(listener.address) +
                           " is not an IP address (write a literal such as 127.0.0.1, "
                           "::1, 0.0.0.0 or ::)");
          }
        } else if (spec == &f.port) {
          has_port = true;
          listener.port = static_cast<std::uint16_t>(std::get<std::int64_t>(*v));
        } else if (spec == &f.tls) {
          const auto& mode = std::get<std::string>(*v);
          listener.tls = mode == "starttls"   ? sdk::TlsMode::starttls
                         : mode == "implicit" ? sdk::TlsMode::implicit
                                              : sdk::TlsMode::none;
        } else if (spec == &f.certificate) {
          listener.certificate = std::get<std::string>(*v);
        } else {
          listener.key = std::get<std::string>(*v);
        }
      });
  if (!has_port) diag.error(at, path, "a listener needs a port (1 to 65535)");
  if (listener.certificate.empty() != listener.key.empty()) {
    diag.error(at, path,
               listener.key.empty() ? "certificate is set without key; give both or neither"
                                    : "key is set without certificate; give both or neither");
  }
  if (diag.error_count() != errors_before) return std::nullopt;
  return listener;
}

}  // namespace

std::optional<std::vector<sdk::ListenerSpec>> validate_listeners(const ValueSite& site,
                                                                 const fs::path& base_dir,
                                                                 Diagnostics& diag) {
  std::vector<sdk::ListenerSpec> listeners;
  const YAML::Node& node = site.node;
  if (node.IsNull()) return listeners;
  if (!node.IsSequence()) {
    diag.error(node.Mark(), site.key_path,
               "expected a list of listeners ({address, port, tls} each), got " + kind_name(node));
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = site.key_path + "[" + std::to_string(i) + "]";
    auto listener = validate_listener(node[i], node.Mark(), path, base_dir, diag);
    if (listener)
      listeners.push_back(std::move(*listener));
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return listeners;
}

}  // namespace portico::core::config_detail

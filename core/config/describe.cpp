// Portico core — `portico plugins describe NAME`: a plain-text page generated from a schema.
//
// The page lists every setting an operator may write (for a plugin: the shared keys with the
// plugin's defaults first, then the plugin's own keys) with its type, default, bounds, choices
// and help text wrapped to 78 columns. It is generated from the same tables the validator uses,
// so it cannot drift from what the file accepts.
#include <sstream>

#include "core/config/internal.h"

namespace portico::core {

namespace {

using config_detail::listener_text;
using sdk::SettingSpec;
using sdk::SettingType;

constexpr std::size_t kWidth = 78;
constexpr std::size_t kIndent = 4;

// Appends `text` as lines of at most kWidth columns, each starting with `indent` spaces.
void wrap(std::ostringstream& out, const std::string& text, std::size_t indent) {
  std::istringstream words(text);
  std::string word;
  std::string line;
  const auto flush = [&] {
    if (!line.empty()) out << std::string(indent, ' ') << line << '\n';
    line.clear();
  };
  while (words >> word) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > kWidth) flush();
    line += (line.empty() ? "" : " ") + word;
  }
  flush();
}

void heading(std::ostringstream& out, const std::string& title, char underline) {
  out << title << '\n' << std::string(title.size(), underline) << "\n";
}

std::string default_text(const SettingSpec& spec, const sdk::SharedDefaults& shared) {
  if (spec.type == SettingType::listener_list) {
    std::string out;
    for (const auto& l : shared.listeners)
      out += (out.empty() ? "" : ", ") + listener_text(l);
    return out.empty() ? "(none)" : out;
  }
  if (!spec.default_text.empty()) return spec.default_text;
  switch (spec.type) {
    case SettingType::boolean:
      return "false";
    case SettingType::integer:
    case SettingType::duration:
    case SettingType::size:
      return "0";
    case SettingType::enumeration:
      return spec.choices.empty() ? "(none)" : spec.choices.front();
    default:
      return "(none)";
  }
}

std::string type_text(const SettingSpec& spec, bool is_server) {
  if (is_server && spec.key == "tls.sni") return "list of {certificate, key}";
  return sdk::to_string(spec.type);
}

bool has_bounds(SettingType type) {
  return type == SettingType::integer || type == SettingType::duration || type == SettingType::size;
}

void describe_setting(std::ostringstream& out, const SettingSpec& spec,
                      const sdk::SharedDefaults& shared, bool is_server) {
  out << '\n' << spec.key << '\n';
  std::string facts =
      "Type: " + type_text(spec, is_server) + ".  Default: " + default_text(spec, shared) + ".";
  if (has_bounds(spec.type)) {
    if (!spec.min_text.empty() && !spec.max_text.empty()) {
      facts += "  Range: " + spec.min_text + " .. " + spec.max_text + ".";
    } else if (!spec.min_text.empty()) {
      facts += "  At least " + spec.min_text + ".";
    } else if (!spec.max_text.empty()) {
      facts += "  At most " + spec.max_text + ".";
    }
  }
  wrap(out, facts, kIndent);
  if (!spec.choices.empty()) {
    std::string choices = "Choices: ";
    for (std::size_t i = 0; i < spec.choices.size(); ++i) {
      choices += (i == 0 ? "" : ", ") + spec.choices[i];
    }
    wrap(out, choices + ".", kIndent);
  }
  if (spec.zero_means_unlimited) wrap(out, "0 means unlimited.", kIndent);
  if (!spec.help.empty()) wrap(out, spec.help, kIndent);
}

}  // namespace

std::string describe_plugin(const std::string& name, const std::string& version,
                            const sdk::Schema& schema) {
  const bool is_server = &schema == &server_schema();
  std::ostringstream out;
  std::string title = is_server ? "Section " + name : "Plugin " + name;
  if (!version.empty()) title += " " + version;
  heading(out, title, '=');
  if (!schema.summary.empty()) wrap(out, schema.summary, 0);

  const std::string where = is_server ? "server:" : "plugins: " + name + ":";
  out << '\n';
  wrap(out,
       "Settings go under `" + where +
           "` in the configuration file. A dotted key such as a.b nests: `a: {b: ...}`. "
           "Durations take ms, s, m, h or d (90s, 5m); sizes take B, KB, MB, GB or TB "
           "(1024-based, 25MB).",
       0);

  if (!is_server) {
    out << '\n';
    heading(out, "Settings every protocol shares", '-');
    for (const auto& spec : shared_specs(schema.shared)) {
      describe_setting(out, spec, schema.shared, false);
    }
  }
  if (!schema.settings.empty()) {
    out << '\n';
    heading(out, is_server ? "Settings" : "Settings of " + name, '-');
    for (const auto& spec : schema.settings)
      describe_setting(out, spec, schema.shared, is_server);
  }
  return out.str();
}

}  // namespace portico::core

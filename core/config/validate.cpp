// Portico core — typed checking of one configuration value against its SettingSpec.
//
// Guarantees: a value is accepted only if it parses with the rules of its type (units.h for
// durations and sizes, `true`/`false` for booleans, a plain decimal for integers, one of the
// choices for enumerations) and lies within the spec's bounds; otherwise exactly one error is
// recorded for it, at the node's line and column, saying what was given and what is allowed.
// A plugin's own defaults and bounds go through the same parsers (compile_spec).
#include <arpa/inet.h>

#include <algorithm>
#include <limits>

#include "core/config/internal.h"
#include "core/config/units.h"

namespace portico::core::config_detail {

namespace fs = std::filesystem;
using sdk::SettingType;
using sdk::SettingValue;

// ---- Diagnostics ---------------------------------------------------------------------------

int line_of(const YAML::Mark& m) {
  return m.is_null() ? 0 : m.line + 1;
}
int column_of(const YAML::Mark& m) {
  return m.is_null() ? 0 : m.column + 1;
}

void Diagnostics::error(const YAML::Mark& at, std::string key, std::string message) {
  errors_.push_back(
      ConfigError{file_, line_of(at), column_of(at), std::move(key), std::move(message)});
}

void Diagnostics::error_unplaced(std::string key, std::string message) {
  errors_.push_back(ConfigError{file_, 0, 0, std::move(key), std::move(message)});
}

void Diagnostics::warning(const YAML::Mark& at, const std::string& key,
                          const std::string& message) {
  warnings_.push_back(ConfigError{file_, line_of(at), column_of(at), key, message}.to_string());
}

std::vector<ConfigError> Diagnostics::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    const auto rank = [](const ConfigError& e) {
      return std::pair(e.line == 0 ? std::numeric_limits<int>::max() : e.line, e.column);
    };
    return rank(a) < rank(b);
  });
  return std::move(errors_);
}

// ---- Words and messages --------------------------------------------------------------------

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view given, const std::vector<std::string>& known) {
  const std::size_t allowed = given.size() <= 3 ? 1 : 2;
  const std::string* best = nullptr;
  std::size_t best_distance = allowed + 1;
  for (const std::string& word : known) {
    const std::size_t d = edit_distance(given, word);
    if (d < best_distance) {
      best = &word;
      best_distance = d;
    }
  }
  if (best == nullptr && given.size() >= 3) {
    for (const std::string& word : known) {
      if (word.size() > given.size() && word.compare(0, given.size(), given) == 0) {
        best = &word;
        break;
      }
    }
  }
  return best == nullptr ? std::string() : " (did you mean '" + *best + "'?)";
}

std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string echoed(std::string_view text) {
  return parse_int(text) ? std::string(text) : in_quotes(text);
}

std::string kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "the value " + echoed(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "no value";
}

std::string join_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string listener_text(const sdk::ListenerSpec& l) {
  const bool v6 = l.address.find(':') != std::string::npos;
  std::string out = (v6 ? "[" + l.address + "]" : l.address) + ":" + std::to_string(l.port);
  if (l.tls != sdk::TlsMode::none) out += std::string(" (") + sdk::to_string(l.tls) + ")";
  return out;
}

// ---- Scalar parsers ------------------------------------------------------------------------

std::optional<bool> parse_bool(std::string_view text) {
  // YAML 1.2 core schema spellings; yes/no/on/off are deliberately refused as ambiguous.
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  // Accumulate the magnitude as unsigned so that INT64_MIN parses.
  std::uint64_t magnitude = 0;
  const std::uint64_t limit =
      negative ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1
               : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (limit - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  if (!negative) return static_cast<std::int64_t>(magnitude);
  if (magnitude == limit) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(magnitude);
}

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string expected_spelling(SettingType type, const sdk::SettingSpec& spec) {
  switch (type) {
    case SettingType::boolean:
      return "true or false";
    case SettingType::integer:
      return "a whole number, e.g. 42";
    case SettingType::duration:
      return "use a number with ms, s, m, h or d, e.g. 90s or 5m";
    case SettingType::size:
      return "use a number of bytes, or one with KB, MB, GB or TB, e.g. 25MB";
    case SettingType::enumeration: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        out += (i == 0 ? "" : ", ") + spec.choices[i];
      }
      return out;
    }
    case SettingType::string:
      return "a text";
    case SettingType::path:
      return "a file or folder name";
    case SettingType::string_list:
      return "a list of texts, e.g. [a, b]";
    case SettingType::listener_list:
      return "a list of {address, port, tls}";
  }
  return "";
}

namespace {

std::string type_article(SettingType type) {
  switch (type) {
    case SettingType::boolean:
      return "a boolean";
    case SettingType::integer:
      return "an integer";
    case SettingType::duration:
      return "a duration";
    case SettingType::size:
      return "a size";
    case SettingType::enumeration:
      return "a choice";
    case SettingType::string:
      return "a string";
    case SettingType::path:
      return "a path";
    case SettingType::string_list:
      return "a list of strings";
    case SettingType::listener_list:
      return "a list of listeners";
  }
  return "a value";
}

// The outcome of reading one scalar text as a typed value.
struct Parsed {
  std::optional<SettingValue> value;
  std::string problem;  // set when value is empty: the message after the key
};

template <typename T>
std::string check_bounds(std::string_view given, T value, const std::optional<T>& min,
                         const std::optional<T>& max, const sdk::SettingSpec& spec) {
  if (min && value < *min) {
    return std::string(given) + " is below the minimum " + spec.min_text;
  }
  if (max && value > *max) {
    return std::string(given) + " is above the maximum " + spec.max_text;
  }
  return "";
}

std::string not_a(std::string_view given, const sdk::SettingSpec& spec) {
  return echoed(given) + " is not " + type_article(spec.type) + " (" +
         expected_spelling(spec.type, spec) + ")";
}

// Reads a scalar text for every type but the two list types. Bounds are checked only when
// `compiled` is given (defaults are checked against bounds once the bounds are known).
Parsed parse_scalar(std::string_view text, const sdk::SettingSpec& spec,
                    const CompiledSpec* compiled, const fs::path& base_dir) {
  Parsed out;
  switch (spec.type) {
    case SettingType::boolean:
      if (auto b = parse_bool(text))
        out.value = *b;
      else
        out.problem = not_a(text, spec);
      break;
    case SettingType::integer: {
      const auto i = parse_int(text);
      if (!i) {
        out.problem = not_a(text, spec);
      } else if (compiled != nullptr) {
        out.problem = check_bounds(text, *i, compiled->min_int, compiled->max_int, spec);
      }
      if (i && out.problem.empty()) out.value = *i;
      break;
    }
    case SettingType::duration: {
      const auto d = parse_duration(text);
      if (!d) {
        out.problem = not_a(text, spec);
      } else if (compiled != nullptr) {
        out.problem = check_bounds(text, *d, compiled->min_duration, compiled->max_duration, spec);
      }
      if (d && out.problem.empty()) out.value = *d;
      break;
    }
    case SettingType::size: {
      const auto s = parse_size(text);
      if (!s) {
        out.problem = not_a(text, spec);
      } else if (compiled != nullptr) {
        out.problem = check_bounds(text, *s, compiled->min_size, compiled->max_size, spec);
      }
      if (s && out.problem.empty()) out.value = sdk::ByteSize{*s};
      break;
    }
    case SettingType::enumeration:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) != spec.choices.end()) {
        out.value = std::string(text);
      } else {
        out.problem = echoed(text) + " is not " + expected_spelling(spec.type, spec) +
                      did_you_mean(text, spec.choices);
      }
      break;
    case SettingType::string:
      out.value = std::string(text);
      break;
    case SettingType::path:
      out.value = resolve_path(std::string(text), base_dir);
      break;
    case SettingType::string_list:
    case SettingType::listener_list:
      out.problem = "is not a single value";
      break;
  }
  return out;
}

// A string_list default: YAML flow "[a, b]", or words separated by commas.
std::optional<std::vector<std::string>> parse_list_text(const std::string& text) {
  std::vector<std::string> items;
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return items;
  if (text[first] == '[') {
    try {
      const YAML::Node node = YAML::Load(text);
      if (!node.IsSequence()) return std::nullopt;
      for (const auto& item : node) {
        if (!item.IsScalar()) return std::nullopt;
        items.push_back(item.Scalar());
      }
      return items;
    } catch (const YAML::Exception&) {
      return std::nullopt;
    }
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;  // an empty item
    items.push_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::string resolve_path(const std::string& text, const fs::path& base_dir) {
  if (text.empty()) return text;
  return (base_dir / fs::path(text)).lexically_normal().string();
}

std::optional<CompiledSpec> compile_spec(const sdk::SettingSpec& spec,
                                         const std::vector<sdk::ListenerSpec>& listener_default,
                                         const fs::path& base_dir, std::string* problem) {
  CompiledSpec c;
  c.spec = spec;
  const auto fail = [&](std::string why) {
    *problem = std::move(why);
    return std::nullopt;
  };
  if (spec.key.empty() || spec.key.front() == '.' || spec.key.back() == '.' ||
      spec.key.find("..") != std::string::npos) {
    return fail("declares the malformed key " + in_quotes(spec.key));
  }
  // Bounds first, so that the default can be checked against them.
  const auto bound = [&](const std::string& text, bool is_min) -> std::string {
    if (text.empty()) return "";
    switch (spec.type) {
      case SettingType::integer:
        if (auto i = parse_int(text))
          (is_min ? c.min_int : c.max_int) = *i;
        else
          return not_a(text, spec);
        break;
      case SettingType::duration:
        if (auto d = parse_duration(text))
          (is_min ? c.min_duration : c.max_duration) = *d;
        else
          return not_a(text, spec);
        break;
      case SettingType::size:
        if (auto s = parse_size(text))
          (is_min ? c.min_size : c.max_size) = *s;
        else
          return not_a(text, spec);
        break;
      default:
        break;  // bounds mean nothing for other types
    }
    return "";
  };
  if (auto why = bound(spec.min_text, true); !why.empty()) return fail("minimum: " + why);
  if (auto why = bound(spec.max_text, false); !why.empty()) return fail("maximum: " + why);
  if (spec.type == SettingType::enumeration && spec.choices.empty()) {
    return fail("is an enumeration without choices");
  }

  switch (spec.type) {
    case SettingType::listener_list:
      c.default_value = listener_default;
      return c;
    case SettingType::string_list: {
      auto items = parse_list_text(spec.default_text);
      if (!items) return fail("default: " + in_quotes(spec.default_text) + " is not a list");
      c.default_value = std::move(*items);
      return c;
    }
    default:
      break;
  }
  // An empty default is the type's zero (or the first choice); it must still be in bounds.
  std::string text = spec.default_text;
  if (text.empty()) {
    switch (spec.type) {
      case SettingType::boolean:
        text = "false";
        break;
      case SettingType::integer:
      case SettingType::duration:
      case SettingType::size:
        text = "0";
        break;
      case SettingType::enumeration:
        text = spec.choices.front();
        break;
      default:
        break;
    }
  }
  Parsed parsed = parse_scalar(text, spec, &c, base_dir);
  if (!parsed.value) return fail("default: " + parsed.problem);
  c.default_value = std::move(*parsed.value);
  return c;
}

std::optional<SettingValue> validate_value(const ValueSite& site, const CompiledSpec& compiled,
                                           const fs::path& base_dir, Diagnostics& diag) {
  const sdk::SettingSpec& spec = compiled.spec;
  const YAML::Node& node = site.node;
  const YAML::Mark at = node.IsNull() ? site.key_mark : node.Mark();

  if (spec.type == SettingType::listener_list) {
    auto listeners = validate_listeners(site, base_dir, diag);
    if (!listeners) return std::nullopt;
    return SettingValue(std::move(*listeners));
  }
  if (spec.type == SettingType::string_list) {
    std::vector<std::string> items;
    if (node.IsNull()) return SettingValue(items);
    if (!node.IsSequence()) {
      diag.error(at, site.key_path,
                 "expected " + expected_spelling(spec.type, spec) + ", got " + kind_name(node));
      return std::nullopt;
    }
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      if (!item.IsScalar()) {
        diag.error(item.IsNull() ? at : item.Mark(), site.key_path + "[" + std::to_string(i) + "]",
                   "expected a text, got " + kind_name(item));
        ok = false;
        continue;
      }
      items.push_back(item.Scalar());
    }
    if (!ok) return std::nullopt;
    return SettingValue(std::move(items));
  }

  if (node.IsNull()) {
    // An empty value is an empty text; other types need a value.
    if (spec.type == SettingType::string || spec.type == SettingType::path) {
      return SettingValue(std::string());
    }
    diag.error(at, site.key_path,
               "no value given (expected " + expected_spelling(spec.type, spec) + ")");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    diag.error(at, site.key_path,
               "expected " + type_article(spec.type) + " (" + expected_spelling(spec.type, spec) +
                   "), got " + kind_name(node));
    return std::nullopt;
  }
  Parsed parsed = parse_scalar(node.Scalar(), spec, &compiled, base_dir);
  if (!parsed.value) {
    diag.error(at, site.key_path, parsed.problem);
    return std::nullopt;
  }
  return parsed.value;
}

}  // namespace portico::core::config_detail

// Portico core — plugin loading with Boost.DLL (see loader.h for the contract).
//
// Steps, for every regular *.so file of the plugin folder in name order: load the library
// (nothing but its static initializers runs), find the `portico_plugin` descriptor, check it
// (check_descriptor) and refuse a second library claiming a name already taken. Then plugins
// whose dependencies are not all present are refused, transitively; cycles are refused; the rest
// are created in dependency order, each only after its dependencies were created successfully.
// A server asks only for the plugins it enables: their files are found by name (N.so), and
// the folder is opened whole only for a name not found that way.
//
// Guarantees: nothing thrown by Boost.DLL, the Host lookup or a plugin escapes load_plugins;
// every refusal reason is a single line; a created plugin is destroyed through its own
// descriptor and keeps its library mapped while any reference to it lives.
#include "core/plugins/loader.h"

#include <algorithm>
#include <array>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

namespace portico::core {

class PluginLibrary {
 public:
  explicit PluginLibrary(const std::filesystem::path& file)
      : library_(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local) {}

  bool has(const char* symbol) const { return library_.has(symbol); }
  const portico_plugin_descriptor& descriptor() const {
    return library_.get<const portico_plugin_descriptor>(PORTICO_DESCRIPTOR_SYMBOL_NAME);
  }

 private:
  boost::dll::shared_library library_;
};

namespace {

// Longest plugin name accepted, and most dependencies read from one descriptor.
constexpr std::size_t max_name_length = 64;
constexpr std::size_t max_dependencies = 64;
// Size of the buffer a factory writes its failure reason into.
constexpr std::size_t factory_error_size = 512;

// Reasons are logged as "<file>: <reason>", so they must stay on one line.
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string describe_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    return one_line(ex.what());
  } catch (...) {
    return "unknown exception";
  }
}

// Boost.DLL says "boost::dll::shared_library::load() failed (dlerror system message: <path>:
// <why>): <errno text>"; the part worth showing is <why>.
std::string load_failure(const std::string& what, const std::filesystem::path& file) {
  static constexpr std::string_view marker = "(dlerror system message: ";
  std::string reason = what;
  if (auto start = what.find(marker); start != std::string::npos) {
    start += marker.size();
    auto end = what.rfind(')');
    reason = what.substr(start,
                         end == std::string::npos || end < start ? std::string::npos : end - start);
    const std::string prefix = file.string() + ": ";
    if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
  }
  return "not a loadable library: " + one_line(reason);
}

bool valid_name(const char* name) {
  std::size_t n = std::strlen(name);
  if (n == 0 || n > max_name_length) return false;
  return std::all_of(name, name + n, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string abi_text(unsigned major, unsigned minor) {
  return "ABI " + std::to_string(major) + "." + std::to_string(minor);
}

const std::string core_abi = abi_text(PORTICO_ABI_MAJOR, PORTICO_ABI_MINOR);

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t semi = text.find(';');
    fields.push_back(text.substr(0, semi));
    if (semi == std::string_view::npos) return fields;
    text.remove_prefix(semi + 1);
  }
}

// The first minor whose signature is "compiler;stdlib;containers;ptrN". Before it the SDK wrote
// "compiler;stdlib;ndebug|debug;ptrN", and its header could not see the standard library's
// macros, so its stdlib field says "stdlib-unknown" (see the history in abi.h).
constexpr std::uint16_t kSignatureV2Minor = 3;

bool signature_compatible(const char* plugin_signature, std::uint16_t plugin_minor) {
  if (plugin_signature == nullptr) return false;
  const std::string_view core_signature = PORTICO_BUILD_SIGNATURE;
  if (plugin_minor >= kSignatureV2Minor) return plugin_signature == core_signature;
  // An older plugin: same compiler, standard library (or the old headers' "unknown"), pointer
  // size. NDEBUG changes no layout; checked containers were not recorded then, and the core is
  // not built with them, so nothing is lost by not asking.
  const auto plugin = split_fields(plugin_signature);
  const auto core = split_fields(core_signature);
  if (plugin.size() != 4 || core.size() != 4) return false;
  return plugin[0] == core[0] && (plugin[1] == core[1] || plugin[1] == "stdlib-unknown") &&
         (plugin[2] == "debug" || plugin[2] == "ndebug") && plugin[3] == core[3];
}

// A library whose descriptor passed the checks, waiting for its dependencies.
struct Candidate {
  std::filesystem::path path;
  std::shared_ptr<PluginLibrary> library;
  const portico_plugin_descriptor* descriptor = nullptr;
  std::string name;
  std::string version;
  std::vector<std::string> dependencies;
};

std::vector<std::filesystem::path> plugin_files(const std::filesystem::path& dir,
                                                std::vector<RefusedPlugin>& refused) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    refused.push_back({dir, "cannot read the plugin folder: " + one_line(ec.message())});
    return files;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".so" && it->is_regular_file(type_ec)) {
      files.push_back(it->path());
    }
  }
  if (ec) refused.push_back({dir, "cannot read the plugin folder: " + one_line(ec.message())});
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  return files;
}

// Loads one file and checks its descriptor; nullopt with `refused` filled when it fails.
std::optional<Candidate> open_candidate(const std::filesystem::path& file,
                                        std::vector<RefusedPlugin>& refused) {
  Candidate c;
  c.path = file;
  try {
    c.library = std::make_shared<PluginLibrary>(file);
  } catch (const std::exception& e) {
    refused.push_back({file, load_failure(e.what(), file)});
    return std::nullopt;
  } catch (...) {
    refused.push_back({file, "not a loadable library: unknown error"});
    return std::nullopt;
  }
  try {
    if (!c.library->has(PORTICO_DESCRIPTOR_SYMBOL_NAME)) {
      refused.push_back(
          {file, "no " PORTICO_DESCRIPTOR_SYMBOL_NAME " symbol (not a Portico plugin?)"});
      return std::nullopt;
    }
    c.descriptor = &c.library->descriptor();
  } catch (...) {
    refused.push_back(
        {file, "cannot read the descriptor: " + describe_exception(std::current_exception())});
    return std::nullopt;
  }
  if (auto why = check_descriptor(*c.descriptor)) {
    refused.push_back({file, *why});
    return std::nullopt;
  }
  c.name = c.descriptor->name;
  c.version = c.descriptor->version;
  if (c.descriptor->dependencies != nullptr) {
    for (const char* const* d = c.descriptor->dependencies; *d != nullptr; ++d) {
      c.dependencies.emplace_back(*d);
    }
  }
  return c;
}

// Refuses candidates whose dependencies are absent (neither candidates nor `loaded` before),
// repeatedly, so that refusals propagate.
void drop_missing_dependencies(std::vector<Candidate>& candidates,
                               std::vector<RefusedPlugin>& refused,
                               const std::set<std::string>& loaded) {
  bool changed = true;
  while (changed) {
    changed = false;
    std::set<std::string> present = loaded;
    for (const auto& c : candidates)
      present.insert(c.name);
    for (auto it = candidates.begin(); it != candidates.end();) {
      auto missing = std::find_if(it->dependencies.begin(), it->dependencies.end(),
                                  [&](const std::string& d) { return !present.count(d); });
      if (missing == it->dependencies.end()) {
        ++it;
        continue;
      }
      refused.push_back({it->path, "missing dependency '" + *missing + "'"});
      it = candidates.erase(it);
      changed = true;
    }
  }
}

// Orders candidates so that each comes after its dependencies (stable: by file name among
// equals). Candidates left over sit on or behind a cycle and are refused.
std::vector<Candidate> dependency_order(std::vector<Candidate> candidates,
                                        std::vector<RefusedPlugin>& refused,
                                        const std::set<std::string>& loaded) {
  std::vector<Candidate> ordered;
  std::set<std::string> placed = loaded;
  bool progress = true;
  while (progress && !candidates.empty()) {
    progress = false;
    for (auto it = candidates.begin(); it != candidates.end(); ++it) {
      bool ready = std::all_of(it->dependencies.begin(), it->dependencies.end(),
                               [&](const std::string& d) { return placed.count(d) != 0; });
      if (ready) {
        placed.insert(it->name);
        ordered.push_back(std::move(*it));
        candidates.erase(it);
        progress = true;
        break;
      }
    }
  }
  // Everything left depends, directly or not, on a cycle. Follow the first unplaced dependency
  // from each one until a name repeats, and say whether the walk came back to it.
  std::map<std::string, const Candidate*> left;
  for (const auto& c : candidates)
    left[c.name] = &c;
  for (const auto& c : candidates) {
    std::vector<std::string> walk{c.name};
    const Candidate* at = &c;
    while (true) {
      auto next = std::find_if(at->dependencies.begin(), at->dependencies.end(),
                               [&](const std::string& d) { return left.count(d) != 0; });
      const std::string& name = *next;  // exists: `at` would have been placed otherwise
      bool seen = std::find(walk.begin(), walk.end(), name) != walk.end();
      walk.push_back(name);
      if (seen) break;
      at = left[name];
    }
    std::string reason;
    if (walk.back() == c.name) {
      reason = "dependency cycle: ";
      for (std::size_t i = 0; i < walk.size(); ++i)
        reason += (i ? " -> " : "") + walk[i];
    } else {
      reason = "missing dependency '" + walk[1] + "' (it is part of a dependency cycle)";
    }
    refused.push_back({c.path, reason});
  }
  return ordered;
}

// Runs the factory and the first schema() call; nullopt with `refused` filled when either fails.
std::optional<LoadedPlugin> create(const Candidate& c,
                                   const std::function<sdk::Host&(const std::string&)>& host_for,
                                   std::vector<RefusedPlugin>& refused) {
  const portico_plugin_descriptor& d = *c.descriptor;
  void* raw = nullptr;
  try {
    sdk::Host& host = host_for(c.name);
    std::array<char, factory_error_size> error{};
    raw = d.create(static_cast<void*>(&host), error.data(), error.size());
    error.back() = '\0';
    if (raw == nullptr) {
      std::string why = one_line(error.data());
      refused.push_back({c.path, "factory failed: " + (why.empty() ? "no reason given" : why)});
      return std::nullopt;
    }
  } catch (...) {
    // Only host_for can get here: the factory is declared never to throw.
    refused.push_back({c.path, "factory failed: " + describe_exception(std::current_exception())});
    return std::nullopt;
  }

  auto destroy = d.destroy;
  LoadedPlugin p;
  p.name = c.name;
  p.version = c.version;
  p.abi_minor = d.abi_minor;
  p.path = c.path;
  p.dependencies = c.dependencies;
  p.library = c.library;
  p.instance = hold_library(
      static_cast<sdk::Plugin*>(raw),
      [destroy](sdk::Plugin* plugin) noexcept {
        try {
          destroy(static_cast<void*>(plugin));
        } catch (...) {
          // A destructor that throws across the boundary: nothing left to do but go on.
        }
      },
      c.library);

  try {
    (void)p.instance->schema();
  } catch (...) {
    refused.push_back({c.path, "schema() threw: " + describe_exception(std::current_exception())});
    return std::nullopt;
  }
  return p;
}

}  // namespace

std::optional<std::string> check_descriptor(const portico_plugin_descriptor& d) {
  // Nothing past struct_size may be read before struct_size is known to cover it.
  if (d.struct_size < sizeof(portico_plugin_descriptor)) {
    return "descriptor too small: " + std::to_string(d.struct_size) + " bytes, " + core_abi +
           " needs " + std::to_string(sizeof(portico_plugin_descriptor)) +
           " (built with a foreign or broken SDK?)";
  }
  if (d.abi_major != PORTICO_ABI_MAJOR) {
    return abi_text(d.abi_major, d.abi_minor) + ", this core speaks " + core_abi +
           " (rebuild the plugin against this core's SDK)";
  }
  if (d.abi_minor > PORTICO_ABI_MINOR) {
    return "needs " + abi_text(d.abi_major, d.abi_minor) + ", this core speaks " + core_abi +
           " (the plugin needs a newer core)";
  }
  if (!signature_compatible(d.build_signature, d.abi_minor)) {
    return "not binary compatible: plugin built as '" +
           one_line(d.build_signature ? d.build_signature : "(none)") + "', core as '" +
           PORTICO_BUILD_SIGNATURE + "'";
  }
  if (d.name == nullptr) return std::string("descriptor has no name");
  if (!valid_name(d.name)) {
    return "invalid plugin name '" + one_line(std::string_view(d.name).substr(0, 80)) +
           "': use 1 to " + std::to_string(max_name_length) + " of a-z, 0-9 and '-'";
  }
  if (d.version == nullptr) return std::string("descriptor has no version");
  if (d.create == nullptr) return std::string("descriptor has no create function");
  if (d.destroy == nullptr) return std::string("descriptor has no destroy function");
  if (d.dependencies != nullptr) {
    std::size_t n = 0;
    for (const char* const* dep = d.dependencies; *dep != nullptr; ++dep, ++n) {
      if (n == max_dependencies) {
        return "too many dependencies (more than " + std::to_string(max_dependencies) + ")";
      }
      if (!valid_name(*dep)) {
        return "invalid dependency name '" + one_line(std::string_view(*dep).substr(0, 80)) + "'";
      }
    }
  }
  return std::nullopt;
}

namespace {

// Opens candidates one file at a time: each file once, each plugin name from one file only.
class CandidateSet {
 public:
  CandidateSet(PluginScan& scan, const std::set<std::string>& present)
      : scan_(scan), present_(present) {}

  void open(const std::filesystem::path& file) {
    if (!opened_.insert(file).second) return;
    auto c = open_candidate(file, scan_.refused);
    if (!c || present_.count(c->name) != 0) return;  // refused, or loaded already
    if (auto [it, inserted] = owner_.emplace(c->name, file); !inserted) {
      scan_.refused.push_back({file, "duplicate plugin name '" + c->name +
                                         "' (already loaded from " +
                                         it->second.filename().string() + ")"});
      return;
    }
    candidates_.push_back(std::move(*c));
  }
  bool has(const std::string& name) const { return owner_.count(name) != 0; }
  std::vector<Candidate>& candidates() { return candidates_; }

 private:
  PluginScan& scan_;
  const std::set<std::string>& present_;
  std::set<std::filesystem::path> opened_;
  std::map<std::string, std::filesystem::path> owner_;  // plugin name -> file that claimed it
  std::vector<Candidate> candidates_;
};

// Creates the candidates in dependency order, after refusing those that cannot be.
void create_all(std::vector<Candidate> candidates, const std::set<std::string>& present,
                const std::function<sdk::Host&(const std::string& name)>& host_for,
                PluginScan& scan) {
  drop_missing_dependencies(candidates, scan.refused, present);
  std::set<std::string> created = present;
  for (auto& c : dependency_order(std::move(candidates), scan.refused, present)) {
    auto failed = std::find_if(c.dependencies.begin(), c.dependencies.end(),
                               [&](const std::string& d) { return !created.count(d); });
    if (failed != c.dependencies.end()) {
      scan.refused.push_back({c.path, "missing dependency '" + *failed + "' (it was refused)"});
      continue;
    }
    if (auto p = create(c, host_for, scan.refused)) {
      created.insert(p->name);
      scan.loaded.push_back(std::move(*p));
    }
  }
  // Reported in file order, whichever step refused them.
  std::stable_sort(scan.refused.begin(), scan.refused.end(), [](const auto& a, const auto& b) {
    return a.path.filename() < b.path.filename();
  });
}

}  // namespace

PluginScan load_plugins(const std::filesystem::path& dir,
                        const std::function<sdk::Host&(const std::string& name)>& host_for,
                        const std::set<std::string>& present) {
  PluginScan scan;
  CandidateSet set(scan, present);
  for (const auto& file : plugin_files(dir, scan.refused))
    set.open(file);
  create_all(std::move(set.candidates()), present, host_for, scan);
  return scan;
}

PluginScan load_plugins(const std::filesystem::path& dir,
                        const std::function<sdk::Host&(const std::string& name)>& host_for,
                        const std::set<std::string>& wanted, const std::set<std::string>& present) {
  PluginScan scan;
  std::set<std::string> needed;  // wanted, and what they depend on, not loaded before
  for (const auto& name : wanted)
    if (!present.count(name)) needed.insert(name);
  if (needed.empty()) return scan;

  const auto files = plugin_files(dir, scan.refused);
  CandidateSet set(scan, present);
  bool scanned_all = false;
  for (;;) {  // ends: `needed` only grows, within the names of the files' descriptors
    const std::size_t before = needed.size();
    bool missing = false;
    for (const auto& name : needed) {
      if (set.has(name)) continue;
      const auto file = dir / (name + ".so");
      if (std::find(files.begin(), files.end(), file) != files.end()) set.open(file);
      missing = missing || !set.has(name);
    }
    if (missing && !scanned_all) {
      // A plugin whose file is not named after it: only opening the files tells.
      for (const auto& file : files)
        set.open(file);
      scanned_all = true;
    }
    for (const auto& c : set.candidates()) {
      if (!needed.count(c.name)) continue;
      for (const auto& d : c.dependencies)
        if (!present.count(d)) needed.insert(d);
    }
    if (needed.size() == before) break;
  }
  auto& candidates = set.candidates();
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [&](const Candidate& c) { return !needed.count(c.name); }),
                   candidates.end());
  create_all(std::move(candidates), present, host_for, scan);
  return scan;
}

}  // namespace portico::core

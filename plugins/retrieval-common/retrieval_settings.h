// retrieval — the four settings every retrieving protocol plugin declares (download path, max
// threads, interval, certificate verification), declared into its schema with its own defaults
// and read back typed. The same keys and help text for POP and IMAP, the protocol's name in it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "portico/settings.h"

namespace portico::retrieval {

struct Settings {
  std::string download_path;  // absolute; "" before from() resolves it
  std::int64_t max_threads = 10;
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  bool verify_tls = true;

  // An empty download path becomes data_dir/folder_name.
  static Settings from(const sdk::Settings& s, const std::string& data_dir,
                       const std::string& folder_name);
};

// How the settings are described for one protocol.
struct SchemaNames {
  std::string protocol;          // "POP", "IMAP"
  std::string folder_name;       // "pop-retrieval": the default under <data_dir>
  std::string default_interval;  // "1m"
  std::string starttls;          // the protocol's word for it: "STLS", "STARTTLS"
};

// Appends retrieval_download_path, retrieval_max_threads, retrieval_interval and
// retrieval_verify_tls to the schema.
void add_settings(sdk::Schema& schema, const SchemaNames& names);

}  // namespace portico::retrieval

// retrieval — settings (see retrieval_settings.h).
#include "retrieval_settings.h"

namespace portico::retrieval {

using sdk::SettingType;

Settings Settings::from(const sdk::Settings& s, const std::string& data_dir,
                        const std::string& folder_name) {
  Settings o;
  o.download_path = s.get_string("retrieval_download_path");
  if (o.download_path.empty() && !data_dir.empty()) {
    o.download_path = data_dir + (data_dir.back() == '/' ? "" : "/") + folder_name;
  }
  o.max_threads = s.get_int("retrieval_max_threads");
  o.interval = s.get_duration("retrieval_interval");
  o.verify_tls = s.get_bool("retrieval_verify_tls");
  return o;
}

void add_settings(sdk::Schema& s, const SchemaNames& n) {
  const std::string p = n.protocol + " retrieval: ";
  s.settings.push_back(sdk::make_setting(
      "retrieval_download_path", SettingType::path, "",
      p + "the folder where messages fetched from external " + n.protocol +
          " mailboxes are kept until they are delivered to the local account. Empty means "
          "<data_dir>/" +
          n.folder_name + "."));
  s.settings.push_back(sdk::make_setting(
      "retrieval_max_threads", SettingType::integer, "10",
      p + "how many external " + n.protocol + " mailboxes are polled at the same time, at most.",
      "1", "1000"));
  s.settings.push_back(sdk::make_setting(
      "retrieval_interval", SettingType::duration, n.default_interval,
      p + "how often each external " + n.protocol +
          " mailbox is checked for new messages. After a failed attempt a mailbox waits twice "
          "as long for each consecutive failure, up to an hour (or the interval, if longer).",
      "1s"));
  s.settings.push_back(sdk::make_setting(
      "retrieval_verify_tls", SettingType::boolean, "true",
      p + "verify the certificate of external " + n.protocol +
          " servers reached over TLS (implicit TLS or " + n.starttls +
          ") against the system's trusted authorities and the server's name. Turn off only for "
          "a server with a self-signed certificate that you trust."));
}

}  // namespace portico::retrieval

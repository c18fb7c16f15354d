// Fuzz target: the banner templater. A rendered banner never contains CR or LF.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/banner/templater.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  portico::sdk::ConnectionInfo conn;
  conn.server_hostname = "mail.example.org";
  conn.remote_address = "2001:db8::1";
  const std::string out = portico::core::render_template(text, conn);
  if (out.find_first_of("\r\n") != std::string::npos) std::abort();
  (void)portico::core::render_template(text, conn, false);
  return 0;
}

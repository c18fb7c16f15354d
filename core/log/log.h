// Portico core — logging: one stderr sink for the whole process, as text or as JSON lines.
//
// Text: "2026-11-25T07:25:21.123Z info  message". JSON: one object a line with time, level and
// msg, the message escaped per RFC 8259. Secrets are never passed here by the core.
#pragma once

#include <string>

namespace portico::core {

// level: trace | debug | info | warn | error; format: text | json. Safe to call again (reload).
void configure_logging(const std::string& level, const std::string& format);

// Escapes text for a JSON string (without the quotes).
std::string json_escape(std::string_view text);

}  // namespace portico::core

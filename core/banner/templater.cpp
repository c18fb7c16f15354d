// Portico core — banner templater (see templater.h).
#include "core/banner/templater.h"

#include <strings.h>
#include <time.h>

#include <array>
#include <cstdio>

namespace portico::core {

std::string rfc5322_date(std::chrono::system_clock::time_point t, bool utc) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tmv {};
  if (utc) {
    gmtime_r(&secs, &tmv);
  } else {
    localtime_r(&secs, &tmv);
  }
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const long offset = utc ? 0 : tmv.tm_gmtoff;
  const long off_min = (offset < 0 ? -offset : offset) / 60;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
                days[tmv.tm_wday % 7], tmv.tm_mday, months[tmv.tm_mon % 12], tmv.tm_year + 1900,
                tmv.tm_hour, tmv.tm_min, tmv.tm_sec, offset < 0 ? '-' : '+', off_min / 60,
                off_min % 60);
  return buf;
}

namespace {

// The value of one variable, or false if the name is not a variable.
bool expand(std::string_view name, const sdk::ConnectionInfo& conn,
            std::chrono::system_clock::time_point now, std::string& out) {
  auto is = [&](const char* v) {
    return name.size() == std::char_traits<char>::length(v) &&
           strncasecmp(name.data(), v, name.size()) == 0;
  };
  if (is("HostName")) {
    out += conn.server_hostname;
  } else if (is("ConnectedIP")) {
    out += conn.remote_address;
  } else if (is("Time")) {
    out += rfc5322_date(now, false);
  } else if (is("TimeUTC")) {
    out += rfc5322_date(now, true);
  } else if (is("UnixTime")) {
    out += std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::string render_template(std::string_view text, const sdk::ConnectionInfo& conn,
                            std::chrono::system_clock::time_point now, bool single_line) {
  if (text.find('#') == std::string_view::npos && !single_line) return std::string(text);
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('#', i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    const std::size_t close = text.find('#', open + 1);
    if (close == std::string_view::npos) {
      out.append(text.substr(open));
      break;
    }
    if (expand(text.substr(open + 1, close - open - 1), conn, now, out)) {
      i = close + 1;
    } else {
      // Not a variable: keep the first '#', and let the second start a new candidate.
      out += '#';
      i = open + 1;
    }
  }
  if (single_line) {
    for (char& c : out) {
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  return out;
}

}  // namespace portico::core

// Portico core — the MIME cache computed at delivery (see mime_cache.h).
#include "core/store/mime_cache.h"

#include <fcntl.h>
#include <gmime/gmime.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <mutex>

#include "core/store/part_offsets.h"

namespace portico::core::store {

namespace {

// Longest header value kept in the SEARCH index (longer values are cut).
constexpr std::size_t max_indexed_value = 2048;
// Deepest MIME nesting described; deeper parts are summarized as opaque.
constexpr int max_depth = 32;

// An IMAP string: NIL, a quoted string, or a literal when it holds CR, LF, NUL or 8-bit bytes.
std::string nstring(const char* s) {
  if (s == nullptr) return "NIL";
  std::string_view v(s);
  bool literal = std::any_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\r' || u == '\n' || u == 0 || u >= 0x80;
  });
  if (literal) return "{" + std::to_string(v.size()) + "}\r\n" + std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string nstring(const std::string& s) {
  return nstring(s.c_str());
}

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  auto ws = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && ws(static_cast<unsigned char>(s.back())))
    s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && ws(static_cast<unsigned char>(s[i])))
    ++i;
  return s.substr(i);
}

// The raw (undecoded, unfolded) value of a header, or nullopt-like empty flag.
bool raw_header(GMimeObject* obj, const char* name, std::string& out) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  GMimeHeader* h = list ? g_mime_header_list_get_header(list, name) : nullptr;
  if (h == nullptr) return false;
  const char* raw = g_mime_header_get_raw_value(h);
  if (raw == nullptr) return false;
  char* unfolded = g_mime_utils_header_unfold(raw);
  out = trim(unfolded ? unfolded : raw);
  g_free(unfolded);
  return true;
}

std::string header_nstring(GMimeObject* obj, const char* name) {
  std::string v;
  return raw_header(obj, name, v) ? nstring(v) : "NIL";
}

std::string address_name(InternetAddress* ia) {
  const char* name = internet_address_get_name(ia);
  if (name == nullptr || *name == 0) return "NIL";
  std::string_view v(name);
  bool ascii =
      std::all_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return nstring(name);
  char* encoded = g_mime_utils_header_encode_phrase(nullptr, name, "utf-8");
  std::string out = nstring(encoded);
  g_free(encoded);
  return out;
}

void append_addresses(InternetAddressList* list, std::string& out) {
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      out += "(NIL NIL " + nstring(internet_address_get_name(ia)) + " NIL)";
      append_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
      out += "(NIL NIL NIL NIL)";
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      std::string addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
      auto at = addr.rfind('@');
      std::string local = at == std::string::npos ? addr : addr.substr(0, at);
      std::string host = at == std::string::npos ? "" : addr.substr(at + 1);
      out += "(" + address_name(ia) + " NIL " + nstring(local) + " " +
             (host.empty() ? "NIL" : nstring(host)) + ")";
    }
  }
}

// An address list for ENVELOPE, or NIL; `fallback` (From) stands in for Sender and Reply-To.
std::string address_field(GMimeObject* obj, const char* name, const char* fallback) {
  std::string raw;
  if (!raw_header(obj, name, raw) || raw.empty()) {
    return fallback ? address_field(obj, fallback, nullptr) : "NIL";
  }
  InternetAddressList* list = internet_address_list_parse(nullptr, raw.c_str());
  if (list == nullptr) return "NIL";
  std::string inner;
  append_addresses(list, inner);
  g_object_unref(list);
  return inner.empty() ? "NIL" : "(" + inner + ")";
}

std::string envelope_of(GMimeObject* msg) {
  return "(" + header_nstring(msg, "Date") + " " + header_nstring(msg, "Subject") + " " +
         address_field(msg, "From", nullptr) + " " + address_field(msg, "Sender", "From") + " " +
         address_field(msg, "Reply-To", "From") + " " + address_field(msg, "To", nullptr) + " " +
         address_field(msg, "Cc", nullptr) + " " + address_field(msg, "Bcc", nullptr) + " " +
         header_nstring(msg, "In-Reply-To") + " " + header_nstring(msg, "Message-ID") + ")";
}

std::string params_of(GMimeParamList* params) {
  int n = params ? g_mime_param_list_length(params) : 0;
  if (n == 0) return "NIL";
  std::string out = "(";
  for (int i = 0; i < n; ++i) {
    GMimeParam* p = g_mime_param_list_get_parameter_at(params, i);
    if (i) out += ' ';
    out += nstring(upper(g_mime_param_get_name(p))) + " " + nstring(g_mime_param_get_value(p));
  }
  return out + ")";
}

std::string disposition_of(GMimeObject* obj) {
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
  if (d == nullptr) return "NIL";
  return "(" + nstring(upper(g_mime_content_disposition_get_disposition(d))) + " " +
         params_of(g_mime_content_disposition_get_parameters(d)) + ")";
}

std::string language_and_location(GMimeObject* obj) {
  return header_nstring(obj, "Content-Language") + " " + header_nstring(obj, "Content-Location");
}

std::string object_bytes(GMimeObject* obj) {
  GMimeStream* mem = g_mime_stream_mem_new();
  g_mime_object_write_to_stream(obj, nullptr, mem);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  std::string out(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(mem);
  return out;
}

std::size_t count_lines(std::string_view s) {
  auto n = static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
  return n + ((!s.empty() && s.back() != '\n') ? 1 : 0);
}

// Octets and lines (as count_lines counts them) of a part's content, read in pieces so that a
// large part is never held whole.
struct Measured {
  std::uint64_t size = 0;
  std::uint64_t lines = 0;
};
Measured measure_stream(GMimeStream* source) {
  Measured m;
  g_mime_stream_reset(source);
  char buf[65536];
  char last = '\n';
  for (ssize_t n; (n = g_mime_stream_read(source, buf, sizeof buf)) > 0;) {
    m.size += static_cast<std::uint64_t>(n);
    m.lines += static_cast<std::uint64_t>(std::count(buf, buf + n, '\n'));
    last = buf[n - 1];
  }
  g_mime_stream_reset(source);
  if (m.size > 0 && last != '\n') ++m.lines;
  return m;
}

// BODYSTRUCTURE (extended) or BODY of one part, recursively.
std::string structure_of(GMimeObject* obj, bool extended, int depth) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  std::string type = ct ? upper(g_mime_content_type_get_media_type(ct)) : "TEXT";
  std::string subtype = ct ? upper(g_mime_content_type_get_media_subtype(ct)) : "PLAIN";
  GMimeParamList* params = ct ? g_mime_content_type_get_parameters(ct) : nullptr;

  if (GMIME_IS_MULTIPART(obj) && depth < max_depth) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    std::string out = "(";
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i)
      out += structure_of(g_mime_multipart_get_part(mp, i), extended, depth + 1);
    if (n == 0) out += "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)";
    out += " " + nstring(subtype);
    if (extended) {
      out += " " + params_of(params) + " " + disposition_of(obj) + " " + language_and_location(obj);
    }
    return out + ")";
  }

  std::string encoding = "7BIT";
  std::string raw;
  if (raw_header(obj, "Content-Transfer-Encoding", raw) && !raw.empty()) encoding = upper(raw);
  std::string head = nstring(type) + " " + nstring(subtype) + " " + params_of(params) + " " +
                     header_nstring(obj, "Content-ID") + " " +
                     header_nstring(obj, "Content-Description") + " " + nstring(encoding);
  std::string out = "(" + head;
  std::string content;
  if (GMIME_IS_MESSAGE_PART(obj) && depth < max_depth) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner != nullptr) {
      content = object_bytes(GMIME_OBJECT(inner));
      GMimeObject* inner_body = g_mime_message_get_mime_part(inner);
      out += " " + std::to_string(content.size()) + " " + envelope_of(GMIME_OBJECT(inner)) + " " +
             (inner_body ? structure_of(inner_body, extended, depth + 1)
                         : "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)") +
             " " + std::to_string(count_lines(content));
    } else {
      out += " 0";
    }
  } else {
    Measured m;
    if (GMIME_IS_PART(obj)) {
      GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
      GMimeStream* s = w ? g_mime_data_wrapper_get_stream(w) : nullptr;
      if (s != nullptr) m = measure_stream(s);
    }
    out += " " + std::to_string(m.size);
    if (type == "TEXT") out += " " + std::to_string(m.lines);
  }
  if (extended) {
    out += " " + header_nstring(obj, "Content-MD5") + " " + disposition_of(obj) + " " +
           language_and_location(obj);
  }
  return out + ")";
}

bool is_address_field(const std::string& f) {
  return f == "from" || f == "to" || f == "cc" || f == "bcc" || f == "reply-to" || f == "sender" ||
         f == "resent-from" || f == "resent-to";
}

void index_headers(GMimeObject* msg, MimeSummary& out) {
  GMimeHeaderList* list = g_mime_object_get_header_list(msg);
  int n = list ? g_mime_header_list_get_count(list) : 0;
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    std::string field = g_mime_header_get_name(h);
    for (auto& c : field)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value;
    if (is_address_field(field)) {
      InternetAddressList* al =
          internet_address_list_parse(nullptr, g_mime_header_get_raw_value(h));
      if (al != nullptr) {
        char* s = internet_address_list_to_string(al, nullptr, FALSE);
        value = s ? s : "";
        g_free(s);
        g_object_unref(al);
      }
    } else {
      const char* raw = g_mime_header_get_raw_value(h);
      char* unfolded = raw ? g_mime_utils_header_unfold(raw) : nullptr;
      char* decoded = unfolded ? g_mime_utils_header_decode_text(nullptr, unfolded) : nullptr;
      value = trim(decoded ? decoded : (unfolded ? unfolded : ""));
      g_free(decoded);
      g_free(unfolded);
    }
    if (value.size() > max_indexed_value) value.resize(max_indexed_value);
    out.headers.emplace_back(std::move(field), std::move(value));
  }
}

// Octets that are no message: one text/plain part of that size and number of lines.
MimeSummary opaque(std::uint64_t size, std::uint64_t lines) {
  MimeSummary s;
  s.envelope = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
  s.body = "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" " + std::to_string(size) + " " +
           std::to_string(lines) + ")";
  s.bodystructure = s.body;
  return s;
}

MimeSummary opaque(std::string_view message) {
  return opaque(message.size(), count_lines(message));
}

}  // namespace

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

namespace {

// A GMime memory stream reading `bytes` in place (no copy); every object parsed from it must be
// gone before it is.
class BorrowedStream {
 public:
  explicit BorrowedStream(std::string_view bytes) {
    if (bytes.empty() || bytes.size() > UINT_MAX) {
      stream_ = g_mime_stream_mem_new();
      return;
    }
    auto* data = reinterpret_cast<guint8*>(const_cast<char*>(bytes.data()));
    array_ = g_byte_array_new_take(data, bytes.size());
    stream_ = g_mime_stream_mem_new_with_byte_array(array_);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream_), FALSE);
  }
  ~BorrowedStream() {
    g_object_unref(stream_);
    if (array_ != nullptr) g_byte_array_free(array_, FALSE);  // the array, not the data
  }
  BorrowedStream(const BorrowedStream&) = delete;
  BorrowedStream& operator=(const BorrowedStream&) = delete;
  GMimeStream* get() const { return stream_; }

 private:
  GByteArray* array_ = nullptr;
  GMimeStream* stream_ = nullptr;
};

// Parses what `stream` holds (the reference is taken over) with a persistent stream: each
// leaf's content stays a window on the octets (measured, never copied), and its bounds are the
// offsets `find_parts` keeps. `fallback` for octets that are no message.
template <class Fallback, class FindParts>
MimeSummary summarize_stream(GMimeStream* stream, Fallback fallback, FindParts find_parts) {
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);
  g_mime_parser_set_persist_stream(parser, TRUE);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  MimeSummary s;
  if (msg == nullptr) {
    s = fallback();
  } else {
    GMimeObject* obj = GMIME_OBJECT(msg);
    s.envelope = envelope_of(obj);
    GMimeObject* body = g_mime_message_get_mime_part(msg);
    if (body != nullptr) {
      s.bodystructure = structure_of(body, true, 0);
      s.body = structure_of(body, false, 0);
    } else {
      MimeSummary o = opaque("");
      s.bodystructure = o.bodystructure;
      s.body = o.body;
    }
    index_headers(obj, s);
  }
  s.parts = find_parts(msg);
  if (msg != nullptr) g_object_unref(msg);
  return s;
}

}  // namespace

MimeSummary summarize_message(std::string_view message) {
  init_gmime();
  BorrowedStream stream(message);
  g_object_ref(stream.get());  // summarize_stream takes a reference over
  return summarize_stream(
      stream.get(), [&] { return opaque(message); },
      [&](GMimeMessage* msg) { return part_offsets(message, msg); });
}

MimeSummary summarize_file(const std::string& path) {
  init_gmime();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return summarize_message("");
  struct stat st {};
  const std::uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  // One descriptor: GMime's stream reads it in order (it does not close it); the part offsets
  // are read with pread, which leaves the file offset alone. A file stream is seekable: GMime
  // keeps each part's content where it is in the file and reads it only to measure it, so the
  // message is never held whole (nor mapped).
  auto stream_of = [fd] {
    GMimeStream* s = g_mime_stream_fs_new(fd);
    g_mime_stream_fs_set_owner(GMIME_STREAM_FS(s), FALSE);
    return s;
  };
  MimeSummary s = summarize_stream(
      stream_of(),
      [&] {
        // No message: one text/plain part of the file's octets, measured in pieces.
        ::lseek(fd, 0, SEEK_SET);
        GMimeStream* file = stream_of();
        const Measured m = measure_stream(file);
        g_object_unref(file);
        return opaque(m.size, m.lines);
      },
      [&](GMimeMessage* msg) { return part_offsets(fd, size, msg); });
  ::close(fd);
  return s;
}

}  // namespace portico::core::store

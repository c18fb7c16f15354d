// Fuzz target: the XMPP stream parser (plugins/xmpp/xml.h; RFC 6120 sections 4 and 11, XML 1.0
// with namespaces). The first octet chooses a piece size (1..16); the rest is a stream, fed whole
// to one parser and in pieces of that size to another, both with small limits so that every
// limit is reached. Traps when the two disagree on the events (header, stanzas compared as
// to_xml, close), the error or in_element(); when a stanza's to_xml, inside a stream header, does
// not parse back to an equal element with the same to_xml; or when a third parser with roomy
// limits disagrees: small limits may only cut the events short with policy-violation, never
// change them; or when a parser freed with release_idle() after every piece disagrees with one
// that was not. A <starttls/> stanza stops the parser (the rest of the input is dropped).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xml.h"

namespace {

using portico::xmpp::Element;
using portico::xmpp::XmlError;
using portico::xmpp::XmlLimits;
using portico::xmpp::XmlStream;

constexpr std::string_view kWrap =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

XmlLimits small_limits() {
  XmlLimits l;
  l.max_stanza_bytes = 4096;
  l.max_depth = 8;
  l.max_attributes = 8;
  l.max_namespaces = 8;
  l.max_header_bytes = 1024;
  l.max_token_bytes = 1024;
  l.max_stanza_memory = 16 * 1024;
  return l;
}

XmlLimits roomy_limits() {
  XmlLimits l;
  l.max_stanza_bytes = 1 << 24;
  l.max_depth = 1 << 20;
  l.max_attributes = 1 << 20;
  l.max_namespaces = 1 << 20;
  l.max_header_bytes = 1 << 24;
  l.max_token_bytes = 1 << 24;
  l.max_stanza_memory = std::size_t{1} << 32;
  return l;
}

struct Collector : XmlStream::Handler {
  XmlStream* stream = nullptr;
  bool check_round_trip = false;
  std::vector<std::string> events;
  std::vector<Element> stanzas;

  void on_stream_open(const Element& header, std::string_view content_ns) override {
    if (header.name != "stream" || header.ns != portico::xmpp::kStreamNs) __builtin_trap();
    events.push_back("open " + portico::xmpp::to_xml(header, "") + " " + std::string(content_ns));
  }
  void on_stanza(Element stanza) override;
  void on_stream_close() override { events.emplace_back("close"); }
};

// The stanza, written inside a stream, parses back to itself.
void expect_round_trip(const Element& stanza, const std::string& xml) {
  Collector again;
  XmlStream parser(again, roomy_limits());
  again.stream = &parser;
  if (parser.feed(kWrap) != XmlError::none) __builtin_trap();
  if (parser.feed(xml) != XmlError::none) __builtin_trap();
  if (again.stanzas.size() != 1) __builtin_trap();
  if (!(again.stanzas[0] == stanza)) __builtin_trap();
  if (portico::xmpp::to_xml(again.stanzas[0]) != xml) __builtin_trap();
  if (parser.in_element()) __builtin_trap();
}

void Collector::on_stanza(Element stanza) {
  std::string xml = portico::xmpp::to_xml(stanza);
  if (check_round_trip) {
    expect_round_trip(stanza, xml);
  }
  events.push_back(std::move(xml));
  const bool starttls = stanza.name == "starttls";
  stanzas.push_back(std::move(stanza));
  if (starttls) stream->stop();
}

struct Outcome {
  std::vector<std::string> events;
  XmlError error = XmlError::none;
  bool in_element = false;
};

Outcome run(std::string_view input, XmlLimits limits, std::size_t piece, bool round_trip,
            bool release = false) {
  Collector c;
  XmlStream parser(c, limits);
  c.stream = &parser;
  c.check_round_trip = round_trip;
  Outcome out;
  for (std::size_t at = 0; at < input.size();) {
    const std::size_t n = std::min(piece, input.size() - at);
    out.error = parser.feed(input.substr(at, n));
    at += n;
    if (release && parser.release_idle() && parser.in_element()) __builtin_trap();
  }
  if (input.empty()) out.error = parser.feed(input);
  if (out.error != parser.error()) __builtin_trap();
  out.in_element = parser.in_element();
  out.events = std::move(c.events);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 256 * 1024) return 0;
  const std::size_t piece = (data[0] & 15u) + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome whole = run(input, small_limits(), input.size() + 1, true);
  const Outcome pieces = run(input, small_limits(), piece, false);
  if (whole.events != pieces.events) __builtin_trap();
  if (whole.error != pieces.error) __builtin_trap();
  if (whole.in_element != pieces.in_element) __builtin_trap();
  // Freeing the parser between pieces (as a session does after each read) changes nothing.
  const Outcome released = run(input, small_limits(), piece, false, true);
  if (released.events != pieces.events || released.error != pieces.error) __builtin_trap();

  const Outcome roomy = run(input, roomy_limits(), piece, false);
  if (whole.error == XmlError::policy_violation) {
    if (roomy.events.size() < whole.events.size()) __builtin_trap();
    for (std::size_t i = 0; i < whole.events.size(); ++i)
      if (roomy.events[i] != whole.events[i]) __builtin_trap();
  } else {
    if (roomy.events != whole.events || roomy.error != whole.error) __builtin_trap();
  }
  return 0;
}

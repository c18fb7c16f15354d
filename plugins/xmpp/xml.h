// xmpp — the XML of an XMPP stream (RFC 6120 section 4, restricted by section 11; XML 1.0 with
// Namespaces in XML 1.0): elements with their subtrees, their serialization, and the incremental
// parser of one stream over expat.
//
// The parser never builds the stream as a whole: it hands over the stream header, then each
// top-level element (stanza or nonza) once its end tag has arrived, then the stream close. It
// guarantees, whatever the peer sends:
//  - no entity is ever expanded: a DOCTYPE, an entity declaration, a comment or a processing
//    instruction ends the stream with restricted-xml as soon as it is seen (section 11.1); only
//    the five predefined entities and character references are accepted;
//  - input is UTF-8 (section 11.6): an XML declaration naming another encoding ends the stream;
//  - bounded work and memory for one stanza: expat never receives more than max_stanza_bytes
//    octets of one top-level element, nor more than max_token_bytes of one unfinished token
//    (a start tag with its attributes, say), so an endless attribute value or text is refused
//    once the limit is reached, not buffered; the parsed tree of a stanza is bounded by
//    max_stanza_memory; depth, attributes per element and namespace declarations per stanza
//    have their own limits; expat's tables of names, which grow with every new name over the
//    life of a stream, are dropped regularly by starting a fresh parser between two stanzas;
//  - whitespace between stanzas (keepalives, section 4.6.1) never counts toward a limit;
//  - the same stanzas and the same outcome whatever the sizes of the pieces the input arrives in.
//
// Elements keep no prefixes: a name is its namespace URI and local name, as XMPP servers route
// them; serialization declares default namespaces where the namespace changes. Attributes in the
// XML namespace are named "xml:lang", "xml:space"...; attributes in any other namespace are named
// "{uri}local" (Clark notation), and written with a generated prefix ("ns0", "ns1"...) declared
// on the element that carries them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::xmpp {

inline constexpr std::string_view kStreamNs = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// One XML element with its subtree, ElementTree style: `text` is the character data before the
// first child, each child's `tail` the character data after it. Value semantics.
struct Element {
  std::string name;  // local name
  std::string ns;    // namespace URI ("" = none)
  // In document order, without namespace declarations: an unprefixed attribute by its name,
  // one in the XML namespace as "xml:local", one in another namespace as "{uri}local".
  std::vector<std::pair<std::string, std::string>> attrs;
  std::vector<Element> children;
  std::string text;
  std::string tail;

  Element() = default;
  Element(std::string name, std::string ns);
  const std::string* attr(std::string_view name) const;  // nullptr if absent
  std::string attr_or(std::string_view name, std::string_view fallback = {}) const;
  void set_attr(std::string_view name, std::string_view value);  // replaces or appends
  void remove_attr(std::string_view name);
  // The first child of that name and namespace; ns "" matches any namespace.
  const Element* child(std::string_view name, std::string_view ns) const;
  Element* child(std::string_view name, std::string_view ns);
  Element& add_child(Element child);  // returns the added child
  Element& add_child(std::string name, std::string ns);
  std::string all_text() const;  // text of this element and its descendants, in order

  bool operator==(const Element&) const = default;
};

// Serializes an element (not its own tail): its namespace declared with xmlns="..." where it
// differs from `inherited_ns` (the default namespace in scope, e.g. "jabber:client" for stanzas
// written inside the stream), and on each descendant whose namespace differs from its parent's;
// an element in the XML namespace is written "xml:name". Attribute values are escaped (& < > " '
// as entities, tab, LF and CR as character references so they survive attribute-value
// normalization), text too (& < > as entities, CR as &#13;). Octets that are not XML 1.0
// characters in UTF-8 (C0 controls other than tab, LF and CR, ill-formed UTF-8, U+FFFE, U+FFFF)
// are written as U+FFFD. Attributes named "xmlns" or "xmlns:..." are not written (namespaces are
// declared from `ns`). With names as the parser gives them, the output is well-formed XML 1.0
// that parses back to an equal Element (tail aside).
std::string to_xml(const Element& element, std::string_view inherited_ns = "jabber:client");
void append_xml(std::string& out, const Element& element,
                std::string_view inherited_ns = "jabber:client");
// The escaping of to_xml: & < > (and CR as &#13;) for text; & < > " ' (and tab, LF, CR as
// character references) for an attribute value in either quote.
std::string escape_text(std::string_view text);
std::string escape_attr(std::string_view value);

struct XmlLimits {
  std::size_t max_stanza_bytes = 256 * 1024;  // octets of one top-level child of the stream
  std::size_t max_depth = 32;       // element nesting inside one stanza (the stanza itself is 1)
  std::size_t max_attributes = 64;  // per element
  std::size_t max_namespaces = 32;  // namespace declarations in one stanza (all its elements)
  std::size_t max_header_bytes = 8 * 1024;  // the stream header, XML declaration included
  // Octets of one token still incomplete after the stanza's previous event (a start or end tag
  // with its attributes, a character reference): expat re-scans an incomplete token each time
  // more octets arrive, so this bounds the work a token sent in tiny pieces costs.
  std::size_t max_token_bytes = 16 * 1024;
  // Memory of one parsed stanza: sizeof(Element) per element, sizeof an attribute pair per
  // attribute, plus the lengths of all names, namespaces, values and texts (a namespace URI is
  // copied into every element in it, so a tree can be far larger than its octets). 0: 16 times
  // max_stanza_bytes.
  std::size_t max_stanza_memory = 0;
};

// RFC 6120 section 4.9.3 conditions the parser can give.
enum class XmlError {
  none,
  // expat's error (mismatched tags, bad UTF-8, an undeclared prefix, a duplicate attribute...).
  not_well_formed,
  // DOCTYPE, DTD, entity declaration or reference (other than the predefined five), comment,
  // processing instruction (RFC 6120 11.1).
  restricted_xml,
  policy_violation,   // a limit of XmlLimits exceeded
  bad_format,         // non-whitespace text directly inside the stream element
  invalid_namespace,  // the root is not {http://etherx.jabber.org/streams}stream
  // An XML declaration naming an encoding other than UTF-8, or, before the header is complete,
  // an octet that never occurs in UTF-8 (NUL, 0xFE, 0xFF: UTF-16 or its byte order mark).
  unsupported_encoding,
};
// "not-well-formed", "restricted-xml", "policy-violation", "bad-format", "invalid-namespace",
// "unsupported-encoding"; "" for none.
std::string_view xml_error_condition(XmlError error);

class XmlStream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // The stream header <stream:stream ...>: header.name "stream", header.ns kStreamNs, its
    // attributes (to, from, version, id, xml:lang...); content_ns the default namespace it
    // declares ("jabber:client"; "" if none).
    virtual void on_stream_open(const Element& header, std::string_view content_ns) = 0;
    // One complete top-level element (a stanza or a nonza: <iq/>, <starttls/>, <auth/>...).
    virtual void on_stanza(Element stanza) = 0;
    // </stream:stream> from the peer. Nothing more is parsed after it (as after stop()).
    virtual void on_stream_close() = 0;
  };

  explicit XmlStream(Handler& handler, XmlLimits limits = {});
  ~XmlStream();
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  // Parses octets as they arrive, in pieces of any size; handler callbacks run from inside.
  // Returns the first error (and keeps returning it: the stream is dead after an error); none
  // otherwise.
  XmlError feed(std::string_view bytes);
  // Called from inside a handler callback: the rest of the octets of the current feed() are
  // dropped and feed() returns none (used after <starttls/>: what follows it is discarded, RFC
  // 6120 5.3.3). Until reset(), further feed() calls are ignored.
  void stop();
  // A new stream on the same connection (after STARTTLS or SASL success, RFC 6120 4.3.3): forgets
  // all state; the next octets must begin with a stream header (optionally after an XML
  // declaration). From inside a callback it acts as stop() and takes effect when feed() returns.
  void reset();
  // True while part of a top-level element (or of the stream header) has been received and not
  // yet handed over.
  bool in_element() const;
  // Frees the XML parser's own memory (buffers, name tables: a few KiB) while the stream is idle
  // between two stanzas; the next feed() rebuilds it from the stream header, as if nothing had
  // happened. Returns false, doing nothing, inside an element or a callback.
  bool release_idle();
  XmlError error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::xmpp

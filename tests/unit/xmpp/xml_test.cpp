// xmpp XML (xml.h): elements and their accessors; serialization (escaping, namespace
// declarations only where the namespace changes, Clark-notation attributes, round trips through
// the parser); the stream parser of RFC 6120 section 4 — the header, stanzas handed over whole,
// the same stanzas whatever the sizes of the pieces, stream close, stop() and reset() for
// STARTTLS, whitespace keepalives — and every error it gives: restricted XML of section 11.1
// (DOCTYPE, billion laughs, comments, processing instructions, undeclared entities), encodings
// (UTF-16 with or without a byte order mark), bad UTF-8, the root's namespace, text in the
// stream, each limit at its exact boundary, endless attribute values and texts refused before they
// are buffered, a token sent octet by octet, tree amplification by long namespace URIs, the fresh
// parser between stanzas being invisible, and errors being sticky.
#include "xml.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace portico::xmpp {
namespace {

constexpr std::string_view kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' "
    "xml:lang='en'>";

struct Recorder : XmlStream::Handler {
  std::vector<Element> headers;
  std::vector<std::string> content_ns;
  std::vector<Element> stanzas;
  int closes = 0;
  std::function<void(const Element&)> hook;  // runs after each stanza is recorded

  void on_stream_open(const Element& header, std::string_view ns) override {
    headers.push_back(header);
    content_ns.emplace_back(ns);
  }
  void on_stanza(Element stanza) override {
    stanzas.push_back(std::move(stanza));
    if (hook) hook(stanzas.back());
  }
  void on_stream_close() override { ++closes; }
};

struct Parsed {
  std::vector<Element> stanzas;
  XmlError error = XmlError::none;
  int closes = 0;
};

// Feeds `input` in pieces of `piece` octets (all at once by default).
Parsed parse(std::string_view input, XmlLimits limits = {}, std::size_t piece = SIZE_MAX) {
  Recorder r;
  XmlStream s(r, limits);
  Parsed out;
  for (std::size_t at = 0; at < input.size() && out.error == XmlError::none;) {
    const std::size_t n = std::min(piece, input.size() - at);
    out.error = s.feed(input.substr(at, n));
    at += n;
  }
  out.stanzas = std::move(r.stanzas);
  out.closes = r.closes;
  return out;
}

std::string stream(std::string_view body) {
  return std::string(kHeader) + std::string(body);
}

// The element, written inside a stream, parsed back.
Element reparse(const Element& e) {
  Parsed run = parse(stream(to_xml(e)));
  EXPECT_EQ(run.error, XmlError::none) << to_xml(e);
  EXPECT_EQ(run.stanzas.size(), 1u) << to_xml(e);
  return run.stanzas.empty() ? Element() : run.stanzas.front();
}

std::string nested(std::size_t depth) {
  std::string open, close;
  for (std::size_t i = 0; i < depth; ++i) {
    open += "<a>";
    close = "</a>" + close;
  }
  return open + close;
}

// --- Element ---

TEST(Element, AccessorsFindReplaceAndRemove) {
  Element e("iq", "jabber:client");
  e.set_attr("type", "get");
  e.set_attr("id", "1");
  e.set_attr("type", "set");
  ASSERT_EQ(e.attrs.size(), 2u);
  EXPECT_EQ(e.attrs[0].first, "type");
  EXPECT_EQ(*e.attr("type"), "set");
  EXPECT_EQ(e.attr("to"), nullptr);
  EXPECT_EQ(e.attr_or("to", "nobody"), "nobody");
  EXPECT_EQ(e.attr_or("id"), "1");
  e.remove_attr("type");
  EXPECT_EQ(e.attr("type"), nullptr);
  EXPECT_EQ(e.attrs.size(), 1u);

  Element& q = e.add_child("query", "jabber:iq:roster");
  q.add_child("item", "jabber:iq:roster").set_attr("jid", "a@b");
  e.add_child(Element("query", "urn:other"));
  EXPECT_EQ(e.child("query", "jabber:iq:roster"), &e.children[0]);
  EXPECT_EQ(e.child("query", "urn:other"), &e.children[1]);
  EXPECT_EQ(e.child("query", ""), &e.children[0]);
  EXPECT_EQ(e.child("query", "urn:none"), nullptr);
  EXPECT_EQ(std::as_const(e).child("nothing", ""), nullptr);
  e.child("query", "urn:other")->text = "x";
  EXPECT_EQ(e.children[1].text, "x");
}

TEST(Element, AllTextKeepsDocumentOrder) {
  Parsed run = parse(stream("<message><body>a<b>b<c>c</c>d</b>e<f/>g</body></message>"));
  ASSERT_EQ(run.stanzas.size(), 1u);
  EXPECT_EQ(run.stanzas[0].all_text(), "abcdeg");
}

// --- serialization ---

TEST(Serialize, EscapesTextAndAttributes) {
  EXPECT_EQ(escape_text("a&b<c>d\"e'f\tg\nh\ri"), "a&amp;b&lt;c&gt;d\"e'f\tg\nh&#13;i");
  EXPECT_EQ(escape_attr("a&b<c>d\"e'f\tg\nh\ri"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i");
  EXPECT_EQ(escape_text("]]>"), "]]&gt;");
  EXPECT_EQ(escape_text("Jürgen ✓ 𝄞"), "Jürgen ✓ 𝄞");
}

TEST(Serialize, OctetsThatAreNoXmlCharactersBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_text(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(escape_text("a\x01\x1f"
                        "b"),
            "a" + fffd + fffd + "b");
  EXPECT_EQ(escape_text("\xff"), fffd);
  EXPECT_EQ(escape_text("\xc0\xaf"), fffd + fffd);             // overlong
  EXPECT_EQ(escape_text("\xed\xa0\x80"), fffd + fffd + fffd);  // surrogate
  EXPECT_EQ(escape_text("\xef\xbf\xbe"), fffd + fffd + fffd);  // U+FFFE
  EXPECT_EQ(escape_attr("\xe2\x9c"), fffd + fffd);             // cut short
  EXPECT_EQ(escape_text("\x7f\xc2\x80"), "\x7f\xc2\x80");      // DEL and C1 are XML characters
  // Whatever the octets, the output parses.
  Element e("message", "jabber:client");
  e.text = std::string("\0\x02\xff\xfe", 4);
  e.set_attr("id", "\x03\xc3");
  Element back = reparse(e);
  EXPECT_EQ(back.text, fffd + fffd + fffd + fffd);
  EXPECT_EQ(back.attr_or("id"), fffd + fffd);
}

TEST(Serialize, XmlnsOnlyWhereTheNamespaceChanges) {
  Element iq("iq", "jabber:client");
  iq.set_attr("type", "result");
  Element& query = iq.add_child("query", "jabber:iq:roster");
  query.add_child("item", "jabber:iq:roster").set_attr("jid", "a@b");
  query.add_child("x", "urn:x").add_child("y", "urn:x");
  query.add_child("plain", "");
  EXPECT_EQ(to_xml(iq),
            "<iq type=\"result\"><query xmlns=\"jabber:iq:roster\"><item jid=\"a@b\"/>"
            "<x xmlns=\"urn:x\"><y/></x><plain xmlns=\"\"/></query></iq>");
  EXPECT_TRUE(to_xml(iq, "jabber:server").starts_with("<iq xmlns=\"jabber:client\" type="));
  EXPECT_EQ(to_xml(Element("a", "")), "<a xmlns=\"\"/>");
  EXPECT_EQ(to_xml(Element("a", ""), ""), "<a/>");
  std::string out = "<x>";
  append_xml(out, Element("a", "jabber:client"));
  EXPECT_EQ(out, "<x><a/>");
}

TEST(Serialize, NamespacedAttributesGetGeneratedPrefixes) {
  Element e("presence", "jabber:client");
  e.set_attr("xml:lang", "de");
  e.set_attr("{urn:a}x", "1");
  e.set_attr("{urn:b}y", "2");
  e.set_attr("{urn:a}z", "3");
  e.set_attr("xmlns", "ignored");
  e.set_attr("xmlns:p", "ignored");
  e.set_attr("{http://www.w3.org/XML/1998/namespace}space", "preserve");
  EXPECT_EQ(to_xml(e),
            "<presence xml:lang=\"de\" xmlns:ns0=\"urn:a\" ns0:x=\"1\" xmlns:ns1=\"urn:b\" "
            "ns1:y=\"2\" ns0:z=\"3\" xml:space=\"preserve\"/>");
  Element back = reparse(e);
  EXPECT_EQ(back.attr_or("{urn:a}x"), "1");
  EXPECT_EQ(back.attr_or("{urn:b}y"), "2");
  EXPECT_EQ(back.attr_or("{urn:a}z"), "3");
  EXPECT_EQ(back.attr_or("xml:space"), "preserve");
}

TEST(Serialize, RoundTripsThroughTheParser) {
  Element m("message", "jabber:client");
  m.set_attr("to", "juliet@example.com/balcony");
  m.set_attr("id", "quote\"s and 'apostrophes' & <angles>");
  m.set_attr("tabs", "a\tb\nc\rd  e");
  m.set_attr("xml:lang", "en");
  m.set_attr("{urn:xmpp:attr}flag", "yes");
  m.text = "lead\r\n";
  Element& body = m.add_child("body", "jabber:client");
  body.text = "x < y && y > z ]]> \"quoted\" 'single' \r\n\ttab";
  body.tail = " tail & more ";
  Element& x = m.add_child("x", "jabber:x:data");
  x.set_attr("type", "submit");
  Element& field = x.add_child("field", "jabber:x:data");
  field.add_child("value", "jabber:x:data").text = "v";
  Element& foreign = field.add_child("deep", "urn:other");
  foreign.add_child("inner", "urn:other").add_child("none", "");
  foreign.children[0].tail = "after inner";
  field.add_child("lang", std::string(kXmlNs)).text = "xml-namespace element";
  m.add_child("empty", "urn:empty");
  m.children.back().tail = "end";
  Element back = reparse(m);
  EXPECT_EQ(back, m);
  EXPECT_EQ(to_xml(back), to_xml(m));
}

TEST(Serialize, ParsedPrefixesAreDroppedAndNamesExpanded) {
  Parsed run =
      parse(stream("<message xmlns:e='urn:e' e:a='1'><e:x><e:y xmlns:f='urn:f'><f:z/></e:y></e:x>"
                   "<stream:features/></message>"));
  ASSERT_EQ(run.stanzas.size(), 1u);
  const Element& m = run.stanzas[0];
  EXPECT_EQ(m.attr_or("{urn:e}a"), "1");
  ASSERT_EQ(m.children.size(), 2u);
  EXPECT_EQ(m.children[0].name, "x");
  EXPECT_EQ(m.children[0].ns, "urn:e");
  EXPECT_EQ(m.children[0].children[0].children[0].ns, "urn:f");
  EXPECT_EQ(m.children[1].ns, kStreamNs);
  EXPECT_EQ(to_xml(m),
            "<message xmlns:ns0=\"urn:e\" ns0:a=\"1\"><x xmlns=\"urn:e\"><y><z xmlns=\"urn:f\"/>"
            "</y></x><features xmlns=\"http://etherx.jabber.org/streams\"/></message>");
}

// --- the stream ---

TEST(XmlStream, HeaderGivesItsAttributesAndContentNamespace) {
  Recorder r;
  XmlStream s(r);
  EXPECT_FALSE(s.in_element());
  ASSERT_EQ(s.feed(kHeader.substr(0, 30)), XmlError::none);
  EXPECT_TRUE(s.in_element());
  EXPECT_TRUE(r.headers.empty());
  ASSERT_EQ(s.feed(kHeader.substr(30)), XmlError::none);
  EXPECT_FALSE(s.in_element());
  ASSERT_EQ(r.headers.size(), 1u);
  const Element& h = r.headers[0];
  EXPECT_EQ(h.name, "stream");
  EXPECT_EQ(h.ns, kStreamNs);
  EXPECT_EQ(h.attr_or("to"), "example.com");
  EXPECT_EQ(h.attr_or("version"), "1.0");
  EXPECT_EQ(h.attr_or("xml:lang"), "en");
  EXPECT_EQ(h.attrs.size(), 3u);  // no xmlns declarations
  EXPECT_EQ(r.content_ns[0], "jabber:client");
}

TEST(XmlStream, HeaderPrefixIsFreeAndTheDefaultNamespaceOptional) {
  Recorder r;
  XmlStream s(r);
  ASSERT_EQ(s.feed("  <x:stream xmlns:x='http://etherx.jabber.org/streams' to='a'>"),
            XmlError::none);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.content_ns[0], "");
  Recorder r2;
  XmlStream s2(r2);
  ASSERT_EQ(s2.feed("<stream xmlns='http://etherx.jabber.org/streams'>"), XmlError::none);
  EXPECT_EQ(r2.content_ns[0], kStreamNs);
}

TEST(XmlStream, StanzasHandedOverWholeWithTextAndTailOrder) {
  Recorder r;
  XmlStream s(r);
  ASSERT_EQ(s.feed(kHeader), XmlError::none);
  ASSERT_EQ(s.feed("<message to='romeo@example.net' type='chat'><body>Wherefore"), XmlError::none);
  EXPECT_TRUE(r.stanzas.empty());
  EXPECT_TRUE(s.in_element());
  ASSERT_EQ(s.feed(" art thou?</body>between<x xmlns='urn:x'>in<y/>after y</x>last</message>"),
            XmlError::none);
  EXPECT_FALSE(s.in_element());
  ASSERT_EQ(r.stanzas.size(), 1u);
  const Element& m = r.stanzas[0];
  EXPECT_EQ(m.name, "message");
  EXPECT_EQ(m.ns, "jabber:client");
  EXPECT_EQ(m.attr_or("to"), "romeo@example.net");
  EXPECT_EQ(m.text, "");
  ASSERT_EQ(m.children.size(), 2u);
  EXPECT_EQ(m.children[0].text, "Wherefore art thou?");
  EXPECT_EQ(m.children[0].tail, "between");
  EXPECT_EQ(m.children[1].ns, "urn:x");
  EXPECT_EQ(m.children[1].text, "in");
  EXPECT_EQ(m.children[1].children[0].tail, "after y");
  EXPECT_EQ(m.children[1].tail, "last");
  EXPECT_EQ(m.tail, "");
  ASSERT_EQ(s.feed("<presence/>\n<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"),
            XmlError::none);
  ASSERT_EQ(r.stanzas.size(), 3u);
  EXPECT_EQ(r.stanzas[1].name, "presence");
  EXPECT_EQ(r.stanzas[2].child("ping", "urn:xmpp:ping")->ns, "urn:xmpp:ping");
  ASSERT_EQ(s.feed("<mess"), XmlError::none);
  EXPECT_TRUE(s.in_element());
}

TEST(XmlStream, ReferencesCdataAndPredefinedEntitiesAreText) {
  Parsed run =
      parse(stream("<message a='&lt;&amp;&gt;&quot;&apos;&#65;&#x1F600;'><body>&lt;b&gt; &#x263A;"
                   "<![CDATA[<not a tag> & ]]>done</body></message>"));
  ASSERT_EQ(run.error, XmlError::none);
  ASSERT_EQ(run.stanzas.size(), 1u);
  EXPECT_EQ(run.stanzas[0].attr_or("a"), "<&>\"'A\xF0\x9F\x98\x80");
  EXPECT_EQ(run.stanzas[0].children[0].text, "<b> \xE2\x98\xBA<not a tag> & done");
}

TEST(XmlStream, SameStanzasWholeByteByByteAndInRandomPieces) {
  std::string input = stream(
      "\n <message xmlns:p='urn:p' p:q='1' to='a@b' xml:lang='fr'><body>h\xC3\xA9llo\r\n"
      "w&amp;rld</body><p:x><![CDATA[c]]>d<p:y>e</p:y>f</p:x></message>\t"
      "<iq type='get' id='x'><query xmlns='jabber:iq:roster'/></iq>   "
      "<presence><status>&#x1F600;</status></presence></stream:stream>");
  Parsed whole = parse(input);
  ASSERT_EQ(whole.error, XmlError::none);
  ASSERT_EQ(whole.stanzas.size(), 3u);
  EXPECT_EQ(whole.closes, 1);
  EXPECT_EQ(whole.stanzas[0].children[0].text, "h\xC3\xA9llo\nw&rld");
  Parsed bytes = parse(input, {}, 1);
  EXPECT_EQ(bytes.stanzas, whole.stanzas);
  EXPECT_EQ(bytes.closes, 1);
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    Recorder r;
    XmlStream s(r);
    for (std::size_t at = 0; at < input.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 40, input.size() - at);
      ASSERT_EQ(s.feed(std::string_view(input).substr(at, n)), XmlError::none);
      at += n;
    }
    EXPECT_EQ(r.stanzas, whole.stanzas);
    EXPECT_EQ(r.closes, 1);
  }
}

TEST(XmlStream, StreamCloseEndsParsing) {
  Recorder r;
  XmlStream s(r);
  ASSERT_EQ(s.feed(stream("<presence/></stream:stream><iq/>garbage<<<")), XmlError::none);
  EXPECT_EQ(r.closes, 1);
  EXPECT_EQ(r.stanzas.size(), 1u);
  EXPECT_EQ(s.feed("<more/>"), XmlError::none);
  EXPECT_EQ(r.stanzas.size(), 1u);
  EXPECT_FALSE(s.in_element());
  EXPECT_EQ(s.error(), XmlError::none);
}

TEST(XmlStream, CloseWithAnOpenStanzaIsNotWellFormed) {
  EXPECT_EQ(parse(stream("<message><body>hi</stream:stream>")).error, XmlError::not_well_formed);
}

TEST(XmlStream, StopDropsTheRestOfTheFeed) {
  Recorder r;
  XmlStream s(r);
  r.hook = [&](const Element& e) {
    if (e.name == "starttls") s.stop();
  };
  // What follows <starttls/> would be TLS octets: never parsed.
  ASSERT_EQ(s.feed(stream("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq/>\x16\x03\x01")),
            XmlError::none);
  ASSERT_EQ(r.stanzas.size(), 1u);
  EXPECT_FALSE(s.in_element());
  EXPECT_EQ(s.feed("\x16\x03\x01 still ignored <"), XmlError::none);
  EXPECT_EQ(r.stanzas.size(), 1u);
  EXPECT_EQ(s.error(), XmlError::none);
}

TEST(XmlStream, ResetAcceptsASecondHeader) {
  Recorder r;
  XmlStream s(r);
  r.hook = [&](const Element& e) {
    if (e.name == "starttls") s.stop();
  };
  ASSERT_EQ(s.feed(stream("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")), XmlError::none);
  s.reset();
  // The new stream may start with an XML declaration again, and may declare other prefixes.
  ASSERT_EQ(
      s.feed("<?xml version='1.0' encoding='UTF-8'?><s:stream xmlns='jabber:client' "
             "xmlns:s='http://etherx.jabber.org/streams' to='example.org' version='1.0'>"
             "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"),
      XmlError::none);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1].attr_or("to"), "example.org");
  ASSERT_EQ(r.stanzas.size(), 2u);
  EXPECT_EQ(r.stanzas[1].all_text(), "AGEAYg==");
  // A reset mid-stanza forgets the partial stanza too.
  ASSERT_EQ(s.feed("<message><body>"), XmlError::none);
  s.reset();
  EXPECT_FALSE(s.in_element());
  ASSERT_EQ(s.feed(stream("<presence/>")), XmlError::none);
  EXPECT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.stanzas.size(), 3u);
}

TEST(XmlStream, ReleasedWhileIdleTheStreamGoesOnUnchanged) {
  Recorder r;
  XmlStream s(r, XmlLimits{.max_stanza_bytes = 64});
  // Prefixes declared on the header stay in scope after the parser is rebuilt.
  ASSERT_EQ(s.feed("<stream:stream xmlns='jabber:client' xmlns:x='urn:x' "
                   "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "
                   "version='1.0'><message><x:a/></message>  "),
            XmlError::none);
  EXPECT_TRUE(s.release_idle());
  EXPECT_TRUE(s.release_idle()) << "releasing twice is harmless";
  ASSERT_EQ(s.feed("<iq id='1'><x:b>text</x:b></iq><pres"), XmlError::none);
  EXPECT_FALSE(s.release_idle()) << "not inside an element";
  ASSERT_EQ(s.feed("ence/>"), XmlError::none);
  ASSERT_EQ(r.stanzas.size(), 3u);
  EXPECT_EQ(r.stanzas[1].children.front().ns, "urn:x");
  EXPECT_EQ(r.stanzas[1].all_text(), "text");
  EXPECT_EQ(r.stanzas[2].name, "presence");
  EXPECT_EQ(r.headers.size(), 1u) << "the header is not handed over again";
  // The stanza limit still counts from the end of the previous stanza.
  EXPECT_TRUE(s.release_idle());
  EXPECT_EQ(s.feed("<message><body>" + std::string(64, 'x') + "</body></message>"),
            XmlError::policy_violation);
}

TEST(XmlStream, ResetAfterAnErrorStartsClean) {
  Recorder r;
  XmlStream s(r);
  ASSERT_EQ(s.feed(stream("text")), XmlError::bad_format);
  s.reset();
  EXPECT_EQ(s.error(), XmlError::none);
  EXPECT_EQ(s.feed(stream("<presence/>")), XmlError::none);
  EXPECT_EQ(r.stanzas.size(), 1u);
}

TEST(XmlStream, ResetFromACallbackTakesEffectWhenFeedReturns) {
  Recorder r;
  XmlStream s(r);
  r.hook = [&](const Element& e) {
    if (e.name == "success") s.reset();
  };
  ASSERT_EQ(s.feed(stream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><dropped/>")),
            XmlError::none);
  EXPECT_EQ(r.stanzas.size(), 1u);
  ASSERT_EQ(s.feed(stream("<iq/>")), XmlError::none);
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.stanzas.size(), 2u);
}

TEST(XmlStream, WhitespaceKeepalivesNeverReachTheLimit) {
  XmlLimits limits;
  limits.max_stanza_bytes = 1024;
  Recorder r;
  XmlStream s(r, limits);
  ASSERT_EQ(s.feed(kHeader), XmlError::none);
  ASSERT_EQ(s.feed("<presence/>"), XmlError::none);
  for (int i = 0; i < 5000; ++i)
    ASSERT_EQ(s.feed(i % 2 ? " " : "\r\n\t "), XmlError::none) << i;
  EXPECT_FALSE(s.in_element());
  ASSERT_EQ(s.feed(std::string(100000, ' ')), XmlError::none);  // one long run, in one piece
  ASSERT_EQ(s.feed(std::string(1000, ' ') + "<message><body>" + std::string(900, 'x') +
                   "</body></message>" + std::string(3000, '\n')),
            XmlError::none);
  EXPECT_EQ(r.stanzas.size(), 2u);
}

// --- errors ---

TEST(XmlStream, DoctypeIsRestricted) {
  EXPECT_EQ(parse("<!DOCTYPE stream><stream:stream/>").error, XmlError::restricted_xml);
  EXPECT_EQ(parse("<?xml version='1.0'?><!DOCTYPE s SYSTEM 'http://example.com/x.dtd'>").error,
            XmlError::restricted_xml);
}

TEST(XmlStream, BillionLaughsIsRestrictedBeforeAnyExpansion) {
  std::string doc = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>";
  for (int i = 1; i < 10; ++i) {
    doc += "<!ENTITY lol" + std::to_string(i) + " '";
    for (int k = 0; k < 10; ++k)
      doc += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    doc += "'>";
  }
  doc += "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol9;";
  Recorder r;
  XmlStream s(r);
  EXPECT_EQ(s.feed(doc), XmlError::restricted_xml);
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(parse(doc, {}, 1).error, XmlError::restricted_xml);
  // The DOCTYPE is refused as soon as its name is read: the internal subset is never looked at.
  Recorder r2;
  XmlStream s2(r2);
  EXPECT_EQ(s2.feed("<?xml version='1.0'?><!DOCTYPE lolz ["), XmlError::restricted_xml);
}

TEST(XmlStream, UndeclaredEntityIsRestricted) {
  EXPECT_EQ(parse(stream("<message><body>&lol;</body></message>")).error, XmlError::restricted_xml);
}

TEST(XmlStream, CommentsAndProcessingInstructionsAreRestricted) {
  EXPECT_EQ(parse(stream("<message><!-- c --></message>")).error, XmlError::restricted_xml);
  EXPECT_EQ(parse(stream("<!-- between stanzas -->")).error, XmlError::restricted_xml);
  EXPECT_EQ(parse("<!-- before --><stream:stream/>").error, XmlError::restricted_xml);
  EXPECT_EQ(parse(stream("<message><?pi data?></message>")).error, XmlError::restricted_xml);
  EXPECT_EQ(parse("<?xml version='1.0'?><?xml-stylesheet href='x'?>").error,
            XmlError::restricted_xml);
  // The XML declaration belongs at the start only.
  EXPECT_EQ(parse(stream("<?xml version='1.0'?>")).error, XmlError::not_well_formed);
}

TEST(XmlStream, EncodingsOtherThanUtf8AreUnsupported) {
  EXPECT_EQ(parse("<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream "
                  "xmlns:stream='http://etherx.jabber.org/streams'>")
                .error,
            XmlError::unsupported_encoding);
  EXPECT_EQ(parse("<?xml version='1.0' encoding='UTF-16'?>").error, XmlError::unsupported_encoding);
  Parsed ok = parse(
      "<?xml version='1.0' encoding='utf-8'?><stream:stream "
      "xmlns:stream='http://etherx.jabber.org/streams'><a/>");
  EXPECT_EQ(ok.error, XmlError::none);
  EXPECT_EQ(ok.stanzas.size(), 1u);
}

TEST(XmlStream, Utf16IsUnsupportedWhateverTheByteOrderMark) {
  const std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
  std::string le = "\xFF\xFE", be = "\xFE\xFF", bare;
  for (char c : header) {
    le += std::string{c, '\0'};
    be += std::string{'\0', c};
    bare += std::string{c, '\0'};
  }
  for (const std::string& s : {le, be, bare}) {
    EXPECT_EQ(parse(s).error, XmlError::unsupported_encoding);
    EXPECT_EQ(parse(s, {}, 1).error, XmlError::unsupported_encoding);
  }
}

TEST(XmlStream, BadUtf8IsNotWellFormed) {
  EXPECT_EQ(parse(stream(std::string("<message><body>a\0b</body></message>", 35))).error,
            XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message><body>\xFE</body></message>")).error, XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message><body>\xC3\x28</body></message>")).error,
            XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message to='\xFF'/>")).error, XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message><body>\xED\xA0\x80</body></message>")).error,
            XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message><body>\x01</body></message>")).error, XmlError::not_well_formed);
  EXPECT_EQ(parse(stream("<message><body>&#0;</body></message>")).error, XmlError::not_well_formed);
}

TEST(XmlStream, RootOutsideTheStreamNamespaceIsInvalidNamespace) {
  EXPECT_EQ(parse("<stream:stream xmlns:stream='urn:wrong'>").error, XmlError::invalid_namespace);
  EXPECT_EQ(parse("<stream xmlns='jabber:client'>").error, XmlError::invalid_namespace);
  EXPECT_EQ(parse("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>").error,
            XmlError::invalid_namespace);
  // An undeclared prefix is a namespace well-formedness error.
  EXPECT_EQ(parse("<stream:stream>").error, XmlError::not_well_formed);
}

TEST(XmlStream, TextInTheStreamIsBadFormat) {
  EXPECT_EQ(parse(stream("hello")).error, XmlError::bad_format);
  EXPECT_EQ(parse(stream("<presence/> x <presence/>")).error, XmlError::bad_format);
  EXPECT_EQ(parse(stream("&#65;")).error, XmlError::bad_format);
  EXPECT_EQ(parse(stream(" \t\r\n<presence/>\n")).error, XmlError::none);
}

TEST(XmlStream, Depth32FitsAndDepth33IsAPolicyViolation) {
  Parsed fits = parse(stream(nested(32)));
  EXPECT_EQ(fits.error, XmlError::none);
  EXPECT_EQ(fits.stanzas.size(), 1u);
  EXPECT_EQ(parse(stream(nested(33))).error, XmlError::policy_violation);
}

TEST(XmlStream, Attributes64FitAnd65AreAPolicyViolation) {
  auto with = [](int n) {
    std::string s = "<presence";
    for (int i = 0; i < n; ++i)
      s += " a" + std::to_string(i) + "='v'";
    return stream(s + "/>");
  };
  Parsed fits = parse(with(64));
  EXPECT_EQ(fits.error, XmlError::none);
  ASSERT_EQ(fits.stanzas.size(), 1u);
  EXPECT_EQ(fits.stanzas[0].attrs.size(), 64u);
  EXPECT_EQ(parse(with(65)).error, XmlError::policy_violation);
}

TEST(XmlStream, NamespaceDeclarations32FitAnd33AreAPolicyViolation) {
  auto with = [](int n) {
    std::string s = "<iq>";
    for (int i = 0; i < n; ++i)
      s += "<q xmlns='urn:" + std::to_string(i) + "'/>";
    return stream(s + "</iq>");
  };
  EXPECT_EQ(parse(with(32)).error, XmlError::none);
  EXPECT_EQ(parse(with(33)).error, XmlError::policy_violation);
  // The count is per stanza.
  std::string many;
  for (int i = 0; i < 10; ++i)
    many += "<iq xmlns:a='urn:a' xmlns:b='urn:b' xmlns:c='urn:c'/>";
  EXPECT_EQ(parse(stream(many)).error, XmlError::none);
}

TEST(XmlStream, StanzaOfMaxOctetsFitsAndOneMoreIsAPolicyViolation) {
  XmlLimits limits;
  limits.max_stanza_bytes = 1000;
  auto of_size = [](std::size_t n) {
    const std::string open = "<message><body>", close = "</body></message>";
    return open + std::string(n - open.size() - close.size(), 'x') + close;
  };
  ASSERT_EQ(of_size(1000).size(), 1000u);
  for (std::size_t piece : {SIZE_MAX, std::size_t{1}, std::size_t{7}}) {
    Parsed fits = parse(stream(" " + of_size(1000) + " " + of_size(1000)), limits, piece);
    EXPECT_EQ(fits.error, XmlError::none) << piece;
    EXPECT_EQ(fits.stanzas.size(), 2u) << piece;
    Parsed over = parse(stream(of_size(1000) + of_size(1001)), limits, piece);
    EXPECT_EQ(over.error, XmlError::policy_violation) << piece;
    EXPECT_EQ(over.stanzas.size(), 1u) << piece;
  }
}

TEST(XmlStream, HeaderOverItsLimitIsAPolicyViolation) {
  XmlLimits limits;
  limits.max_header_bytes = kHeader.size();
  EXPECT_EQ(parse(stream("<a/>"), limits).error, XmlError::none);
  limits.max_header_bytes = kHeader.size() - 1;
  EXPECT_EQ(parse(stream("<a/>"), limits).error, XmlError::policy_violation);
  EXPECT_EQ(parse(stream("<a/>"), limits, 1).error, XmlError::policy_violation);
}

// Feeds a 10 MB value that never ends in 64 KiB pieces; returns the octets fed when the error
// came (0 if none came).
std::size_t fed_until_error(const std::string& prefix, char fill, XmlLimits limits) {
  Recorder r;
  XmlStream s(r, limits);
  if (s.feed(prefix) != XmlError::none) return 0;
  std::size_t fed = prefix.size();
  const std::string piece(64 * 1024, fill);
  for (std::size_t total = 0; total < 10 * 1024 * 1024; total += piece.size()) {
    fed += piece.size();
    if (XmlError e = s.feed(piece); e != XmlError::none) {
      EXPECT_EQ(e, XmlError::policy_violation);
      return fed;
    }
  }
  return 0;
}

TEST(XmlStream, EndlessAttributeValueIsRefusedBeforeTwiceTheLimit) {
  XmlLimits limits;
  limits.max_token_bytes = SIZE_MAX;  // the stanza limit alone
  const std::string prefix = stream("<message to='");
  std::size_t fed = fed_until_error(prefix, 'a', limits);
  EXPECT_GT(fed, limits.max_stanza_bytes);
  EXPECT_LE(fed, prefix.size() + limits.max_stanza_bytes + 64 * 1024);
  EXPECT_LT(fed, 2 * limits.max_stanza_bytes);
  // With the default token limit it stops far earlier.
  fed = fed_until_error(prefix, 'a', {});
  EXPECT_GT(fed, XmlLimits{}.max_token_bytes);
  EXPECT_LE(fed, prefix.size() + 64 * 1024);
}

TEST(XmlStream, EndlessTextIsRefusedBeforeTwiceTheLimit) {
  const std::string prefix = stream("<message><body>");
  const std::size_t fed = fed_until_error(prefix, 't', {});
  EXPECT_GT(fed, XmlLimits{}.max_stanza_bytes);
  EXPECT_LT(fed, 2 * XmlLimits{}.max_stanza_bytes);
}

TEST(XmlStream, TokenInTinyPiecesIsRefusedAtItsLimit) {
  XmlLimits limits;
  limits.max_token_bytes = 2000;
  Recorder r;
  XmlStream s(r, limits);
  ASSERT_EQ(s.feed(stream("<message to='")), XmlError::none);
  std::size_t n = 0;
  XmlError e = XmlError::none;
  while (e == XmlError::none && n < 100000) {
    e = s.feed("x");
    ++n;
  }
  EXPECT_EQ(e, XmlError::policy_violation);
  EXPECT_GT(n, 1980u);
  EXPECT_LE(n, 2000u);
}

TEST(XmlStream, LongTextAndCdataInTinyPiecesAreNoLongToken) {
  XmlLimits limits;
  limits.max_token_bytes = 64;
  const std::string text(20000, 'x');
  const std::string input = stream("<message to='a@b'><body>" + text + "</body><c><![CDATA[" +
                                   text + "]]></c></message>");
  Parsed run = parse(input, limits, 5);
  ASSERT_EQ(run.error, XmlError::none);
  ASSERT_EQ(run.stanzas.size(), 1u);
  EXPECT_EQ(run.stanzas[0].children[0].text, text);
  EXPECT_EQ(run.stanzas[0].children[1].text, text);
}

TEST(XmlStream, LongNamespaceUrisCannotAmplifyTheTree) {
  // 2,000 short elements, each a copy of a 4 KB namespace URI: 8 MB of tree from 30 KB.
  std::string body = "<iq xmlns:p='urn:" + std::string(4000, 'u') + "'>";
  for (int i = 0; i < 2000; ++i)
    body += "<p:a/>";
  body += "</iq>";
  ASSERT_LT(body.size(), XmlLimits{}.max_stanza_bytes);
  EXPECT_EQ(parse(stream(body)).error, XmlError::policy_violation);
  XmlLimits roomy;
  roomy.max_stanza_memory = 64 * 1024 * 1024;
  EXPECT_EQ(parse(stream(body), roomy).error, XmlError::none);
}

TEST(XmlStream, FreshParsersBetweenStanzasChangeNothing) {
  // A small stanza limit makes the parser start afresh every few stanzas (its name tables are
  // dropped); the stanzas, the prefix declared in the header and every offset stay the same.
  std::string body;
  for (int i = 0; i < 300; ++i) {
    const std::string n = std::to_string(i);
    body += "<iq id='" + n + "' a" + n + "='v'><q" + n + " xmlns='urn:" + n + "' db:k='" + n +
            "'><db:x/></q" + n + "></iq>\n";
  }
  const std::string header =
      "<stream:stream xmlns='jabber:client' xmlns:db='jabber:server:dialback' "
      "xmlns:stream='http://etherx.jabber.org/streams'>";
  XmlLimits small;
  small.max_stanza_bytes = 1000;
  Parsed reference = parse(header + body);
  ASSERT_EQ(reference.error, XmlError::none);
  ASSERT_EQ(reference.stanzas.size(), 300u);
  EXPECT_EQ(reference.stanzas[7].children[0].children[0].ns, "jabber:server:dialback");
  for (std::size_t piece : {SIZE_MAX, std::size_t{1}, std::size_t{13}}) {
    // After all those stanzas, a stanza of exactly the limit still fits and one more octet not.
    const std::string fits = "<message><body>" + std::string(1000 - 32, 'x') + "</body></message>";
    const std::string over = "<message><body>" + std::string(1001 - 32, 'x') + "</body></message>";
    ASSERT_EQ(fits.size(), 1000u);
    Parsed run = parse(header + body + fits + over, small, piece);
    EXPECT_EQ(run.error, XmlError::policy_violation) << piece;
    ASSERT_EQ(run.stanzas.size(), 301u) << piece;
    run.stanzas.pop_back();
    EXPECT_EQ(run.stanzas, reference.stanzas) << piece;
  }
}

TEST(XmlStream, ErrorsAreSticky) {
  Recorder r;
  XmlStream s(r);
  ASSERT_EQ(s.feed(stream("<presence/>")), XmlError::none);
  ASSERT_EQ(s.feed("<message><body>x</bogus>"), XmlError::not_well_formed);
  EXPECT_EQ(s.error(), XmlError::not_well_formed);
  EXPECT_FALSE(s.in_element());
  EXPECT_EQ(s.feed("<presence/>"), XmlError::not_well_formed);
  EXPECT_EQ(s.feed(""), XmlError::not_well_formed);
  EXPECT_EQ(r.stanzas.size(), 1u);
}

TEST(XmlStream, ErrorConditionsAreRfc6120Names) {
  EXPECT_EQ(xml_error_condition(XmlError::none), "");
  EXPECT_EQ(xml_error_condition(XmlError::not_well_formed), "not-well-formed");
  EXPECT_EQ(xml_error_condition(XmlError::restricted_xml), "restricted-xml");
  EXPECT_EQ(xml_error_condition(XmlError::policy_violation), "policy-violation");
  EXPECT_EQ(xml_error_condition(XmlError::bad_format), "bad-format");
  EXPECT_EQ(xml_error_condition(XmlError::invalid_namespace), "invalid-namespace");
  EXPECT_EQ(xml_error_condition(XmlError::unsupported_encoding), "unsupported-encoding");
}

}  // namespace
}  // namespace portico::xmpp

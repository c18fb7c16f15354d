// xmpp — the XML namespaces of RFC 6120, RFC 6121 and the XEPs this server speaks, and small
// helpers every part of the plugin uses: stanza errors (RFC 6120 section 8.3), stream errors
// (4.9), XEP-0082 timestamps, random ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "xml.h"

namespace portico::xmpp {

inline constexpr std::string_view kClientNs = "jabber:client";
inline constexpr std::string_view kFramingNs = "urn:ietf:params:xml:ns:xmpp-framing";  // RFC 7395
inline constexpr std::string_view kStreamErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view kTlsNs = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr std::string_view kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view kRosterNs = "jabber:iq:roster";
inline constexpr std::string_view kPingNs = "urn:xmpp:ping";
inline constexpr std::string_view kDiscoInfoNs = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view kDiscoItemsNs = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view kVcardNs = "vcard-temp";
inline constexpr std::string_view kCarbonsNs = "urn:xmpp:carbons:2";
inline constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";
inline constexpr std::string_view kMamNs = "urn:xmpp:mam:2";
inline constexpr std::string_view kRsmNs = "http://jabber.org/protocol/rsm";
inline constexpr std::string_view kDataNs = "jabber:x:data";
inline constexpr std::string_view kBlockingNs = "urn:xmpp:blocking";
inline constexpr std::string_view kBlockingErrorsNs = "urn:xmpp:blocking:errors";
inline constexpr std::string_view kStanzaIdNs = "urn:xmpp:sid:0";
inline constexpr std::string_view kCsiNs = "urn:xmpp:csi:0";
inline constexpr std::string_view kVersionNs = "jabber:iq:version";
inline constexpr std::string_view kCapsNs = "http://jabber.org/protocol/caps";
inline constexpr std::string_view kRosterVerNs = "urn:xmpp:features:rosterver";
inline constexpr std::string_view kPreApprovalNs = "urn:xmpp:features:pre-approval";
inline constexpr std::string_view kHintsNs = "urn:xmpp:hints";

// RFC 6120 section 8.3.2 error types.
enum class ErrorType { auth, cancel, continue_, modify, wait };

// The error reply to `stanza` (RFC 6120 section 8.3.1): same name and id, from and to
// swapped (`from` is who answers when the original had no `to`), type='error', with the
// defined condition and, when given, a human-readable text.
Element stanza_error(const Element& stanza, std::string_view from, ErrorType type,
                     std::string_view condition, std::string_view text = {});
// <stream:error><condition/><text/></stream:error> (no stream close).
std::string stream_error_xml(std::string_view condition, std::string_view text = {});
// XEP-0082 date-time in UTC with milliseconds: 2026-12-03T07:00:00.123Z.
std::string xmpp_time(std::int64_t unix_ms);
// Parses XEP-0082 date-time (with Z or an offset, optional fraction); nullopt-like -1 on error.
std::int64_t parse_xmpp_time(std::string_view text);
std::int64_t now_ms();
// 96 random bits, base64url without padding (16 characters).
std::string random_id();
// A stanza id for the archive (XEP-0359): the time in milliseconds (48 bits) then 48 random bits,
// in 16 URL-safe characters whose ASCII order is the order of the time, so that the archive's
// unique index grows at its end instead of at random places.
std::string archive_id(std::int64_t unix_ms);

}  // namespace portico::xmpp

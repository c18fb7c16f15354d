// Portico core — the report service (see reports.h).
#include "core/reports/reports.h"

#include <chrono>
#include <fstream>
#include <iterator>

#include "core/queue/spool_files.h"
#include "core/reports/dsn.h"

namespace portico::core {

namespace {

using Result = sdk::QueueResult<sdk::ReportOutcome>;

Result failure(sdk::QueueError error, std::string message) {
  Result r;
  r.error = error;
  r.message = std::move(message);
  return r;
}

std::string unique_id(std::int64_t now) {
  return std::to_string(now) + "." + queue::random_hex(16);  // the queue ids' random source
}

// What the report returns of the message: all of it for a failure (unless RET=HDRS or it is
// large), else its header section. Reads only what it returns.
bool read_returned(const std::string& path, bool whole_wanted, std::string& out, bool& whole) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  whole = whole_wanted && size <= reports::kReturnWholeUpTo;
  if (whole) {
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return static_cast<bool>(in) || in.eof();
  }
  // The header section: read in pieces until its end (at most 1 MiB of it).
  std::string buf;
  char piece[16 * 1024];
  while (buf.size() < 1024 * 1024 && in.read(piece, sizeof piece).gcount() > 0) {
    buf.append(piece, static_cast<std::size_t>(in.gcount()));
    if (reports::header_section(buf).size() < buf.size()) break;
  }
  out = std::string(reports::header_section(buf));
  return true;
}

}  // namespace

Result ReportService::report(const sdk::Envelope& envelope, const std::string& message_path,
                             const std::vector<sdk::ReportRecipient>& recipients,
                             std::int64_t will_retry_until) {
  Result r;
  if (envelope.sender.empty()) return r;  // never a report on a report (RFC 5321 4.5.5)
  reports::DsnInput in;
  bool any_failed = false;
  for (const auto& rr : recipients) {
    if (rr.index >= envelope.recipients.size())
      return failure(sdk::QueueError::invalid, "recipient index out of range");
    if (!reports::deserves_report(envelope.recipients[rr.index].notify, rr.action)) continue;
    in.recipients.push_back(rr);
    any_failed = any_failed || rr.action == sdk::ReportAction::failed;
  }
  if (in.recipients.empty()) return r;

  in.now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  in.reporting_mta = hostname_();
  in.message_id = unique_id(in.now);
  in.envelope = &envelope;
  in.will_retry_until = will_retry_until;
  if (!read_returned(message_path, any_failed && envelope.ret != sdk::DsnRet::headers, in.returned,
                     in.returned_whole)) {
    return failure(sdk::QueueError::io, "cannot read " + message_path);
  }
  const std::string dsn = reports::compose_dsn(in);
  r.value.reported = in.recipients.size();

  // Where the reverse-path leads: local accounts get it in their INBOX, the rest by the queue.
  const sdk::Recipient to = directory_.resolve(envelope.sender);
  if (to.kind == sdk::Recipient::Kind::temporary_failure)
    return failure(sdk::QueueError::io, "the directory cannot be read");
  std::vector<std::string> external = to.external;
  if (to.kind == sdk::Recipient::Kind::none) external = {envelope.sender};
  if (!to.local_accounts.empty()) {
    std::vector<sdk::DeliveryTarget> targets;
    for (const auto& account : to.local_accounts) {
      sdk::DeliveryTarget t;
      t.account = account;
      targets.push_back(std::move(t));
    }
    auto delivered = store_.deliver(targets, dsn, in.now);
    if (!delivered.ok()) return failure(sdk::QueueError::io, "store: " + delivered.message);
    for (const auto& d : delivered.value) {
      if (d.error != sdk::StoreError::none && d.error != sdk::StoreError::over_quota)
        return failure(sdk::QueueError::io, "store: " + d.message);
    }
    r.value.id = "local";
  }
  if (!external.empty()) {
    sdk::Envelope out;
    out.smtputf8 = envelope.smtputf8;
    out.eight_bit_mime = envelope.eight_bit_mime;  // the returned message keeps its octets
    for (const auto& address : external) {
      sdk::QueueRecipient rcpt;
      rcpt.address = address;
      out.recipients.push_back(std::move(rcpt));
    }
    auto incoming = queue_.create_incoming();
    if (!incoming.ok()) return failure(incoming.error, incoming.message);
    if (auto s = incoming.value->append(dsn); !s.ok()) return failure(s.error, s.message);
    if (auto s = incoming.value->seal(); !s.ok()) return failure(s.error, s.message);
    auto id = queue_.enqueue(out, *incoming.value);
    if (!id.ok()) return failure(id.error, id.message);
    r.value.id = id.value;
  }
  return r;
}

}  // namespace portico::core

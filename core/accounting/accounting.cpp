// Portico core — connection accounting (see accounting.h).
#include "core/accounting/accounting.h"

namespace portico::core {

namespace {

void decrement(std::map<std::string, std::int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  if (it == m.end()) return;
  if (--it->second <= 0) m.erase(it);
}

}  // namespace

ConnectionAccounting::Lease& ConnectionAccounting::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    key_ = std::move(o.key_);
    o.owner_ = nullptr;
  }
  return *this;
}

void ConnectionAccounting::Lease::release() {
  if (owner_ != nullptr) {
    owner_->release(key_);
    owner_ = nullptr;
  }
}

Refusal ConnectionAccounting::try_acquire(const Key& key, std::int64_t max_connections,
                                          std::int64_t max_per_address, Lease& lease) {
  ProtocolCounters& c = counters(key.protocol);
  std::lock_guard lock(mutex_);
  auto& proto = per_protocol_[key.protocol];
  if (max_connections > 0 && proto >= max_connections) {
    if (proto == 0) per_protocol_.erase(key.protocol);
    c.refused_busy++;
    return Refusal::protocol_full;
  }
  auto& by_addr = per_address_[key.protocol];
  auto& addr = by_addr[key.address];
  if (max_per_address > 0 && addr >= max_per_address) {
    if (addr == 0) by_addr.erase(key.address);
    if (by_addr.empty()) per_address_.erase(key.protocol);
    if (proto == 0) per_protocol_.erase(key.protocol);
    c.refused_address++;
    return Refusal::address_full;
  }
  ++proto;
  ++addr;
  ++per_listener_[key.protocol + " " + key.listener];
  c.accepted++;
  lease = Lease(this, key);
  return Refusal::none;
}

void ConnectionAccounting::release(const Key& key) {
  std::lock_guard lock(mutex_);
  decrement(per_protocol_, key.protocol);
  decrement(per_listener_, key.protocol + " " + key.listener);
  auto it = per_address_.find(key.protocol);
  if (it != per_address_.end()) {
    decrement(it->second, key.address);
    if (it->second.empty()) per_address_.erase(it);
  }
}

ConnectionAccounting::Snapshot ConnectionAccounting::snapshot() const {
  std::lock_guard lock(mutex_);
  return Snapshot{per_protocol_, per_listener_, per_address_};
}

std::int64_t ConnectionAccounting::live(const std::string& protocol) const {
  std::lock_guard lock(mutex_);
  auto it = per_protocol_.find(protocol);
  return it == per_protocol_.end() ? 0 : it->second;
}

ProtocolCounters& ConnectionAccounting::counters(const std::string& protocol) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[protocol];
  if (!slot) slot = std::make_unique<ProtocolCounters>();
  return *slot;
}

std::map<std::string, const ProtocolCounters*> ConnectionAccounting::all_counters() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, const ProtocolCounters*> out;
  for (const auto& [k, v] : counters_)
    out[k] = v.get();
  return out;
}

}  // namespace portico::core

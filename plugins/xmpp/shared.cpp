// xmpp — the archive writer (see shared.h).
#include "shared.h"

namespace portico::xmpp {

void ArchiveWriter::add(ArchiveEntry entry) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(entry));
    schedule = !scheduled_;
    scheduled_ = true;
  }
  if (schedule) host_.post_work([self = shared_from_this()] { self->run(); });
}

void ArchiveWriter::run() {
  for (;;) {
    std::vector<ArchiveEntry> batch;
    std::vector<std::function<void()>> drained;
    std::lock_guard write(write_mu_);
    {
      std::lock_guard lock(mu_);
      if (pending_.size() < kBacklog / 2) drained.swap(waiters_);
      if (pending_.empty()) scheduled_ = false;
      batch.swap(pending_);
    }
    for (auto& resume : drained)
      resume();
    if (batch.empty()) return;
    try {
      storage_->append_archive(batch);
    } catch (const std::exception& e) {
      host_.log(sdk::LogLevel::error,
                "archive: " + std::to_string(batch.size()) + " messages not kept: " + e.what());
    }
  }
}

void ArchiveWriter::when_drained(std::function<void()> resume) {
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= kBacklog / 2) {
      waiters_.push_back(std::move(resume));
      return;
    }
  }
  resume();
}

std::size_t ArchiveWriter::backlog() {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void ArchiveWriter::flush() {
  std::vector<ArchiveEntry> batch;
  std::lock_guard write(write_mu_);
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  try {
    storage_->append_archive(batch);
  } catch (const std::exception& e) {
    host_.log(sdk::LogLevel::error, std::string("archive: ") + e.what());
  }
}

void Resumptions::put(const std::shared_ptr<Detached>& d) {
  std::lock_guard lock(mu_);
  by_id_[d->id] = d;
}

std::shared_ptr<Detached> Resumptions::take(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  auto d = std::move(it->second);
  by_id_.erase(it);
  return d;
}

bool BlockLists::blocks(const std::string& owner, const Jid& other) const {
  std::lock_guard lock(mu_);
  auto it = lists_.find(owner);
  if (it == lists_.end() || it->second.empty()) return false;
  const auto& list = it->second;
  return list.count(other.full()) != 0 || list.count(other.bare()) != 0 ||
         list.count(other.domain) != 0;
}

void BlockLists::set(const std::string& owner, std::set<std::string> jids) {
  std::lock_guard lock(mu_);
  lists_[owner] = std::move(jids);
}

bool BlockLists::loaded(const std::string& owner) const {
  std::lock_guard lock(mu_);
  return lists_.count(owner) != 0;
}

}  // namespace portico::xmpp

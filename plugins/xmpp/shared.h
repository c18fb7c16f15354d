// xmpp — what every session of the plugin shares: the host, the router, the storage, and the
// archive writer that commits archived messages in groups (one transaction, one fsync, for
// whatever arrived while the previous group was being written).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "jid.h"
#include "portico/host.h"
#include "router.h"
#include "storage.h"

namespace portico::xmpp {

class ArchiveWriter : public std::enable_shared_from_this<ArchiveWriter> {
 public:
  ArchiveWriter(sdk::Host& host, std::shared_ptr<Storage> storage)
      : host_(host), storage_(std::move(storage)) {}
  // Queues an entry (its stanza_id already chosen); written on the worker pool soon after.
  void add(ArchiveEntry entry);
  // Writes what is queued now, on the calling thread (before a query, so it sees everything;
  // and by a session whose messages come faster than the writer keeps up, see backlog()).
  void flush();
  // Entries queued and not yet being written. A session that finds it at kBacklog pauses its
  // input until the writer has brought it below half (when_drained), so the queue's memory
  // stays bounded while the writer commits large groups.
  std::size_t backlog();
  static constexpr std::size_t kBacklog = 4000;
  // Calls `resume` once the backlog is below kBacklog / 2: at once if it is, else from the
  // writer's thread.
  void when_drained(std::function<void()> resume);

 private:
  void run();
  sdk::Host& host_;
  std::shared_ptr<Storage> storage_;
  std::mutex mu_;
  std::vector<ArchiveEntry> pending_;
  std::vector<std::function<void()>> waiters_;
  bool scheduled_ = false;
  std::mutex write_mu_;  // one group at a time, in order
};

// The block lists (XEP-0191) of accounts that have a session, kept in memory so that routing a
// stanza needs no storage read. Loaded when a resource binds, changed with the storage.
class BlockLists {
 public:
  // True when `owner`'s list holds `other` as it is, its bare JID or its domain (XEP-0191 section
  // 3.2: a bare JID blocks every resource, a domain every address in it).
  bool blocks(const std::string& owner, const Jid& other) const;
  void set(const std::string& owner, std::set<std::string> jids);
  bool loaded(const std::string& owner) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::set<std::string>> lists_;
};

// Detached sessions waiting to be resumed, by stream management id.
class Resumptions {
 public:
  void put(const std::shared_ptr<Detached>& d);
  // Removes and returns the detached session with that id (nullptr when none).
  std::shared_ptr<Detached> take(const std::string& id);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Detached>> by_id_;
};

struct Shared {
  explicit Shared(sdk::Host& h) : host(h) {}
  bool blocks(const std::string& owner, const Jid& other) const {
    return blocklists.blocks(owner, other);
  }
  sdk::Host& host;
  Router router;
  std::shared_ptr<Storage> storage;        // nullptr when it could not be opened (logged)
  std::shared_ptr<ArchiveWriter> archive;  // nullptr when the archive is off
  BlockLists blocklists;
  Resumptions resumptions;
  std::string version;
};

}  // namespace portico::xmpp

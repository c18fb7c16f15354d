// Portico core — recovery of the spool from its journal (journal.h) after a crash, at open.
//
// What the journal's records say is made true on disk, under each entry's claim:
//   - an entry removed (a "removed" record, or a tombstone in spool/removed/ left by a process
//     that did not own the journal) has neither an envelope file nor a message file;
//   - an entry enqueued and not removed has a message file with exactly the octets it was
//     enqueued with and, unless it has an envelope file (which wins), the envelope it was
//     enqueued with as its attribute. A message file that is missing or differs is written
//     again from the record (a temp file in incoming/, fsync, rename).
// The caller then checkpoints the journal, which makes all of it durable.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "core/queue/journal.h"
#include "core/queue/spool_files.h"

namespace portico::core::queue {

struct Recovered {
  std::size_t restored = 0;  // message files written again from the journal
  std::size_t removed = 0;   // entries whose recorded removal was finished
  std::size_t skipped = 0;   // entries another process held the claim of (left as they are)
};

Recovered recover_entries(const SpoolLayout& layout, const std::vector<JournalRecord>& records,
                          const std::set<std::string>& tombstones);

}  // namespace portico::core::queue

// Portico core — store schema versions and migrations (see schema.h).
//
// v1: mailboxes, bodies (with the cached ENVELOPE/BODYSTRUCTURE), messages, header index,
//     meta (account-wide counters).
// v2: a per-mailbox message count (kept by every change, checked by `store check`) and the
//     log of expunged UIDs with their MODSEQ (change notifications, RFC 7162 VANISHED).
// v3: small bodies in the database. v4: the expunge log's times and per-mailbox floor.
// v5: each body's MIME part offsets (part_offsets.h), each mailbox's first unclaimed \Recent UID.
#include "core/store/schema.h"

#include <string>

namespace portico::core::store {

namespace {

constexpr std::string_view v1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE mailboxes(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  special_use TEXT NOT NULL DEFAULT '',
  subscribed INTEGER NOT NULL DEFAULT 0,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1);
CREATE TABLE bodies(
  id INTEGER PRIMARY KEY,
  file TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  envelope TEXT NOT NULL DEFAULT '',
  bodystructure TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '');
CREATE TABLE messages(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  body_id INTEGER NOT NULL REFERENCES bodies(id),
  modseq INTEGER NOT NULL,
  flags INTEGER NOT NULL DEFAULT 0,
  keywords TEXT NOT NULL DEFAULT '',
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  message_key TEXT NOT NULL UNIQUE,
  PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_body ON messages(body_id);
CREATE TABLE headers(
  body_id INTEGER NOT NULL REFERENCES bodies(id) ON DELETE CASCADE,
  field TEXT NOT NULL,
  value TEXT NOT NULL);
CREATE INDEX headers_body ON headers(body_id, field);
)sql";

constexpr std::string_view v1_to_v2 = R"sql(
ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET message_count =
  (SELECT count(*) FROM messages WHERE messages.mailbox_id = mailboxes.id);
CREATE TABLE expunged(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL);
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
)sql";

// v3: small bodies kept in the database (NULL: the body is the file under bodies/).
constexpr std::string_view v2_to_v3 = R"sql(
ALTER TABLE bodies ADD COLUMN data BLOB;
)sql";

// v4: when each expunge was logged (the log is pruned after sdk::kExpungeLogDays), and per
// mailbox the highest MODSEQ of a pruned entry (below it the log is incomplete). Entries
// already logged count from the upgrade.
constexpr std::string_view v3_to_v4 = R"sql(
ALTER TABLE expunged ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
UPDATE expunged SET at = CAST(strftime('%s', 'now') AS INTEGER);
ALTER TABLE mailboxes ADD COLUMN expunge_floor INTEGER NOT NULL DEFAULT 0;
)sql";

// v5: the MIME part offsets of each body (part_offsets.h's encoding); NULL for bodies stored
// before, whose offsets are computed from the octets when asked for. Per mailbox the first UID
// no session has claimed as \Recent (messages already there are not recent).
constexpr std::string_view v4_to_v5 = R"sql(
ALTER TABLE bodies ADD COLUMN parts TEXT;
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;
UPDATE mailboxes SET recent_uid = uid_next;
)sql";

// One migration, re-checking the version under the write lock: another process opening the
// same account at the same moment may have run it already.
void step(Database& db, std::string_view sql, int to) {
  Transaction tx(db);
  if (db.user_version() >= to) return;
  db.exec(sql);
  db.exec("PRAGMA user_version=" + std::to_string(to));
  tx.commit();
}

}  // namespace

std::string_view schema_v1_sql() {
  return v1;
}

void migrate(Database& db) {
  int version = db.user_version();
  if (version > schema_version) {
    fail(sdk::StoreError::too_new, db.file().string() +
                                       ": written by a newer Portico (schema version " +
                                       std::to_string(version) + ", this build knows up to " +
                                       std::to_string(schema_version) + "); refusing to open it");
  }
  if (version < 1) step(db, v1, 1);
  if (version < 2) step(db, v1_to_v2, 2);
  if (version < 3) step(db, v2_to_v3, 3);
  if (version < 4) step(db, v3_to_v4, 4);
  if (version < 5) step(db, v4_to_v5, 5);
}

}  // namespace portico::core::store

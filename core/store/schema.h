// Portico core — the on-disk schema of an account's meta.sqlite and its migrations.
//
// The version is PRAGMA user_version. Opening a database migrates it forward, one step at a
// time, each step inside one transaction with the version bump (so a crash or a failure leaves
// the previous version intact, never a half-migrated file). A database whose version is newer
// than this build's is refused with StoreError::too_new and left untouched.
#pragma once

#include <string_view>

#include "core/store/sqlite.h"

namespace portico::core::store {

// The version this build writes.
inline constexpr int schema_version = 5;

// The SQL of version 1 (kept for tests that build an old file, and for the migration chain).
std::string_view schema_v1_sql();

// Creates or upgrades the schema to schema_version; throws StoreFailure (too_new, io).
void migrate(Database& db);

}  // namespace portico::core::store

// Portico core — `store check`: consistency of one account of the embedded store.
#pragma once

#include "core/store/account.h"
#include "core/store/store.h"

namespace portico::core::store {

// Fills `report` with what is wrong (and, with repair, mends it). See MailStore::check.
void check_account(Account& account, bool repair, StoreCheckReport& report);

}  // namespace portico::core::store

// The control plane's CLI commands, for apps/upfront to wire in:
//
//   upfront keys create --data DIR --role admin --name ops   -> RunKeysCreate
//   upfront keys list --data DIR                             -> RunKeysList
//   upfront audit verify --data DIR                          -> RunAuditVerify
//   upfront audit show --data DIR [--customer ID] [--limit N]-> RunAuditShow
//
// Each opens DIR/control with the pseudonym key from DIR/hash.key
// (LoadOrCreateDataKey in src/common/hash.h) and returns the process exit code:
// 0 success, 1 failure, 2 bad arguments. list, verify and show open the store
// read-only, so they work while the server runs. The overloads taking streams
// are for tests; the others print to stdout and stderr.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "upfront/status.h"

namespace upfront {

// Prints the new key's secret once, with a note that it cannot be shown again.
int RunKeysCreate(const std::string& data_dir, const std::string& role, const std::string& name);
int RunKeysList(const std::string& data_dir);
// "audit trail OK: N entries, head <hash>", or the problem (exit 1).
int RunAuditVerify(const std::string& data_dir);
// The entries as a JSON array, oldest first; customer "" for all; limit 0 for all.
int RunAuditShow(const std::string& data_dir, const std::string& customer, size_t limit);

int RunKeysCreate(const std::string& data_dir, const std::string& role, const std::string& name,
                  std::ostream& out, std::ostream& err);
int RunKeysList(const std::string& data_dir, std::ostream& out, std::ostream& err);
int RunAuditVerify(const std::string& data_dir, std::ostream& out, std::ostream& err);
int RunAuditShow(const std::string& data_dir, const std::string& customer, size_t limit,
                 std::ostream& out, std::ostream& err);


}  // namespace upfront

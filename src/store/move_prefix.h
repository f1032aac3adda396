// Moves every key under a prefix from one column family to another, possibly
// in another database, for data directories written before a key space had
// a family (or a database) of its own.
//
// A chunk of keys at a time: a store of any size moves without one huge
// batch in memory. Within one database each key is put and deleted in the
// same synced batch, so a crash part way leaves every key in exactly one
// family. Across databases a chunk is written (synced) to the target before
// it is deleted from the source, so a crash leaves some keys in both; the
// next call copies them again, which is harmless while nothing else writes
// the target. Run it before serving.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <string_view>

#include "upfront/status.h"

namespace upfront {

struct FamilyRef {
  rocksdb::DB* db;
  rocksdb::ColumnFamilyHandle* family;
};

inline absl::Status MovePrefix(std::string_view prefix, FamilyRef from, FamilyRef to, std::string_view what) {
  constexpr int kChunk = 10'000;
  const auto failed = [&](const rocksdb::Status& s) {
    return absl::InternalError("moving " + std::string(what) + ": " + s.ToString());
  };
  const bool same_db = from.db == to.db;
  rocksdb::WriteOptions synced;
  synced.sync = true;
  for (;;) {
    rocksdb::WriteBatch puts, deletes;
    rocksdb::WriteBatch& deletes_into = same_db ? puts : deletes;
    int moved = 0;
    std::unique_ptr<rocksdb::Iterator> it(from.db->NewIterator({}, from.family));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && moved < kChunk; it->Next(), ++moved) {
      puts.Put(to.family, it->key(), it->value());
      deletes_into.Delete(from.family, it->key());
    }
    if (!it->status().ok()) return failed(it->status());
    if (moved == 0) return absl::OkStatus();
    if (rocksdb::Status s = to.db->Write(synced, &puts); !s.ok()) return failed(s);
    if (same_db) continue;
    if (rocksdb::Status s = from.db->Write(synced, &deletes); !s.ok()) return failed(s);
  }
}

inline absl::Status MovePrefix(rocksdb::DB* db, std::string_view prefix, rocksdb::ColumnFamilyHandle* from,
                               rocksdb::ColumnFamilyHandle* to, std::string_view what) {
  return MovePrefix(prefix, {db, from}, {db, to}, what);
}

}  // namespace upfront

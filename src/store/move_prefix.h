// Moves every key under a prefix from one column family to another, for
// data directories written before a key space had a family of its own.
//
// A chunk of keys per synced write, each key put and deleted in the same
// batch: a store of any size moves without one huge batch in memory, and a
// crash part way leaves every key in exactly one family; the next call moves
// the rest. Run it before serving.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <string_view>

#include "upfront/status.h"

namespace upfront {

inline absl::Status MovePrefix(rocksdb::DB* db, std::string_view prefix, rocksdb::ColumnFamilyHandle* from,
                               rocksdb::ColumnFamilyHandle* to, std::string_view what) {
  constexpr int kChunk = 10'000;
  const auto failed = [&](const rocksdb::Status& s) {
    return absl::InternalError("moving " + std::string(what) + ": " + s.ToString());
  };
  for (;;) {
    rocksdb::WriteBatch batch;
    int moved = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, from));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && moved < kChunk; it->Next(), ++moved) {
      batch.Put(to, it->key(), it->value());
      batch.Delete(from, it->key());
    }
    if (!it->status().ok()) return failed(it->status());
    if (moved == 0) return absl::OkStatus();
    rocksdb::WriteOptions synced;
    synced.sync = true;
    if (rocksdb::Status s = db->Write(synced, &batch); !s.ok()) return failed(s);
  }
}

}  // namespace upfront

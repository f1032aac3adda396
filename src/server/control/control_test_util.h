// Helpers shared by the control module's tests: opening a store, the example
// policy, and raw access to the RocksDB files underneath for tamper tests.
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/common/manual_clock.h"
#include "src/server/control/control_store.h"

namespace upfront::testing {

inline constexpr char kTestPseudonymKey[] = "0123456789abcdef0123456789abcdef";

inline std::unique_ptr<ControlStore> OpenControlStore(const std::string& dir, const Clock* clock,
                                                      bool read_only = false) {
  ControlOptions options;
  options.clock = clock;
  options.pseudonym_key = kTestPseudonymKey;
  options.sync = false;  // the tests do not pull the plug
  options.read_only = read_only;
  absl::StatusOr<std::unique_ptr<ControlStore>> store = ControlStore::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string ExamplePolicyText() {
  const char* root = std::getenv("UPFRONT_SOURCE_DIR");
  std::string text =
      ReadFile(std::string(root != nullptr ? root : UPFRONT_SOURCE_DIR) + "/examples/saas/policy.yaml");
  EXPECT_FALSE(text.empty());
  return text;
}

// True when any file under `dir` holds `needle` byte for byte.
inline bool FilesContain(const std::string& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (ReadFile(entry.path().string()).find(needle) != std::string::npos) return true;
  }
  return false;
}

// The store's database opened directly, as someone with access to the files
// could. REQUIRES: the ControlStore on `dir` is closed.
class RawControlDb {
 public:
  explicit RawControlDb(const std::string& dir) {
    rocksdb::Options options;
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir, families, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }
  ~RawControlDb() {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  }
  // Keys of the default column family (entries, details, keys, policies).
  std::string Get(const std::string& key) {
    std::string value;
    EXPECT_TRUE(db_->Get({}, key, &value).ok()) << "no key " << key;
    return value;
  }
  void Put(const std::string& key, const std::string& value) {
    EXPECT_TRUE(db_->Put({}, key, value).ok());
  }
  void Delete(const std::string& key) { EXPECT_TRUE(db_->Delete({}, key).ok()); }
  // Every key and value of every column family, for checking what is (not) stored.
  std::string Dump() {
    std::string all;
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handle));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        all += it->key().ToString() + "=" + it->value().ToString() + "\n";
      }
    }
    return all;
  }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace upfront::testing

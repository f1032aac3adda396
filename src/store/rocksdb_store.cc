#include <nlohmann/json.hpp>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "src/common/binary_codec.h"
#include "src/store/background_writes.h"
#include "src/store/background_priority.h"
#include "src/store/hardware_crc32c.h"
#include "src/store/move_prefix.h"
#include "src/store/store.h"

namespace upfront {
namespace {

constexpr uint64_t kLogVersion = 1;

// Two databases. The event log's, written by the sequencer with an fsync
// before every acknowledgement:
enum ColumnFamily { kDefault, kEvents, kDedup, kHistory, kIdentity, kRecords, kMeasurement, kFamilyCount };
const char* const kFamilyNames[kFamilyCount] = {"default", "events",  "dedup",      "history",
                                                "identity", "records", "measurement"};
// And the partitions' checkpoints (customer state, the timer index, learner
// state and each partition's applied sequence), in a database of their own
// under kCheckpointDir. A checkpoint is one write of tens of megabytes; in
// the log's database every commit queued behind its memtable insert, and
// acknowledgements waited 0.5-1.4 s each time (bench/http_load_bench, 30 s).
// Checkpoints name a sequence only once the log holds it durably (partitions
// apply synced groups), so nothing ties the two databases' writes together.
enum CheckpointFamily { kLearners, kState, kTimers, kCheckpointFamilyCount };
const char* const kCheckpointFamilyNames[kCheckpointFamilyCount] = {"default", "state", "timers"};
constexpr std::string_view kCheckpointDir = "checkpoints";

// The measurement's records (an exposure per customer, intervention and
// variant; one per action) are keyed by customer, so they land anywhere, and
// are only ever read by a whole scan of their kind. In a family of their own
// they append to a vector memtable sorted once at flush, instead of each
// paying a cache miss per skiplist level (~7% of the server's CPU under
// bench/http_load_bench). Point lookups ("review") stay in "records".
constexpr std::string_view kMeasurementKinds[] = {"exposure", "action"};
bool IsMeasurementKind(std::string_view kind) {
  return std::find(std::begin(kMeasurementKinds), std::end(kMeasurementKinds), kind) != std::end(kMeasurementKinds);
}

constexpr std::string_view kLastSeqKey = "last_seq";
constexpr std::string_view kWatermarkKey = "stream_watermark";
constexpr std::string_view kPartitionsKey = "partitions";

void PutBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
uint64_t GetBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
std::string SeqKey(uint64_t seq) {
  std::string k;
  PutBigEndian64(seq, &k);
  return k;
}
std::string HistoryPrefix(std::string_view canonical) {
  std::string k;
  Encoder(&k).PutString(canonical);
  return k;
}
std::string PartitionKey(int partition) { return absl::StrCat("p/", partition); }
constexpr std::string_view kLearnerPrefix = "learner/";
std::string LearnerKey(int partition, std::string_view model) {
  return absl::StrCat(std::string(kLearnerPrefix), partition, "/", std::string(model));
}
// Into a reused buffer, for the many keys of a checkpoint.
void SetCustomerKey(std::string_view canonical, std::string* key) {
  key->assign("c/");
  key->append(canonical);
}
std::string CustomerKey(std::string_view canonical) {
  std::string key;
  SetCustomerKey(canonical, &key);
  return key;
}

absl::Status ToStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(std::string(what), ": ", s.ToString()));
}

bool DecodeLogValue(uint64_t seq, std::string_view value, LogRecord* record) {
  Decoder d(value);
  if (d.GetVarint() != kLogVersion) return false;
  record->seq = seq;
  record->arrival = d.GetSigned();
  record->message_id = d.GetString();
  record->canonical = d.GetString();
  record->merge_from = d.GetString();
  record->event_json = d.GetString();
  return d.ok();
}

// Drops message ids that arrived longer ago than the TTL: they can no longer
// make an event a duplicate, so keeping them only costs space.
class DedupTtlFilter final : public rocksdb::CompactionFilter {
 public:
  DedupTtlFilter(Micros ttl, const Clock* clock) : ttl_(ttl), clock_(clock) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    Decoder d(std::string_view(value.data(), value.size()));
    Micros arrival = d.GetSigned();
    return d.ok() && arrival < clock_->Now() - ttl_;
  }
  const char* Name() const override { return "upfront.DedupTtlFilter"; }

 private:
  Micros ttl_;
  const Clock* clock_;
};

class RocksDbStore final : public StateStore {
 public:
  RocksDbStore(std::unique_ptr<DedupTtlFilter> filter) : dedup_filter_(std::move(filter)) {}

  ~RocksDbStore() override {
    Close(checkpoints_, checkpoint_handles_);
    Close(db_, handles_);
  }

  absl::Status Open(const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.max_total_wal_size = 256 << 20;
    // Fresh data is flushed uncompressed (flushes compete with ingest for the
    // CPU); older levels, where most bytes end up, are compressed.
    options.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression,
                                     rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                     rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                     rocksdb::kZSTD};
    options.max_write_buffer_number = 4;  // let flushes lag behind bursts without stalling writes
    SmoothBackgroundWrites(&options);
    WriteTablesDirectWherePossible(&options, dir);
    ShareBackgroundThreads(&options);

    // Debian's RocksDB is built without SSE4.2, so its crc32c is the slow
    // software one; XXH3 block checksums are much cheaper.
    rocksdb::BlockBasedTableOptions scans;
    scans.checksum = rocksdb::kXXH3;
    rocksdb::BlockBasedTableOptions point_lookups;
    point_lookups.checksum = rocksdb::kXXH3;
    point_lookups.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    point_lookups.whole_key_filtering = true;
    const auto for_point_lookups = [&](rocksdb::ColumnFamilyOptions* cf) {
      cf->table_factory.reset(rocksdb::NewBlockBasedTableFactory(point_lookups));
      cf->memtable_whole_key_filtering = true;
      cf->memtable_prefix_bloom_size_ratio = 0.05;
    };

    rocksdb::Options log_options = options;
    log_options.allow_concurrent_memtable_write = false;  // one writer (the sequencer); needed by vector memtables
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (int i = 0; i < kFamilyCount; ++i) {
      rocksdb::ColumnFamilyOptions cf(log_options);
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(scans));
      if (i == kDedup || i == kIdentity) for_point_lookups(&cf);
      if (i == kDedup) cf.compaction_filter = dedup_filter_.get();
      // Dedup keeps RocksDB's skiplist memtable: a hash-skiplist made inserts
      // O(1) but re-sorted every entry at each flush, which cost a quarter of
      // the CPU under sustained load (bench/http_load_bench).
      if (i == kHistory || i == kMeasurement) {
        // Written in bulk, keyed by customer (random order), read by scans:
        // appending to a vector and sorting once at flush is far cheaper
        // than a skiplist insert per event.
        cf.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
      }
      // The log's keys are sequence numbers: each skiplist insert lands next
      // to the last one, and nothing needs sorting at flush (1.5 vs 1.6-2.0
      // us of CPU per 330-byte event, flush included, against a vector).
      if (i == kEvents || i == kHistory) cf.write_buffer_size = 128 << 20;
      // The log's files are only ever moved down the levels (sequential keys
      // never overlap), never rewritten, so they are compressed when flushed
      // or never: LZ4 made 383 MB of events 84 MB (bench/http_load_bench).
      if (i == kEvents) cf.compression_per_level.assign(cf.compression_per_level.size(), rocksdb::kLZ4Compression);
      // A scan (the scorecard) sorts a copy of the live vector memtable.
      if (i == kMeasurement) cf.write_buffer_size = 16 << 20;
      // Real clients send random UUIDs as message ids, so each dedup insert
      // walks the skiplist from the top with a cache miss per level; a
      // memtable small enough to stay in the cache turns most of those into
      // hits. 16 MB against the default 64: 15-35% more commits/s and 10-18%
      // less process CPU, flushes and compactions included (bench/store_bench
      // with random ids; sequential ids unchanged). Lookups check a few more
      // L0 files, behind their Bloom filters.
      if (i == kDedup) cf.write_buffer_size = 16 << 20;
      // Random keys: every L0 file overlaps all of L1, so an L0 compaction
      // rewrites L1 whole; twice the default files per compaction halve that.
      // Lookups check a few more L0 files, behind their Bloom filters.
      if (i == kDedup || i == kMeasurement) cf.level0_file_num_compaction_trigger = 8;
      families.emplace_back(kFamilyNames[i], cf);
    }
    const std::vector<std::string> legacy = LegacyCheckpointFamilies(dir);
    for (const std::string& name : legacy) families.emplace_back(name, rocksdb::ColumnFamilyOptions(log_options));
    UPFRONT_RETURN_IF_ERROR(OpenDb(log_options, dir, families, &db_, &handles_));

    // Each partition writes its own checkpoints, so several may insert at once.
    std::vector<rocksdb::ColumnFamilyDescriptor> checkpoint_families;
    for (int i = 0; i < kCheckpointFamilyCount; ++i) {
      rocksdb::ColumnFamilyOptions cf(options);
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(scans));
      if (i == kState) for_point_lookups(&cf);
      checkpoint_families.emplace_back(kCheckpointFamilyNames[i], cf);
    }
    UPFRONT_RETURN_IF_ERROR(OpenDb(options, absl::StrCat(dir, "/", std::string(kCheckpointDir)), checkpoint_families,
                                   &checkpoints_, &checkpoint_handles_));
    LowerBackgroundThreadPriority();
    // Said where RocksDB's operators look, since it is a large part of the log's cost.
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, db_->GetOptions().info_log,
                 "upfront: log and blob checksums (crc32c) run on %s",
                 std::string(Crc32cEngineName(ActiveCrc32c())).c_str());
    std::string value;
    if (db_->Get({}, handles_[kDefault], kLastSeqKey, &value).ok()) last_seq_ = GetBigEndian64(value);
    if (db_->Get({}, handles_[kDefault], kWatermarkKey, &value).ok()) {
      watermark_ = static_cast<Micros>(GetBigEndian64(value));
    }
    UPFRONT_RETURN_IF_ERROR(MoveMeasurementRecordsOutOfRecords());
    return MoveCheckpointsOutOfTheLog(legacy);
  }

  absl::Status Commit(const CommitBatch& batch, bool sync) override {
    // Reused: a group of many batches is megabytes, and growing a fresh one
    // by doubling copies it over and over.
    rocksdb::WriteBatch& wb = commit_batch_;
    wb.Clear();
    std::string& key = commit_key_;
    std::string& value = commit_value_;
    std::string& history_key = commit_history_key_;
    for (const LogRecord& r : batch.events) {
      key.clear();
      PutBigEndian64(r.seq, &key);
      value.clear();
      Encoder e(&value);
      e.PutVarint(kLogVersion);
      e.PutSigned(r.arrival);
      e.PutString(r.message_id);
      e.PutString(r.canonical);
      e.PutString(r.merge_from);
      e.PutString(r.event_json);
      wb.Put(handles_[kEvents], key, value);

      history_key.clear();
      Encoder(&history_key).PutString(r.canonical);
      PutBigEndian64(r.seq, &history_key);
      wb.Put(handles_[kHistory], history_key, rocksdb::Slice());
    }
    // Message ids (random UUIDs, as real clients send them) go in in key
    // order: a skiplist insert starts from where the one before went in, so
    // each id searches only the stretch after the last instead of the whole
    // memtable from its top. An id told twice keeps its order (records lie in
    // one vector, so their addresses are their positions), and so its last.
    std::vector<const LogRecord*>& by_id = commit_by_id_;
    by_id.clear();
    for (const LogRecord& r : batch.events) by_id.push_back(&r);
    std::sort(by_id.begin(), by_id.end(), [](const LogRecord* a, const LogRecord* b) {
      return a->message_id != b->message_id ? a->message_id < b->message_id : a < b;
    });
    for (const LogRecord* r : by_id) {
      value.clear();
      Encoder(&value).PutSigned(r->arrival);
      Encoder(&value).PutVarint(r->seq);
      wb.Put(handles_[kDedup], r->message_id, value);
    }
    for (const auto& [id, canonical] : batch.identity_changes) wb.Put(handles_[kIdentity], id, canonical);
    uint64_t last = batch.events.empty() ? last_seq_.load() : batch.events.back().seq;
    wb.Put(handles_[kDefault], kLastSeqKey, SeqKey(last));
    wb.Put(handles_[kDefault], kWatermarkKey, SeqKey(static_cast<uint64_t>(batch.stream_watermark)));
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    const rocksdb::Status written = db_->Write(wo, &wb);
    // A rare huge group does not keep its buffer for good.
    if (wb.GetDataSize() > kKeptCommitBytes) commit_batch_ = rocksdb::WriteBatch();
    UPFRONT_RETURN_IF_ERROR(ToStatus(written, "writing the event log"));
    last_seq_ = last;
    watermark_ = batch.stream_watermark;
    return absl::OkStatus();
  }

  absl::Status LookupMessageIds(std::span<const std::string_view> ids,
                                std::vector<std::optional<Micros>>* arrivals) override {
    arrivals->assign(ids.size(), std::nullopt);
    if (ids.empty()) return absl::OkStatus();
    std::vector<rocksdb::Slice> keys(ids.begin(), ids.end());
    std::vector<rocksdb::PinnableSlice> values(ids.size());
    std::vector<rocksdb::Status> statuses(ids.size());
    db_->MultiGet({}, handles_[kDedup], ids.size(), keys.data(), values.data(), statuses.data());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      UPFRONT_RETURN_IF_ERROR(ToStatus(statuses[i], "looking up message ids"));
      Decoder d(std::string_view(values[i].data(), values[i].size()));
      (*arrivals)[i] = d.GetSigned();
    }
    return absl::OkStatus();
  }

  absl::Status ScanLog(uint64_t from_seq,
                       const std::function<bool(const LogRecord&)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handles_[kEvents]));
    LogRecord record;
    for (it->Seek(SeqKey(from_seq)); it->Valid(); it->Next()) {
      uint64_t seq = GetBigEndian64(std::string_view(it->key().data(), it->key().size()));
      if (!DecodeLogValue(seq, std::string_view(it->value().data(), it->value().size()), &record)) {
        return absl::DataLossError(absl::StrCat("event log record ", seq, " is corrupt"));
      }
      if (!visit(record)) break;
    }
    return ToStatus(it->status(), "reading the event log");
  }

  absl::Status ScanCustomerLog(std::string_view canonical,
                               const std::function<bool(const LogRecord&)>& visit) override {
    std::string prefix = HistoryPrefix(canonical);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handles_[kHistory]));
    std::string value;
    LogRecord record;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint64_t seq = GetBigEndian64(std::string_view(it->key().data() + prefix.size(), 8));
      rocksdb::Status s = db_->Get({}, handles_[kEvents], SeqKey(seq), &value);
      if (s.IsNotFound()) continue;  // purged by retention
      UPFRONT_RETURN_IF_ERROR(ToStatus(s, "reading the event log"));
      if (!DecodeLogValue(seq, value, &record)) {
        return absl::DataLossError(absl::StrCat("event log record ", seq, " is corrupt"));
      }
      if (!visit(record)) break;
    }
    return ToStatus(it->status(), "reading a customer's history");
  }

  absl::Status ScanIdentities(
      const std::function<void(std::string_view, std::string_view)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handles_[kIdentity]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      visit(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()));
    }
    return ToStatus(it->status(), "reading identities");
  }

  absl::Status ScanTimers(
      const std::function<void(std::string_view canonical, Micros due)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(checkpoints_->NewIterator({}, checkpoint_handles_[kTimers]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      visit(std::string_view(it->key().data(), it->key().size()),
            static_cast<Micros>(GetBigEndian64(std::string_view(it->value().data(), it->value().size()))));
    }
    return ToStatus(it->status(), "reading timers");
  }

  static std::string RecordKey(std::string_view kind, std::string_view key) {
    std::string k(kind);
    k.push_back('\0');
    k.append(key);
    return k;
  }

  rocksdb::ColumnFamilyHandle* RecordFamily(std::string_view kind) const {
    return handles_[IsMeasurementKind(kind) ? kMeasurement : kRecords];
  }

  absl::Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) override {
    return ToStatus(db_->Put({}, RecordFamily(kind), RecordKey(kind, key), value), "writing a record");
  }

  absl::Status PutRecords(std::span<const RecordWrite> records) override {
    if (records.empty()) return absl::OkStatus();
    rocksdb::WriteBatch wb;
    for (const RecordWrite& r : records) wb.Put(RecordFamily(r.kind), RecordKey(r.kind, r.key), r.value);
    return ToStatus(db_->Write({}, &wb), "writing records");
  }

  absl::StatusOr<bool> GetRecord(std::string_view kind, std::string_view key, std::string* value) override {
    rocksdb::Status s = db_->Get({}, RecordFamily(kind), RecordKey(kind, key), value);
    if (s.IsNotFound()) return false;
    UPFRONT_RETURN_IF_ERROR(ToStatus(s, "reading a record"));
    return true;
  }

  absl::Status ScanRecords(std::string_view kind,
                           const std::function<bool(std::string_view, std::string_view)>& visit) override {
    const std::string prefix = RecordKey(kind, "");
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, RecordFamily(kind)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (!visit(key.substr(prefix.size()), std::string_view(it->value().data(), it->value().size()))) break;
    }
    return ToStatus(it->status(), "reading records");
  }

  uint64_t last_seq() const override { return last_seq_; }
  Micros stream_watermark() const override { return watermark_; }

  absl::Status WriteCheckpoints(std::span<const Checkpoint> checkpoints) override {
    // Reserved once: a partition's checkpoint is tens of megabytes, and a
    // batch that grows by doubling copies it over and faults in new pages.
    size_t bytes = 64;
    for (const Checkpoint& c : checkpoints) {
      for (const auto& [canonical, state] : c.puts) bytes += canonical.size() + state.size() + 16;
      for (const auto& [model, state] : c.learners) bytes += model.size() + state.size() + 32;
      bytes += (c.deletes.size() + c.timers.size()) * 64 + 64;
    }
    rocksdb::WriteBatch wb(bytes);
    for (const Checkpoint& c : checkpoints) {
      std::string key;
      for (const auto& [canonical, state] : c.puts) {
        SetCustomerKey(canonical, &key);
        wb.Put(checkpoint_handles_[kState], key, state);
      }
      for (std::string_view canonical : c.deletes) wb.Delete(checkpoint_handles_[kState], CustomerKey(canonical));
      for (const auto& [canonical, due] : c.timers) {
        if (due == kNever) {
          wb.Delete(checkpoint_handles_[kTimers], canonical);
        } else {
          wb.Put(checkpoint_handles_[kTimers], canonical, SeqKey(static_cast<uint64_t>(due)));
        }
      }
      for (const auto& [model, state] : c.learners) {
        wb.Put(checkpoint_handles_[kLearners], LearnerKey(c.partition, model), state);
      }
      wb.Put(checkpoint_handles_[kState], PartitionKey(c.partition), SeqKey(c.applied_seq));
    }
    // Not synced: state is derived from the synced event log and rebuilt from
    // it after a crash, starting at the last checkpoint that reached the disk.
    return ToStatus(checkpoints_->Write({}, &wb), "writing customer state");
  }

  absl::StatusOr<bool> ReadState(std::string_view canonical, std::string* state) override {
    rocksdb::Status s = checkpoints_->Get({}, checkpoint_handles_[kState], CustomerKey(canonical), state);
    if (s.IsNotFound()) return false;
    UPFRONT_RETURN_IF_ERROR(ToStatus(s, "reading customer state"));
    return true;
  }

  absl::Status ScanLearners(
      int partition,
      const std::function<void(std::string_view, std::string_view)>& visit) override {
    const std::string prefix = LearnerKey(partition, "");
    std::unique_ptr<rocksdb::Iterator> it(checkpoints_->NewIterator({}, checkpoint_handles_[kLearners]));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      visit(key.substr(prefix.size()), std::string_view(it->value().data(), it->value().size()));
    }
    return ToStatus(it->status(), "reading learner state");
  }

  uint64_t AppliedSeq(int partition) const override {
    std::string value;
    if (!checkpoints_->Get({}, checkpoint_handles_[kState], PartitionKey(partition), &value).ok()) return 0;
    return GetBigEndian64(value);
  }

  absl::StatusOr<int> PartitionCount(int wanted) override {
    std::string value;
    rocksdb::Status s = db_->Get({}, handles_[kDefault], kPartitionsKey, &value);
    if (s.ok()) return static_cast<int>(GetBigEndian64(value));
    if (!s.IsNotFound()) return ToStatus(s, "reading the partition count");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    UPFRONT_RETURN_IF_ERROR(
        ToStatus(db_->Put(wo, handles_[kDefault], kPartitionsKey, SeqKey(wanted)), "storing the partition count"));
    return wanted;
  }

  absl::StatusOr<uint64_t> PurgeLogBefore(Micros cutoff) override {
    // Arrival order follows sequence order, so the purge is a prefix of the log.
    uint64_t purged = 0;
    uint64_t first_kept = 0;
    bool found_kept = false;
    UPFRONT_RETURN_IF_ERROR(ScanLog(0, [&](const LogRecord& r) {
      if (r.arrival >= cutoff) {
        first_kept = r.seq;
        found_kept = true;
        return false;
      }
      ++purged;
      return true;
    }));
    if (purged == 0) return 0;
    std::string end = found_kept ? SeqKey(first_kept) : SeqKey(last_seq_ + 1);
    UPFRONT_RETURN_IF_ERROR(
        ToStatus(db_->DeleteRange({}, handles_[kEvents], SeqKey(0), end), "purging the event log"));
    return purged;
  }

  absl::StatusOr<uint64_t> EraseCustomer(std::span<const std::string> ids) override {
    // Two synced writes, one per database: a crash between them leaves the
    // erasure unacknowledged and half done, and repeating it finishes it.
    rocksdb::WriteBatch wb, checkpointed;
    uint64_t erased = 0;
    for (const std::string& id : ids) {
      const std::string prefix = HistoryPrefix(id);
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, handles_[kHistory]));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const uint64_t seq = GetBigEndian64(std::string_view(it->key().data() + prefix.size(), 8));
        wb.Delete(handles_[kEvents], SeqKey(seq));
        wb.Delete(handles_[kHistory], it->key());
        ++erased;
      }
      UPFRONT_RETURN_IF_ERROR(ToStatus(it->status(), "reading a customer's history"));
      wb.Delete(handles_[kIdentity], id);
      checkpointed.Delete(checkpoint_handles_[kState], CustomerKey(id));
      checkpointed.Delete(checkpoint_handles_[kTimers], id);
    }
    for (int family : {kRecords, kMeasurement}) {
      std::unique_ptr<rocksdb::Iterator> records(db_->NewIterator({}, handles_[family]));
      for (records->SeekToFirst(); records->Valid(); records->Next()) {
        const nlohmann::json record = nlohmann::json::parse(
            std::string_view(records->value().data(), records->value().size()), nullptr, false);
        if (!record.is_object() || !record.contains("customer") || !record["customer"].is_string()) continue;
        const std::string& customer = record["customer"].get_ref<const std::string&>();
        if (std::find(ids.begin(), ids.end(), customer) != ids.end()) wb.Delete(handles_[family], records->key());
      }
      UPFRONT_RETURN_IF_ERROR(ToStatus(records->status(), "reading records"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    UPFRONT_RETURN_IF_ERROR(ToStatus(checkpoints_->Write(wo, &checkpointed), "erasing a customer's state"));
    UPFRONT_RETURN_IF_ERROR(ToStatus(db_->Write(wo, &wb), "erasing a customer"));
    return erased;
  }

 private:
  static void Close(std::unique_ptr<rocksdb::DB>& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    if (!db) return;
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    handles.clear();
    db->Close();
    db.reset();
  }

  static absl::Status OpenDb(const rocksdb::Options& options, const std::string& dir,
                             const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                             std::unique_ptr<rocksdb::DB>* db, std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir, families, handles, &raw);
    if (!s.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open the data directory '", dir, "': ", s.ToString()));
    }
    db->reset(raw);
    return absl::OkStatus();
  }

  // The families in which data directories from before the checkpoint
  // database kept checkpoints inside the log's database.
  static std::vector<std::string> LegacyCheckpointFamilies(const std::string& dir) {
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok()) return {};  // a new directory
    std::vector<std::string> legacy;
    for (int family : {kState, kTimers}) {
      if (std::find(names.begin(), names.end(), kCheckpointFamilyNames[family]) != names.end()) {
        legacy.emplace_back(kCheckpointFamilyNames[family]);
      }
    }
    return legacy;
  }

  // Moves them over (and the learner states from the log's default family),
  // then drops them: a crash part way moves the rest at the next open.
  absl::Status MoveCheckpointsOutOfTheLog(const std::vector<std::string>& legacy) {
    UPFRONT_RETURN_IF_ERROR(MovePrefix(kLearnerPrefix, {db_.get(), handles_[kDefault]},
                                       {checkpoints_.get(), checkpoint_handles_[kLearners]}, "learner state"));
    for (size_t i = 0; i < legacy.size(); ++i) {
      rocksdb::ColumnFamilyHandle* from = handles_[kFamilyCount + i];
      const int to = legacy[i] == kCheckpointFamilyNames[kState] ? kState : kTimers;
      UPFRONT_RETURN_IF_ERROR(MovePrefix("", {db_.get(), from}, {checkpoints_.get(), checkpoint_handles_[to]},
                                         "checkpoints"));
    }
    for (size_t i = 0; i < legacy.size(); ++i) {
      rocksdb::ColumnFamilyHandle* from = handles_[kFamilyCount + i];
      UPFRONT_RETURN_IF_ERROR(ToStatus(db_->DropColumnFamily(from), "dropping a moved family"));
      db_->DestroyColumnFamilyHandle(from);
    }
    handles_.resize(kFamilyCount);
    return absl::OkStatus();
  }

  // Data directories from before the "measurement" family kept those records
  // in "records"; they move over once.
  absl::Status MoveMeasurementRecordsOutOfRecords() {
    for (std::string_view kind : kMeasurementKinds) {
      UPFRONT_RETURN_IF_ERROR(MovePrefix(db_.get(), RecordKey(kind, ""), handles_[kRecords], handles_[kMeasurement],
                                         "measurement records"));
    }
    return absl::OkStatus();
  }

  std::unique_ptr<DedupTtlFilter> dedup_filter_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> checkpoints_;
  std::vector<rocksdb::ColumnFamilyHandle*> checkpoint_handles_;
  std::atomic<uint64_t> last_seq_{0};
  std::atomic<Micros> watermark_{0};
  // Commit's, kept between calls (one caller at a time: the sequencer).
  static constexpr size_t kKeptCommitBytes = 16 << 20;
  rocksdb::WriteBatch commit_batch_;
  std::string commit_key_, commit_value_, commit_history_key_;
  std::vector<const LogRecord*> commit_by_id_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksDbStore(const std::string& dir,
                                                             const StoreOptions& options) {
  const Clock* clock = options.clock ? options.clock : &SystemClock();
  auto store = std::make_unique<RocksDbStore>(std::make_unique<DedupTtlFilter>(options.dedup_ttl, clock));
  UPFRONT_RETURN_IF_ERROR(store->Open(dir));
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace upfront

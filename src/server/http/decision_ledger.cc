#include "src/server/http/decision_ledger.h"
#include "src/store/background_writes.h"
#include "src/store/move_prefix.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/json_writer.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

// Key spaces, each a one-letter prefix and a NUL, in four column families:
//   default:
//     d <id>                      -> the decision JSON
//   "nudges":
//     n <id>                      -> its nudge's state (JSON)
//     r <review id>               -> an agent's claim on a review item (JSON)
//   "by_customer":
//     c <customer> NUL <at> <id>  -> "" (a customer's decisions in time order)
//   "pending":
//     p <customer> NUL <id>       -> "" (a customer's nudges still pending)
//
// Decision ids lead with their time, so inserts into the default family land
// next to each other, and each table flushed from it covers a time span that
// overlaps the next only at its edges, so compactions rewrite little of it
// (see Open()). Customer keys land anywhere: in a skiplist too big for
// the cache each one costs a cache miss per level, 3 to 4 us, and that was
// over half of the decision worker's CPU (bench/ledger_bench: 9.3 us of CPU
// per decision with every key in the default family). "by_customer" is
// written for every decision and read only for a customer's history, export
// and erasure, so it appends to a vector and sorts once per flush (6.1 us per
// decision); a read sorts a copy of the live memtable, so that is kept small
// (4 MB: 4-6 ms per read, against 32 ms at 8 MB and the same write cost).
// "pending" is read on every poll for nudges, so it stays a skiplist, of
// pending nudges only.
constexpr size_t kByCustomerMemtableBytes = 4 << 20;
constexpr char kByCustomerFamily[] = "by_customer";
constexpr char kPendingFamily[] = "pending";
constexpr char kNudgesFamily[] = "nudges";

std::string Key(char space, std::string_view a) {
  std::string k{space, '\0'};
  k.append(a);
  return k;
}
std::string CustomerKey(char space, std::string_view customer) {
  std::string k = Key(space, customer);
  k.push_back('\0');
  return k;
}
std::array<char, 8> BigEndian(uint64_t v) {
  std::array<char, 8> bytes;
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>(v >> (56 - 8 * i));
  return bytes;
}

// A key (and, for a nudge, its state right after it) in Record()'s buffer.
struct Span {
  size_t offset = 0;
  size_t size = 0;
};
struct Piece {
  Span key;
  size_t decision = 0;    // index in the batch
  size_t state_size = 0;  // nudges: the state's bytes after the key
};
constexpr size_t kKeptRecordBytes = 8 << 20;

Span Append(std::string* text, std::initializer_list<std::string_view> parts) {
  Span span{text->size(), 0};
  for (std::string_view part : parts) text->append(part);
  span.size = text->size() - span.offset;
  return span;
}
std::string_view View(const std::string& text, Span span) {
  return std::string_view(text.data() + span.offset, span.size);
}

absl::Status ToStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(std::string(what) + ": " + s.ToString());
}

class RocksDbLedger final : public DecisionLedger {
 public:
  ~RocksDbLedger() override {
    for (rocksdb::ColumnFamilyHandle* family : {by_customer_, pending_family_, nudges_}) {
      if (family != nullptr) db_->DestroyColumnFamilyHandle(family);
    }
  }

  absl::Status Open(const std::string& dir) {
    rocksdb::Options options;
    // Record() looks up decisions re-told after a restart (one keeps its
    // nudge's state); nearly all are new, and a Bloom filter answers "not
    // here" without reading the table files.
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.checksum = rocksdb::kXXH3;  // Debian's RocksDB has only the slow software crc32c
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.allow_concurrent_memtable_write = false;  // needed by the vector memtable
    SmoothBackgroundWrites(&options);
    WriteTablesDirectWherePossible(&options, dir);
    ShareBackgroundThreads(&options);
    // As the event log: fresh data is flushed uncompressed (snappy was 1.3%
    // of the server's CPU under bench/http_load_bench, competing with
    // ingest), older levels, where most bytes end up, are compressed.
    options.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression,
                                     rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                     rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                     rocksdb::kZSTD};
    rocksdb::ColumnFamilyOptions by_customer(options);
    by_customer.write_buffer_size = kByCustomerMemtableBytes;
    // Its keys come in customer order, so every L0 file overlaps all of L1,
    // and an L0 compaction rewrites L1 whole: at the default trigger of 4
    // small files, L1 was rewritten for each 16 MB that came in.
    by_customer.level0_file_num_compaction_trigger = 16;
    by_customer.level0_slowdown_writes_trigger = 40;
    by_customer.level0_stop_writes_trigger = 56;
    by_customer.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    // Decisions (~800 bytes each) go to blob files when their memtable is
    // flushed, and only the keys and blob references are compacted. Every
    // memtable holds both 'd' and 'n' keys, so each new table overlapped the
    // others and compaction rewrote every decision again (388 MB compacted
    // for 437 MB flushed in a 10 s run of bench/http_load_bench), more as
    // the ledger grows deeper. With blob files: 23 MB compacted, and 14-26%
    // more events/s at 16 connections in alternating runs (108-136 k ->
    // 136-155 k; no change at 3). Nudge states (~100 bytes) stay in the
    // tables. Garbage collection moves the live decisions out of the oldest
    // blob files as compactions reach them, so erased ones leave the disk in
    // time, as they do from the tables. Blobs are not compressed: LZ4 of one
    // decision saves only 28% (818 -> 590 bytes), and would cost the flush
    // thread about a microsecond per decision; so a ledger takes more disk
    // than when its older levels were compressed a block at a time.
    // Garbage collection rewrites the live blobs of the oldest quarter of
    // the files each time a compaction reads tables pointing into them.
    // While nudge states shared this family, every table overlapped the
    // others and was compacted again and again: 817 MB of blobs rewritten in
    // a 30 s run of bench/http_load_bench at 3 connections. Alone, the
    // decisions' tables follow each other in time and overlap only at their
    // edges (decisions come a little out of time order): 512 MB. The rest is
    // a young ledger's: its oldest quarter of blob files is seconds old.
    rocksdb::ColumnFamilyOptions decisions(options);
    decisions.enable_blob_files = true;
    decisions.min_blob_size = 256;
    decisions.enable_blob_garbage_collection = true;
    // Collection reads each live decision back from its blob file, in key
    // order, so mostly straight through the file; the files were written
    // past the page cache (direct IO), so without readahead every decision
    // was a pread of its own that waited for the disk: 2,000 context switches
    // a second for the compaction thread under bench/http_load_bench.
    decisions.blob_compaction_readahead_size = 2 << 20;
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, decisions},
        {kByCustomerFamily, by_customer},
        {kPendingFamily, rocksdb::ColumnFamilyOptions(options)},
        {kNudgesFamily, rocksdb::ColumnFamilyOptions(options)}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    UPFRONT_RETURN_IF_ERROR(
        ToStatus(rocksdb::DB::Open(rocksdb::DBOptions(options), dir, families, &handles, &db), "opening " + dir));
    db_.reset(db);
    db_->DestroyColumnFamilyHandle(handles[0]);  // the DB keeps its own default handle
    by_customer_ = handles[1];
    pending_family_ = handles[2];
    nudges_ = handles[3];
    UPFRONT_RETURN_IF_ERROR(MoveKeysOutOfDefault());
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, pending_family_));
    const std::string prefix = Key('p', "");
    uint64_t pending = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++pending;
    pending_ = pending;
    return ToStatus(it->status(), "reading pending nudges");
  }

  absl::Status Record(const std::vector<RecordedDecision>& decisions) override {
    // The batch goes in in key order, family by family: a skiplist memtable
    // inserts a key next to the one before from where that one went in, and
    // searches from the top for one elsewhere. In the order of the decisions,
    // each 'd' key was followed by an 'n' key far from it, and pending keys
    // come in customer order, not time order.
    // Keys and nudge states are written one after another into one reused
    // buffer and sorted as pieces of it, so a batch allocates nothing for them
    // (a heap string per key, moved about by the sorts, was a fifth of the
    // decision worker's time).
    std::lock_guard lock(mu_);
    std::string& text = record_text_;
    text.clear();
    std::vector<Piece>& records = record_pieces_;     // 'd' key, decision index
    std::vector<Piece>& nudges = nudge_pieces_;       // 'n' key, nudge state
    std::vector<Piece>& by_customer = customer_pieces_;
    std::vector<Piece>& pending = pending_pieces_;
    records.clear();
    nudges.clear();
    by_customer.clear();
    pending.clear();
    std::string existing;
    for (size_t i = 0; i < decisions.size(); ++i) {
      const RecordedDecision& d = decisions[i];
      records.push_back({Append(&text, {std::string_view("d\0", 2), d.id}), i, 0});
      const std::array<char, 8> at = BigEndian(static_cast<uint64_t>(d.at));
      by_customer.push_back(
          {Append(&text, {std::string_view("c\0", 2), d.customer, std::string_view("\0", 1),
                          std::string_view(at.data(), at.size()), d.id}),
           i, 0});
      // Re-told after a restart: a nudge already known keeps its state (its
      // feedback went through the log, so it is known even when the decision
      // was lost with the memtable).
      if (d.nudge && !(d.may_be_recorded && db_->Get({}, nudges_, Key('n', d.id), &existing).ok())) {
        const Span key = Append(&text, {std::string_view("n\0", 2), d.id});
        const size_t state_begin = text.size();
        {
          JsonWriter w(&text);  // as nlohmann writes it: keys sorted
          w.Member(R"({"customer":)", d.customer);
          w.Raw(R"(,"expires":)");
          w.Timestamp(d.nudge_expires);
          w.Raw(R"(,"status":"pending"})");
        }
        nudges.push_back({key, i, text.size() - state_begin});
        pending.push_back({Append(&text, {std::string_view("p\0", 2), d.customer, std::string_view("\0", 1), d.id}),
                           i, 0});
      }
    }
    // A decision told twice in one batch keeps its last record (the sort is
    // stable), and its nudge is pending once.
    const auto by_key = [&text](const Piece& a, const Piece& b) { return View(text, a.key) < View(text, b.key); };
    const auto same_key = [&text](const Piece& a, const Piece& b) { return View(text, a.key) == View(text, b.key); };
    std::stable_sort(records.begin(), records.end(), by_key);
    std::stable_sort(nudges.begin(), nudges.end(), by_key);
    std::sort(by_customer.begin(), by_customer.end(), by_key);
    std::sort(pending.begin(), pending.end(), by_key);
    pending.erase(std::unique(pending.begin(), pending.end(), same_key), pending.end());
    pending_ += pending.size();
    rocksdb::WriteBatch& wb = record_batch_;  // reused: growing a fresh batch copies it over and over
    wb.Clear();
    for (const Piece& r : records) wb.Put(View(text, r.key), decisions[r.decision].json);
    for (const Piece& n : nudges) {
      wb.Put(nudges_, View(text, n.key), View(text, {n.key.offset + n.key.size, n.state_size}));
    }
    for (const Piece& c : by_customer) wb.Put(by_customer_, View(text, c.key), rocksdb::Slice());
    for (const Piece& p : pending) wb.Put(pending_family_, View(text, p.key), rocksdb::Slice());
    rocksdb::WriteOptions unlogged;
    unlogged.disableWAL = true;  // see decision_ledger.h; closing the database flushes them
    const rocksdb::Status written = db_->Write(unlogged, &wb);
    // A rare huge batch does not keep its buffers for good.
    if (wb.GetDataSize() > kKeptRecordBytes) record_batch_ = rocksdb::WriteBatch();
    if (text.capacity() > kKeptRecordBytes) text = std::string();
    return ToStatus(written, "recording decisions");
  }

  absl::Status Persist() override {
    const std::vector<rocksdb::ColumnFamilyHandle*> all = {db_->DefaultColumnFamily(), by_customer_,
                                                           pending_family_, nudges_};
    return ToStatus(db_->Flush(rocksdb::FlushOptions(), all), "persisting decisions");
  }

  absl::StatusOr<nlohmann::json> Get(std::string_view decision_id) override {
    std::string value;
    rocksdb::Status s = db_->Get({}, Key('d', decision_id), &value);
    if (s.IsNotFound()) return absl::NotFoundError("no decision '" + std::string(decision_id) + "'");
    UPFRONT_RETURN_IF_ERROR(ToStatus(s, "reading a decision"));
    nlohmann::json decision = nlohmann::json::parse(value, nullptr, false);
    if (decision.is_discarded()) return absl::DataLossError("decision " + std::string(decision_id) + " is unreadable");
    if (db_->Get({}, nudges_, Key('n', decision_id), &value).ok()) {
      decision["nudge"] = nlohmann::json::parse(value, nullptr, false);
    }
    return decision;
  }

  absl::StatusOr<nlohmann::json> CustomerDecisions(const std::vector<std::string>& ids, size_t limit) override {
    std::vector<std::pair<std::string, std::string>> found;  // (time key, id)
    for (const std::string& customer : ids) {
      const std::string prefix = CustomerKey('c', customer);
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, by_customer_));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        std::string_view rest(it->key().data() + prefix.size(), it->key().size() - prefix.size());
        if (rest.size() < 8) continue;
        found.emplace_back(std::string(rest.substr(0, 8)), std::string(rest.substr(8)));
      }
      UPFRONT_RETURN_IF_ERROR(ToStatus(it->status(), "reading a customer's decisions"));
    }
    std::sort(found.begin(), found.end(), std::greater<>());
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < found.size() && out.size() < limit; ++i) {
      auto decision = Get(found[i].second);
      if (decision.ok()) out.push_back(std::move(*decision));
    }
    return out;
  }

  absl::StatusOr<nlohmann::json> PendingNudges(const std::vector<std::string>& ids, Micros now) override {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& customer : ids) {
      const std::string prefix = CustomerKey('p', customer);
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, pending_family_));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const std::string id(it->key().data() + prefix.size(), it->key().size() - prefix.size());
        auto decision = Get(id);
        if (!decision.ok() || !decision->contains("nudge")) continue;
        const auto expires = ParseTimestamp((*decision)["nudge"].value("expires", ""));
        if (expires && *expires <= now) continue;
        out.push_back(std::move(*decision));
      }
      UPFRONT_RETURN_IF_ERROR(ToStatus(it->status(), "reading pending nudges"));
    }
    std::sort(out.begin(), out.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a.value("at", "") < b.value("at", "");
    });
    return out;
  }

  absl::StatusOr<uint64_t> ExpireNudges(Micros now) override {
    // Candidates from a scan without the lock (Record() keeps going), then
    // each re-read and changed under it, a chunk at a time.
    std::vector<std::pair<std::string, std::string>> keys;  // pending key, decision id
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, pending_family_));
      const std::string prefix = Key('p', "");
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const std::string_view key = it->key().ToStringView();
        const size_t end_of_customer = key.find('\0', prefix.size());
        if (end_of_customer == std::string_view::npos) continue;
        keys.emplace_back(std::string(key), std::string(key.substr(end_of_customer + 1)));
      }
      UPFRONT_RETURN_IF_ERROR(ToStatus(it->status(), "reading pending nudges"));
    }
    constexpr size_t kChunk = 1000;
    uint64_t expired = 0;
    for (size_t from = 0; from < keys.size(); from += kChunk) {
      std::lock_guard lock(mu_);
      rocksdb::WriteBatch wb;
      uint64_t in_chunk = 0;
      for (size_t i = from; i < std::min(keys.size(), from + kChunk); ++i) {
        absl::StatusOr<nlohmann::json> nudge = ReadNudge(keys[i].second);
        if (!nudge.ok() || nudge->value("status", "") != "pending") continue;  // answered meanwhile
        const std::optional<Micros> expires = ParseTimestamp(nudge->value("expires", ""));
        if (!expires || *expires > now) continue;
        (*nudge)["status"] = "expired";
        wb.Put(nudges_, Key('n', keys[i].second), nudge->dump());
        wb.Delete(pending_family_, keys[i].first);
        ++in_chunk;
      }
      if (in_chunk == 0) continue;
      UPFRONT_RETURN_IF_ERROR(ToStatus(db_->Write({}, &wb), "expiring nudges"));
      pending_ -= std::min<uint64_t>(pending_, in_chunk);
      expired += in_chunk;
    }
    return expired;
  }

  absl::StatusOr<bool> MarkShown(std::string_view decision_id, Micros now) override {
    std::lock_guard lock(mu_);
    UPFRONT_ASSIGN_OR_RETURN(nlohmann::json nudge, ReadNudge(decision_id));
    if (nudge.contains("shown_at")) return false;
    nudge["shown_at"] = FormatTimestamp(now);
    UPFRONT_RETURN_IF_ERROR(
        ToStatus(db_->Put({}, nudges_, Key('n', decision_id), nudge.dump()), "recording a nudge"));
    return true;
  }

  absl::Status RecordFeedback(std::string_view decision_id, std::string_view feedback, Micros now) override {
    std::lock_guard lock(mu_);
    UPFRONT_ASSIGN_OR_RETURN(nlohmann::json nudge, ReadNudge(decision_id));
    // An expired nudge may have been on screen when its time ran out: what
    // the customer did with it still counts.
    const std::string status = nudge.value("status", "");
    if (status != "pending" && status != "expired") {
      return absl::FailedPreconditionError("decision " + std::string(decision_id) + " already has feedback: " + status);
    }
    nudge["status"] = std::string(feedback);
    nudge["feedback_at"] = FormatTimestamp(now);
    rocksdb::WriteBatch wb;
    wb.Put(nudges_, Key('n', decision_id), nudge.dump());
    wb.Delete(pending_family_, CustomerKey('p', nudge.value("customer", "")) + std::string(decision_id));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    UPFRONT_RETURN_IF_ERROR(ToStatus(db_->Write(wo, &wb), "recording feedback"));
    if (status == "pending" && pending_ > 0) --pending_;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> EraseCustomers(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    rocksdb::WriteBatch wb;
    uint64_t erased = 0;
    for (const std::string& customer : ids) {
      for (char space : {'c', 'p'}) {
        const std::string prefix = CustomerKey(space, customer);
        rocksdb::ColumnFamilyHandle* family = FamilyOf(space);
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, family));
        for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
          std::string_view rest(it->key().data() + prefix.size(), it->key().size() - prefix.size());
          if (space == 'c' && rest.size() >= 8) {
            const std::string id(rest.substr(8));
            wb.Delete(Key('d', id));
            wb.Delete(nudges_, Key('n', id));
            ++erased;
          }
          if (space == 'p' && pending_ > 0) --pending_;
          wb.Delete(family, it->key());
        }
        UPFRONT_RETURN_IF_ERROR(ToStatus(it->status(), "reading a customer's decisions"));
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    UPFRONT_RETURN_IF_ERROR(ToStatus(db_->Write(wo, &wb), "erasing decisions"));
    return erased;
  }

  uint64_t pending_nudges() const override { return pending_.load(); }

  absl::StatusOr<std::string> Claim(std::string_view review_id, std::string_view agent, Micros now,
                                    Micros ttl) override {
    std::lock_guard lock(mu_);
    const std::string holder = HolderLocked(review_id, now);
    if (!holder.empty() && holder != agent) return holder;
    nlohmann::json claim = {{"agent", std::string(agent)}, {"until", now + ttl}};
    UPFRONT_RETURN_IF_ERROR(
        ToStatus(db_->Put({}, nudges_, Key('r', review_id), claim.dump()), "recording a claim"));
    return std::string(agent);
  }

  std::string ClaimHolder(std::string_view review_id, Micros now) override {
    std::lock_guard lock(mu_);
    return HolderLocked(review_id, now);
  }

 private:
  rocksdb::ColumnFamilyHandle* FamilyOf(char space) const {
    switch (space) {
      case 'c': return by_customer_;
      case 'p': return pending_family_;
      case 'n':
      case 'r': return nudges_;
      default: return db_->DefaultColumnFamily();
    }
  }

  // Ledgers written before the other families kept all keys in the default
  // one; they move over once.
  absl::Status MoveKeysOutOfDefault() {
    for (char space : {'c', 'p', 'n', 'r'}) {
      UPFRONT_RETURN_IF_ERROR(MovePrefix(db_.get(), Key(space, ""), db_->DefaultColumnFamily(), FamilyOf(space),
                                         "the ledger's keys"));
    }
    return absl::OkStatus();
  }

  std::string HolderLocked(std::string_view review_id, Micros now) {
    std::string value;
    if (!db_->Get({}, nudges_, Key('r', review_id), &value).ok()) return "";
    const nlohmann::json claim = nlohmann::json::parse(value, nullptr, false);
    if (!claim.is_object() || claim.value("until", Micros{0}) <= now) return "";
    return claim.value("agent", "");
  }

  absl::StatusOr<nlohmann::json> ReadNudge(std::string_view decision_id) {
    std::string value;
    rocksdb::Status s = db_->Get({}, nudges_, Key('n', decision_id), &value);
    if (s.IsNotFound()) {
      return absl::NotFoundError("decision '" + std::string(decision_id) + "' is not a nudge waiting to be shown");
    }
    UPFRONT_RETURN_IF_ERROR(ToStatus(s, "reading a nudge"));
    nlohmann::json nudge = nlohmann::json::parse(value, nullptr, false);
    if (nudge.is_discarded()) return absl::DataLossError("nudge state is unreadable");
    return nudge;
  }

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* by_customer_ = nullptr;
  rocksdb::ColumnFamilyHandle* pending_family_ = nullptr;
  rocksdb::ColumnFamilyHandle* nudges_ = nullptr;
  std::mutex mu_;  // read-modify-write of nudge states
  // Record()'s buffers, kept between batches (under mu_).
  std::string record_text_;
  std::vector<Piece> record_pieces_, nudge_pieces_, customer_pieces_, pending_pieces_;
  rocksdb::WriteBatch record_batch_;
  std::atomic<uint64_t> pending_{0};
};

}  // namespace

absl::StatusOr<std::unique_ptr<DecisionLedger>> DecisionLedger::Open(const std::string& dir) {
  auto ledger = std::make_unique<RocksDbLedger>();
  UPFRONT_RETURN_IF_ERROR(ledger->Open(dir));
  return std::unique_ptr<DecisionLedger>(std::move(ledger));
}

}  // namespace upfront

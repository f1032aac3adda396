#include "src/server/control/audit_trail.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/common/json_writer.h"
#include "src/common/time_format.h"

namespace upfront {
namespace {

using Json = nlohmann::json;

// A leader takes at most about this many entries into one write.
constexpr size_t kMaxGroupEntries = 4096;

void PutU64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
void PutField(std::string_view s, std::string* out) {
  PutU64(s.size(), out);
  out->append(s);
}

bool GetString(const Json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

std::string HeadJson(uint64_t seq, std::string_view hash) {
  return Json{{"seq", seq}, {"hash", hash}}.dump();
}

bool ParseHead(std::string_view value, uint64_t* seq, std::string* hash) {
  Json j = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto it = j.find("seq");
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *seq = it->get<uint64_t>();
  return GetString(j, "hash", hash);
}

// Releases a snapshot when it goes out of scope.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  rocksdb::ReadOptions read_options() const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    return ro;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

std::string EntryRange(uint64_t from, uint64_t to) {
  return from == to ? absl::StrCat("entry ", from) : absl::StrCat("entries ", from, "..", to);
}

}  // namespace

std::string AuditRecord::ComputeHash() const {
  // Fixed-width big-endian integers and length-prefixed strings, so no two
  // different records encode alike. README.md documents the layout.
  std::string buf = "upfront.audit.v1";
  PutU64(seq, &buf);
  PutU64(static_cast<uint64_t>(at), &buf);
  PutField(actor, &buf);
  PutField(action, &buf);
  PutField(subject, &buf);
  PutU64(customers.size(), &buf);
  for (const std::string& c : customers) PutField(c, &buf);
  PutField(details_digest, &buf);
  PutField(prev, &buf);
  return Sha256Hex(buf);
}

std::string AuditRecord::ToJson() const {
  // Written by hand, keys sorted as nlohmann writes them: the decision
  // worker writes one record per action, and building a document to print
  // it was a tenth of that thread's time (bench/audit_bench). Text that is
  // not plain ASCII (never, in what the engine writes) goes through nlohmann,
  // which replaces invalid UTF-8 instead of writing it out.
  const auto ascii = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  };
  if (ascii(actor) && ascii(action) && ascii(subject) && ascii(details_digest) && ascii(prev) && ascii(hash) &&
      std::all_of(customers.begin(), customers.end(), ascii)) {
    std::string out;
    {
      JsonWriter w(&out);
      w.Member(R"({"action":)", action);
      w.Member(R"(,"actor":)", actor);
      w.Raw(R"(,"at":)");
      w.Integer(at);
      w.Raw(R"(,"customers":[)");
      for (size_t i = 0; i < customers.size(); ++i) {
        if (i > 0) w.Char(',');
        w.String(customers[i]);
      }
      w.Member(R"(],"details_digest":)", details_digest);
      w.Member(R"(,"hash":)", hash);
      w.Member(R"(,"prev":)", prev);
      if (redacted) w.Raw(R"(,"redacted":true)");
      w.Raw(R"(,"seq":)");
      w.Integer(static_cast<int64_t>(seq));
      w.Member(R"(,"subject":)", subject);
      w.Char('}');
    }
    return out;
  }
  Json j = {{"seq", seq},       {"at", at},
            {"actor", actor},   {"action", action},
            {"subject", subject}, {"customers", customers},
            {"details_digest", details_digest}, {"prev", prev},
            {"hash", hash}};
  if (redacted) j["redacted"] = true;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<AuditRecord> AuditRecord::Parse(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  AuditRecord r;
  auto seq = j.find("seq");
  auto at = j.find("at");
  auto customers = j.find("customers");
  if (seq == j.end() || !seq->is_number_unsigned() || at == j.end() || !at->is_number_integer() ||
      customers == j.end() || !customers->is_array()) {
    return std::nullopt;
  }
  r.seq = seq->get<uint64_t>();
  r.at = at->get<Micros>();
  for (const Json& c : *customers) {
    if (!c.is_string()) return std::nullopt;
    r.customers.push_back(c.get<std::string>());
  }
  if (!GetString(j, "actor", &r.actor) || !GetString(j, "action", &r.action) ||
      !GetString(j, "subject", &r.subject) || !GetString(j, "details_digest", &r.details_digest) ||
      !GetString(j, "prev", &r.prev) || !GetString(j, "hash", &r.hash)) {
    return std::nullopt;
  }
  auto redacted = j.find("redacted");
  r.redacted = redacted != j.end() && redacted->is_boolean() && redacted->get<bool>();
  return r;
}

// One caller waiting to append (LevelDB's writer queue). The writer at the
// front of AuditTrail::writers_ is the leader: it chains its own entries and
// those of plain writers queued behind it, writes them in one synced batch,
// and wakes them with the result.
struct AuditTrail::Writer {
  std::vector<StagedAuditEntry> entries;
  // The caller's own writes, committed atomically with its entries. A writer
  // with a batch or a prepare step is written alone.
  rocksdb::WriteBatch* batch = nullptr;
  // Run by the leader, holding the queue, just before chaining: sees every
  // earlier entry in the database and may add writes and finish the entries.
  std::function<absl::Status(rocksdb::WriteBatch*, std::vector<StagedAuditEntry>*)> prepare;

  absl::Status status;
  uint64_t first_seq = 0;
  bool done = false;
  std::condition_variable cv;
};

absl::StatusOr<std::unique_ptr<AuditTrail>> AuditTrail::Open(ControlDb* db) {
  std::unique_ptr<AuditTrail> trail(new AuditTrail(db));
  std::string value;
  rocksdb::Status s = db->db->Get({}, kAuditHeadKey, &value);
  if (s.ok()) {
    if (!ParseHead(value, &trail->head_seq_, &trail->head_hash_)) {
      return absl::DataLossError("the audit trail's head record is damaged");
    }
  } else if (s.IsNotFound()) {
    // No head: continue after the last entry there is (none in a new store).
    // A missing head with entries present is reported by Verify.
    std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator({}));
    it->SeekForPrev(NumberedKey(kAuditPrefix, UINT64_MAX));
    if (it->Valid() && it->key().starts_with(kAuditPrefix)) {
      std::optional<AuditRecord> last = AuditRecord::Parse(it->value().ToStringView());
      if (!last) return absl::DataLossError("the last audit entry is damaged");
      trail->head_seq_ = last->seq;
      trail->head_hash_ = last->hash;
    }
  } else {
    return RocksStatus(s, "reading the audit head");
  }
  return trail;
}

absl::Status AuditTrail::Validate(const AuditEntry& entry) {
  if (entry.actor.empty()) return absl::InvalidArgumentError("an audit entry needs an actor");
  if (entry.action.empty()) return absl::InvalidArgumentError("an audit entry needs an action");
  return absl::OkStatus();
}

void AuditTrail::SetDetails(const nlohmann::json& details, StagedAuditEntry* staged) {
  // nlohmann objects keep their keys sorted, so dump() is canonical; invalid
  // UTF-8 is replaced rather than thrown.
  staged->details = details.dump(-1, ' ', false, Json::error_handler_t::replace);
  staged->details_digest = Sha256Hex(staged->details);
}

StagedAuditEntry AuditTrail::Stage(const AuditEntry& entry) const {
  StagedAuditEntry staged;
  staged.actor = entry.actor;
  staged.action = entry.action;
  staged.subject = entry.subject;
  for (const std::string& customer : entry.customers) {
    if (customer.empty()) continue;
    std::string pseudonym = PseudonymFor(db_->pseudonym_key, customer);
    if (std::find(staged.pseudonyms.begin(), staged.pseudonyms.end(), pseudonym) ==
        staged.pseudonyms.end()) {
      staged.pseudonyms.push_back(std::move(pseudonym));
    }
  }
  if (entry.details_text.empty()) {
    SetDetails(entry.details, &staged);
  } else {
    staged.details = entry.details_text;
    staged.details_digest = Sha256Hex(staged.details);
  }
  return staged;
}

absl::StatusOr<uint64_t> AuditTrail::Commit(std::vector<StagedAuditEntry> entries,
                                            rocksdb::WriteBatch* batch) {
  if (entries.empty() && batch == nullptr) return 0;
  Writer writer;
  writer.entries = std::move(entries);
  writer.batch = batch;
  return Write(&writer);
}

absl::StatusOr<uint64_t> AuditTrail::Write(Writer* w) {
  UPFRONT_RETURN_IF_ERROR(db_->CheckWritable());
  std::unique_lock lock(mu_);
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) w->cv.wait(lock);
  if (w->done) {
    if (!w->status.ok()) return w->status;
    return w->first_seq;
  }

  // This writer leads. Plain appends queued behind it join its write.
  std::vector<Writer*> group = {w};
  rocksdb::WriteBatch own_batch;
  rocksdb::WriteBatch* batch = w->batch != nullptr ? w->batch : &own_batch;
  absl::Status status;
  if (w->prepare) status = w->prepare(batch, &w->entries);
  if (w->batch == nullptr && !w->prepare) {
    size_t total = w->entries.size();
    for (auto it = writers_.begin() + 1; it != writers_.end() && total < kMaxGroupEntries; ++it) {
      if ((*it)->batch != nullptr || (*it)->prepare) break;
      group.push_back(*it);
      total += (*it)->entries.size();
    }
  }

  if (status.ok()) {
    uint64_t seq = head_seq_;
    std::string prev = head_hash_;
    const Micros now = db_->clock->Now();
    std::vector<std::pair<uint64_t, const std::string*>> details;
    std::vector<std::string> index;
    for (Writer* member : group) {
      member->first_seq = seq + 1;
      for (StagedAuditEntry& entry : member->entries) {
        AuditRecord record;
        record.seq = ++seq;
        record.at = now;
        record.actor = std::move(entry.actor);
        record.action = std::move(entry.action);
        record.subject = std::move(entry.subject);
        record.customers = std::move(entry.pseudonyms);
        record.details_digest = std::move(entry.details_digest);
        record.prev = std::move(prev);
        record.hash = record.ComputeHash();
        batch->Put(NumberedKey(kAuditPrefix, seq), record.ToJson());
        details.emplace_back(seq, &entry.details);
        for (const std::string& pseudonym : record.customers) index.push_back(CustomerIndexKey(pseudonym, seq));
        prev = std::move(record.hash);
      }
    }
    // Key by key in order, each key space after the other: a skiplist
    // memtable inserts next to the key before from where that one went in,
    // and searches from the top for one elsewhere. Entries and details
    // alternating, and customers in the order they came, each searched from
    // the top (over a quarter of the decision worker's time went to them).
    for (const auto& [details_seq, text] : details) batch->Put(NumberedKey(kDetailsPrefix, details_seq), *text);
    std::sort(index.begin(), index.end());
    for (const std::string& key : index) batch->Put(db_->audit_index, key, rocksdb::Slice());
    batch->Put(kAuditHeadKey, HeadJson(seq, prev));
    // Others may queue up meanwhile; only the leader touches the head.
    lock.unlock();
    status = db_->Write(batch, "writing the audit trail");
    lock.lock();
    if (status.ok()) {
      head_seq_ = seq;
      head_hash_ = std::move(prev);
    }
  }

  for (Writer* member : group) {
    writers_.pop_front();
    member->status = status;
    member->done = true;
    if (member != w) member->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  if (!status.ok()) return status;
  return w->first_seq;
}

absl::StatusOr<uint64_t> AuditTrail::Erase(const std::vector<std::string>& pseudonyms,
                                           std::string_view actor) {
  uint64_t redacted = 0;
  uint64_t min_seq = UINT64_MAX;
  uint64_t max_seq = 0;

  Writer w;
  w.entries.resize(1);
  StagedAuditEntry& tombstone = w.entries[0];
  tombstone.actor = std::string(actor);
  tombstone.action = "customer.erase";
  tombstone.pseudonyms = pseudonyms;
  // The scan runs as the leader, so no entry can be chained between the scan
  // and the tombstone: everything before the tombstone is redacted.
  w.prepare = [&](rocksdb::WriteBatch* batch, std::vector<StagedAuditEntry>* entries) {
    absl::flat_hash_set<uint64_t> seen;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator({}, db_->audit_index));
    for (const std::string& pseudonym : pseudonyms) {
      const std::string prefix = CustomerIndexPrefix(pseudonym);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        uint64_t seq = KeyNumber(it->key().ToStringView(), prefix);
        if (seq == 0 || !seen.insert(seq).second) continue;
        std::string value;
        rocksdb::Status s = db_->db->Get({}, NumberedKey(kAuditPrefix, seq), &value);
        if (s.IsNotFound()) continue;  // a removed entry: Verify reports it
        UPFRONT_RETURN_IF_ERROR(RocksStatus(s, "reading the audit trail"));
        std::optional<AuditRecord> record = AuditRecord::Parse(value);
        if (!record) return absl::DataLossError(absl::StrCat("audit entry ", seq, " is damaged"));
        // Erasure entries carry only pseudonyms and are the evidence of
        // earlier erasures: they keep their details.
        if (record->action == "customer.erase") continue;
        if (!record->redacted) {
          record->redacted = true;
          batch->Put(NumberedKey(kAuditPrefix, seq), record->ToJson());
          ++redacted;
        }
        batch->Delete(NumberedKey(kDetailsPrefix, seq));
        min_seq = std::min(min_seq, seq);
        max_seq = std::max(max_seq, seq);
      }
      UPFRONT_RETURN_IF_ERROR(RocksStatus(it->status(), "reading the audit index"));
    }
    SetDetails(Json{{"entries_redacted", redacted}}, &entries->front());
    return absl::OkStatus();
  };
  UPFRONT_RETURN_IF_ERROR(Write(&w).status());

  if (max_seq > 0) {
    // Deleted values linger in the write-ahead log and in older table files
    // until rewritten: flush and compact the erased range so the details are
    // gone from disk, not only from reads. Every family is flushed: a log is
    // kept while any family still needs it.
    UPFRONT_RETURN_IF_ERROR(
        RocksStatus(db_->db->Flush(rocksdb::FlushOptions(), db_->handles), "flushing after erasure"));
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    const std::string begin = NumberedKey(kDetailsPrefix, min_seq);
    const std::string end = NumberedKey(kDetailsPrefix, max_seq + 1);
    rocksdb::Slice begin_slice(begin), end_slice(end);
    UPFRONT_RETURN_IF_ERROR(RocksStatus(
        db_->db->CompactRange(options, &begin_slice, &end_slice), "compacting after erasure"));
  }
  return redacted;
}

absl::StatusOr<std::string> AuditTrail::EntriesJson(std::string_view pseudonym, uint64_t from_seq,
                                             size_t limit) const {
  ScopedSnapshot snapshot(db_->db.get());
  const rocksdb::ReadOptions ro = snapshot.read_options();
  from_seq = std::max<uint64_t>(from_seq, 1);
  const std::string index_prefix = pseudonym.empty() ? std::string(kAuditPrefix)
                                                     : CustomerIndexPrefix(pseudonym);
  Json out = Json::array();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(ro, pseudonym.empty() ? db_->db->DefaultColumnFamily() : db_->audit_index));
  std::string value;
  for (it->Seek(NumberedKey(index_prefix, from_seq));
       it->Valid() && it->key().starts_with(index_prefix) && (limit == 0 || out.size() < limit);
       it->Next()) {
    std::optional<AuditRecord> record;
    if (pseudonym.empty()) {
      record = AuditRecord::Parse(it->value().ToStringView());
    } else {
      uint64_t seq = KeyNumber(it->key().ToStringView(), index_prefix);
      rocksdb::Status s = db_->db->Get(ro, NumberedKey(kAuditPrefix, seq), &value);
      if (s.IsNotFound()) continue;
      UPFRONT_RETURN_IF_ERROR(RocksStatus(s, "reading the audit trail"));
      record = AuditRecord::Parse(value);
    }
    if (!record) {
      return absl::DataLossError(
          absl::StrCat("audit entry under key ", it->key().ToString(true), " is damaged"));
    }
    Json entry = {{"seq", record->seq},
                  {"at", FormatTimestamp(record->at)},
                  {"actor", record->actor},
                  {"action", record->action},
                  {"subject", record->subject},
                  {"customers", record->customers},
                  {"details_digest", record->details_digest},
                  {"prev", record->prev},
                  {"hash", record->hash}};
    if (record->redacted) {
      entry["redacted"] = true;
    } else {
      rocksdb::Status s = db_->db->Get(ro, NumberedKey(kDetailsPrefix, record->seq), &value);
      if (s.ok()) {
        entry["details"] = Json::parse(value, nullptr, /*allow_exceptions=*/false);
        if (entry["details"].is_discarded()) entry["details"] = nullptr;
      } else if (s.IsNotFound()) {
        entry["details"] = nullptr;
      } else {
        return RocksStatus(s, "reading audit details");
      }
    }
    out.push_back(std::move(entry));
  }
  UPFRONT_RETURN_IF_ERROR(RocksStatus(it->status(), "reading the audit trail"));
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

AuditVerifyReport AuditTrail::Verify() const {
  AuditVerifyReport report;
  report.head_hash = kZeroHash;
  auto fail = [&report](uint64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return report;
  };

  ScopedSnapshot snapshot(db_->db.get());
  const rocksdb::ReadOptions ro = snapshot.read_options();
  std::string value;
  bool has_head = false;
  uint64_t head_seq = 0;
  std::string head_hash;
  rocksdb::Status s = db_->db->Get(ro, kAuditHeadKey, &value);
  if (s.ok()) {
    if (!ParseHead(value, &head_seq, &head_hash)) return fail(0, "the audit head is damaged");
    has_head = true;
  } else if (!s.IsNotFound()) {
    return fail(0, absl::StrCat("cannot read the audit head: ", s.ToString()));
  }

  // Redacted entries wait here until a later "customer.erase" entry names one
  // of their customers; any left at the end lost their details otherwise.
  std::map<uint64_t, std::vector<std::string>> unexplained;
  absl::flat_hash_map<std::string, std::vector<uint64_t>> unexplained_by_customer;

  uint64_t expected = 1;
  std::string prev = kZeroHash;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro));
  // Details are read by a second cursor moving alongside: much cheaper than a
  // point lookup per entry.
  std::unique_ptr<rocksdb::Iterator> details(db_->db->NewIterator(ro));
  details->Seek(kDetailsPrefix);
  for (it->Seek(kAuditPrefix); it->Valid() && it->key().starts_with(kAuditPrefix); it->Next()) {
    const uint64_t seq = KeyNumber(it->key().ToStringView(), kAuditPrefix);
    if (seq == 0) return fail(expected, "an audit entry is stored under a malformed key");
    if (seq > expected) {
      return fail(expected, absl::StrCat(EntryRange(expected, seq - 1), " missing"));
    }
    std::optional<AuditRecord> record = AuditRecord::Parse(it->value().ToStringView());
    if (!record) return fail(seq, absl::StrCat("entry ", seq, " is unreadable"));
    if (record->seq != seq) {
      return fail(seq, absl::StrCat("entries out of order: entry ", record->seq,
                                    " is stored in the place of entry ", seq));
    }
    if (record->ComputeHash() != record->hash) {
      return fail(seq, absl::StrCat("entry ", seq, " altered: its hash does not match its contents"));
    }
    if (record->prev != prev) {
      if (seq == 1) return fail(1, "entry 1 altered: it does not start the chain");
      // Both entries hash correctly on their own, so one was rewritten with a
      // recomputed hash; the earlier one is the first that may be bad.
      return fail(seq - 1, absl::StrCat("entry ", seq - 1, " altered or entry ", seq,
                                        " replaced: entry ", seq, " does not link to entry ",
                                        seq - 1));
    }
    const std::string details_key = NumberedKey(kDetailsPrefix, seq);
    while (details->Valid() && details->key().starts_with(kDetailsPrefix) &&
           details->key().compare(details_key) < 0) {
      details->Next();
    }
    if (!details->status().ok()) {
      return fail(seq, absl::StrCat("cannot read entry ", seq, "'s details: ",
                                    details->status().ToString()));
    }
    if (details->Valid() && details->key() == details_key) {
      if (Sha256Hex(details->value().ToStringView()) != record->details_digest) {
        return fail(seq, absl::StrCat("entry ", seq, " details altered"));
      }
    } else if (!record->redacted) {
      return fail(seq, absl::StrCat("entry ", seq, " details missing"));
    } else {
      for (const std::string& customer : record->customers) {
        unexplained_by_customer[customer].push_back(seq);
      }
      unexplained[seq] = record->customers;
    }
    if (record->action == "customer.erase") {
      for (const std::string& customer : record->customers) {
        auto found = unexplained_by_customer.find(customer);
        if (found == unexplained_by_customer.end()) continue;
        for (uint64_t redacted_seq : found->second) unexplained.erase(redacted_seq);
        unexplained_by_customer.erase(found);
      }
    }
    prev = std::move(record->hash);
    ++report.entries;
    expected = seq + 1;
  }
  if (!it->status().ok()) {
    return fail(expected, absl::StrCat("cannot read the audit trail: ", it->status().ToString()));
  }

  const uint64_t last = expected - 1;
  if (!has_head) {
    if (last > 0) return fail(0, "the audit head is missing");
  } else if (head_seq > last) {
    return fail(last + 1, absl::StrCat(EntryRange(last + 1, head_seq),
                                       " missing: the trail ends before its recorded head"));
  } else if (head_seq < last) {
    return fail(head_seq + 1, absl::StrCat(EntryRange(head_seq + 1, last),
                                           " past the recorded head (written outside the store)"));
  } else if (head_hash != prev) {
    return fail(last, absl::StrCat("entry ", last, " altered: it does not match the recorded head"));
  }
  if (!unexplained.empty()) {
    uint64_t seq = unexplained.begin()->first;
    return fail(seq, absl::StrCat("entry ", seq, " details removed without an erasure entry"));
  }
  report.head_hash = prev;
  return report;
}

}  // namespace upfront

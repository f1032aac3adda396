// The outbox: items in RocksDB, pending ones also indexed in memory by their
// next attempt, one mutex around the bookkeeping and never around a request.
//
// Every change to an item is one synced WriteBatch (the item, its state index
// and, for new items, the customer index), so the store always holds a
// consistent picture. A failed write is treated like LevelDB's background
// error: the in-memory picture may then be ahead of the store, so the outbox
// refuses further changes until it is reopened.

#include "src/server/outbox/outbox.h"
#include "src/store/background_writes.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "src/common/time_format.h"
#include "src/server/outbox/internal/http_post.h"
#include "src/server/outbox/internal/item.h"
#include "src/server/outbox/internal/retry.h"
#include "src/server/outbox/internal/signing.h"

namespace upfront {

using outbox_internal::DecodeItem;
using outbox_internal::EncodeItem;
using outbox_internal::HttpAnswer;
using outbox_internal::HttpUrl;
using outbox_internal::Item;
using outbox_internal::ItemKey;
using outbox_internal::ItemState;
using outbox_internal::StateKey;
using outbox_internal::StatePrefix;

namespace {

constexpr size_t kMaxIdLength = 256;
// Standard Webhooks: secrets are 24 to 64 random bytes.
constexpr size_t kMinSecretBytes = 24;
constexpr size_t kMaxSecretBytes = 64;
// The delivery thread looks at the clock at least this often, so an injected
// clock that jumps ahead is noticed too.
constexpr auto kLongestSleep = std::chrono::seconds(1);

absl::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(fmt::format("outbox store: {}: {}", what, status.ToString()));
}

// Why `id` cannot be a webhook-id; empty when it can. It goes into a header
// and into the signed content, where a '.' would make "id.timestamp.payload"
// ambiguous (the spec asks ids not to hold one).
std::string CheckMessageId(std::string_view id) {
  if (id.empty()) return "the message id is empty";
  if (id.size() > kMaxIdLength)
    return fmt::format("the message id is over {} characters", kMaxIdLength);
  for (char c : id) {
    if (c == '.')
      return fmt::format("message id '{}' has a '.', which Standard Webhooks ids must not", id);
    if (c <= ' ' || c == 0x7f) {
      return fmt::format("message id '{}' has a space or control character", id);
    }
  }
  return "";
}

std::string ToJsonText(const nlohmann::ordered_json& json) {
  // Invalid UTF-8 (in a payload, say) is replaced rather than thrown on.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// The outcome of one attempt, in the words last_error shows.
struct AttemptResult {
  int status = 0;  // 0 when no answer came
  std::string retry_after;
  std::string error;  // why there was no answer
  bool Delivered() const { return status >= 200 && status <= 299; }
  std::string Describe() const {
    if (status == 0) return error;
    std::string text = fmt::format("HTTP {}", status);
    if (!retry_after.empty()) text += fmt::format(" (Retry-After: {})", retry_after);
    return text;
  }
};

}  // namespace

class Outbox::Impl {
 public:
  struct Endpoint {
    WebhookEndpoint config;
    HttpUrl url;
    std::string key;  // the decoded secret
  };

  Impl(OutboxOptions options, absl::flat_hash_map<std::string, Endpoint> endpoints)
      : options_(std::move(options)),
        clock_(options_.clock ? options_.clock : &SystemClock()),
        endpoints_(std::move(endpoints)) {
    write_options_.sync = options_.sync;
  }

  ~Impl() { Stop(); }

  absl::Status Load(const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    SmoothBackgroundWrites(&options);
    WriteTablesDirectWherePossible(&options, dir);
    ShareBackgroundThreads(&options);
    rocksdb::DB* db = nullptr;
    UPFRONT_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, &db), "opening " + dir));
    db_.reset(db);

    std::string value;
    rocksdb::Status status = db_->Get({}, std::string(outbox_internal::kNextSeqKey), &value);
    if (!status.IsNotFound()) UPFRONT_RETURN_IF_ERROR(FromRocks(status, "reading the sequence"));
    next_seq_ = std::max<uint64_t>(outbox_internal::DecodeSeq(value), 1);

    UPFRONT_RETURN_IF_ERROR(
        ForEachKey(outbox_internal::kEndpointPrefix, [&](std::string_view key, std::string_view) {
          disabled_.insert(std::string(key.substr(outbox_internal::kEndpointPrefix.size())));
        }));
    UPFRONT_RETURN_IF_ERROR(ForEachKey(StatePrefix(ItemState::kDead),
                                       [&](std::string_view, std::string_view) { ++dead_; }));
    std::vector<std::string> pending_ids;
    UPFRONT_RETURN_IF_ERROR(
        ForEachKey(StatePrefix(ItemState::kPending),
                   [&](std::string_view, std::string_view id) { pending_ids.emplace_back(id); }));
    for (const std::string& id : pending_ids) {
      UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(id, nullptr));
      if (!item)
        return absl::DataLossError(fmt::format("outbox store: pending item '{}' is missing", id));
      pending_[id] = Pending{item->next_attempt, item->endpoint};
      due_.emplace(item->next_attempt, id);
    }
    return absl::OkStatus();
  }

  absl::Status CheckMessage(const OutboxMessage& message) const {
    if (std::string why = CheckMessageId(message.id); !why.empty()) {
      return absl::InvalidArgumentError(why);
    }
    if (message.customer.empty() || message.customer.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("message '{}' needs the customer's id (erasure and export find items by it)",
                      message.id));
    }
    if (!endpoints_.contains(message.endpoint)) {
      return absl::NotFoundError(
          fmt::format("message '{}': no webhook endpoint named '{}' is configured", message.id,
                      message.endpoint));
    }
    return absl::OkStatus();
  }

  // One synced write for all the new ones: each Enqueue is an fsync, and the
  // server queues a batch of decisions' webhooks at a time.
  std::vector<absl::Status> EnqueueMany(std::span<const OutboxMessage> messages) {
    std::vector<absl::Status> statuses(messages.size());
    for (size_t i = 0; i < messages.size(); ++i) statuses[i] = CheckMessage(messages[i]);
    std::lock_guard lock(mu_);
    std::vector<Item> added;
    std::vector<size_t> added_from;  // index in messages
    absl::flat_hash_set<std::string_view> ids;
    rocksdb::WriteBatch batch;
    const Micros now = clock_->Now();
    for (size_t i = 0; i < messages.size(); ++i) {
      if (!statuses[i].ok()) continue;
      if (!store_error_.ok()) {
        statuses[i] = store_error_;
        continue;
      }
      const OutboxMessage& message = messages[i];
      if (!ids.insert(message.id).second) continue;  // at most once per id
      absl::StatusOr<std::optional<Item>> existing = ReadItem(message.id, nullptr);
      if (!existing.ok()) {
        statuses[i] = existing.status();
        continue;
      }
      if (*existing) continue;
      Item& item = added.emplace_back();
      added_from.push_back(i);
      item.id = message.id;
      item.endpoint = message.endpoint;
      item.customer = message.customer;
      item.type = message.type;
      item.payload = message.payload;
      item.seq = next_seq_ + added.size() - 1;
      item.created = now;
      if (disabled_.contains(item.endpoint)) {
        item.state = ItemState::kDead;
        item.last_error = DisabledReason(item.endpoint);
      } else {
        item.next_attempt = item.created;
      }
      batch.Put(ItemKey(item.id), EncodeItem(item));
      batch.Put(StateKey(item.state, item.seq), item.id);
      batch.Put(outbox_internal::CustomerKey(item.customer, item.id), "");
    }
    if (added.empty()) return statuses;
    batch.Put(std::string(outbox_internal::kNextSeqKey), outbox_internal::EncodeSeq(next_seq_ + added.size()));
    if (absl::Status written = Write(&batch); !written.ok()) {
      for (size_t i : added_from) statuses[i] = written;
      return statuses;
    }
    next_seq_ += added.size();
    stats_.enqueued += added.size();
    bool wake = false;
    for (const Item& item : added) {
      if (item.state == ItemState::kDead) {
        ++dead_;
      } else {
        AddPending(item);
        wake = true;
      }
    }
    if (wake) Wake();
    return statuses;
  }

  absl::StatusOr<size_t> DeliverDue() {
    const Micros now = clock_->Now();
    std::vector<std::string> taken;
    {
      std::lock_guard lock(mu_);
      UPFRONT_RETURN_IF_ERROR(store_error_);
      for (auto it = due_.begin(); it != due_.end() && it->first <= now;) {
        in_flight_.insert(it->second);
        taken.push_back(it->second);
        it = due_.erase(it);
      }
    }
    size_t attempts = 0;
    size_t next = 0;
    absl::Status status;
    for (; next < taken.size() && !stop_requested_.load(); ++next) {
      absl::StatusOr<bool> attempted = Attempt(taken[next]);
      if (!attempted.ok()) {
        status = attempted.status();
        break;
      }
      if (*attempted) ++attempts;
    }
    if (next < taken.size()) {
      // Stopping, or the store failed: what was not attempted waits.
      std::lock_guard lock(mu_);
      for (size_t i = next; i < taken.size(); ++i) Release(taken[i]);
    }
    UPFRONT_RETURN_IF_ERROR(status);
    return attempts;
  }

  void Start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    stop_requested_ = false;
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (!thread_.joinable()) return;
      stopping_ = true;
      stop_requested_ = true;
    }
    wake_.notify_all();
    thread_.join();
    std::lock_guard lock(mu_);
    stopping_ = false;
    stop_requested_ = false;
  }

  absl::StatusOr<std::string> ItemsJson(std::string_view status, size_t limit) const {
    std::vector<ItemState> states;
    if (status.empty()) {
      states = {ItemState::kPending, ItemState::kDelivered, ItemState::kDead};
    } else if (std::optional<ItemState> state = outbox_internal::ItemStateFromName(status)) {
      states = {*state};
    } else {
      return absl::InvalidArgumentError(fmt::format(
          "'{}' is not an item status; use pending, delivered or dead (or none for all)", status));
    }
    Snapshot snapshot(db_.get());
    // The state indexes are each in enqueue order; merging them lists all
    // items oldest first without reading more than `limit` of them.
    std::vector<std::unique_ptr<rocksdb::Iterator>> cursors;
    std::vector<std::string> prefixes;
    for (ItemState state : states) {
      prefixes.push_back(StatePrefix(state));
      cursors.emplace_back(db_->NewIterator(snapshot.options()));
      cursors.back()->Seek(prefixes.back());
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    while (list.size() < limit) {
      int oldest = -1;
      for (size_t i = 0; i < cursors.size(); ++i) {
        if (!cursors[i]->Valid() || !cursors[i]->key().starts_with(prefixes[i])) continue;
        if (oldest < 0 || cursors[i]->key().ToStringView().substr(3) <
                              cursors[oldest]->key().ToStringView().substr(3)) {
          oldest = static_cast<int>(i);
        }
      }
      if (oldest < 0) break;
      const std::string id = cursors[oldest]->value().ToString();
      UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(id, &snapshot.options()));
      if (item) list.push_back(outbox_internal::ItemJson(*item, /*for_export=*/false));
      cursors[oldest]->Next();
    }
    for (const auto& cursor : cursors) {
      UPFRONT_RETURN_IF_ERROR(FromRocks(cursor->status(), "listing items"));
    }
    return ToJsonText(list);
  }

  absl::StatusOr<size_t> Replay(std::string_view id) {
    std::lock_guard lock(mu_);
    UPFRONT_RETURN_IF_ERROR(store_error_);
    std::vector<Item> items;
    if (!id.empty()) {
      UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(id, nullptr));
      if (!item) return absl::NotFoundError(fmt::format("no outbox item '{}'", id));
      if (item->state != ItemState::kDead) {
        return absl::FailedPreconditionError(
            fmt::format("outbox item '{}' is {}, not dead; only dead letters are replayed", id,
                        outbox_internal::ItemStateName(item->state)));
      }
      items.push_back(*std::move(item));
    } else {
      std::vector<std::string> ids;
      UPFRONT_RETURN_IF_ERROR(ForEachKey(
          StatePrefix(ItemState::kDead),
          [&](std::string_view, std::string_view dead_id) { ids.emplace_back(dead_id); }));
      for (const std::string& dead_id : ids) {
        UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(dead_id, nullptr));
        if (item) items.push_back(*std::move(item));
      }
    }
    const Micros now = clock_->Now();
    rocksdb::WriteBatch batch;
    absl::flat_hash_set<std::string> endpoints;
    for (Item& item : items) {
      batch.Delete(StateKey(ItemState::kDead, item.seq));
      item.state = ItemState::kPending;
      item.attempts = 0;
      item.first_attempt = kNever;
      item.next_attempt = now;
      item.last_error.clear();
      batch.Put(StateKey(item.state, item.seq), item.id);
      batch.Put(ItemKey(item.id), EncodeItem(item));
      if (disabled_.contains(item.endpoint)) endpoints.insert(item.endpoint);
    }
    for (const std::string& endpoint : endpoints)
      batch.Delete(outbox_internal::EndpointKey(endpoint));
    UPFRONT_RETURN_IF_ERROR(Write(&batch));
    for (const std::string& endpoint : endpoints) {
      disabled_.erase(endpoint);
      throttled_until_.erase(endpoint);
    }
    for (const Item& item : items) AddPending(item);
    dead_ -= items.size();
    if (!items.empty()) Wake();
    return items.size();
  }

  absl::StatusOr<size_t> EraseCustomers(const std::vector<std::string>& customers) {
    std::lock_guard lock(mu_);
    UPFRONT_RETURN_IF_ERROR(store_error_);
    std::vector<Item> items;
    UPFRONT_RETURN_IF_ERROR(ReadCustomerItems(customers, nullptr, &items));
    rocksdb::WriteBatch batch;
    for (const Item& item : items) {
      batch.Delete(ItemKey(item.id));
      batch.Delete(StateKey(item.state, item.seq));
      batch.Delete(outbox_internal::CustomerKey(item.customer, item.id));
    }
    UPFRONT_RETURN_IF_ERROR(Write(&batch));
    for (const Item& item : items) {
      if (item.state == ItemState::kPending) {
        // An item in flight is not in due_; its attempt finds it gone.
        due_.erase({item.next_attempt, item.id});
        pending_.erase(item.id);
      } else if (item.state == ItemState::kDead) {
        --dead_;
      }
    }
    return items.size();
  }

  absl::StatusOr<std::string> ExportCustomers(const std::vector<std::string>& customers) const {
    Snapshot snapshot(db_.get());
    std::vector<Item> items;
    UPFRONT_RETURN_IF_ERROR(ReadCustomerItems(customers, &snapshot.options(), &items));
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.seq < b.seq; });
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Item& item : items)
      list.push_back(outbox_internal::ItemJson(item, /*for_export=*/true));
    return ToJsonText(list);
  }

  OutboxStats Stats() const {
    std::lock_guard lock(mu_);
    OutboxStats stats = stats_;
    stats.pending = pending_.size();
    stats.dead = dead_;
    stats.disabled_endpoints = disabled_.size();
    return stats;
  }

 private:
  struct Pending {
    Micros next_attempt = 0;
    std::string endpoint;
  };

  // A consistent view for reads that take no lock.
  class Snapshot {
   public:
    explicit Snapshot(rocksdb::DB* db) : db_(db) { options_.snapshot = db->GetSnapshot(); }
    ~Snapshot() { db_->ReleaseSnapshot(options_.snapshot); }
    const rocksdb::ReadOptions& options() const { return options_; }

   private:
    rocksdb::DB* db_;
    rocksdb::ReadOptions options_;
  };

  // Attempts one item taken from due_. Returns whether a request was made (or
  // tried); false when the item was erased, its endpoint disabled or
  // throttled meanwhile.
  absl::StatusOr<bool> Attempt(const std::string& id) {
    const Endpoint* endpoint = nullptr;
    Item item;
    {
      std::lock_guard lock(mu_);
      UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> stored, ReadItem(id, nullptr));
      if (!stored || stored->state != ItemState::kPending) {
        in_flight_.erase(id);
        return false;
      }
      item = *std::move(stored);
      if (disabled_.contains(item.endpoint)) {
        in_flight_.erase(id);
        rocksdb::WriteBatch batch;
        MoveToDead(&item, DisabledReason(item.endpoint), &batch);
        UPFRONT_RETURN_IF_ERROR(Write(&batch));
        return false;
      }
      if (auto it = throttled_until_.find(item.endpoint);
          it != throttled_until_.end() && it->second > clock_->Now()) {
        // The receiver asked for a pause (Retry-After); this item waits too,
        // without spending an attempt.
        in_flight_.erase(id);
        item.next_attempt = std::max(item.next_attempt, it->second);
        rocksdb::WriteBatch batch;
        batch.Put(ItemKey(id), EncodeItem(item));
        UPFRONT_RETURN_IF_ERROR(Write(&batch));
        AddPending(item);
        return false;
      }
      if (auto it = endpoints_.find(item.endpoint); it != endpoints_.end()) endpoint = &it->second;
    }

    const Micros attempt_time = clock_->Now();
    AttemptResult result;
    if (endpoint == nullptr) {
      // Stored before a restart with another configuration.
      result.error = fmt::format("no webhook endpoint named '{}' is configured", item.endpoint);
    } else {
      const int64_t timestamp = attempt_time / kMicrosPerSecond;
      const std::vector<std::pair<std::string, std::string>> headers = {
          {"webhook-id", id},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature",
           outbox_internal::SignWithKey(endpoint->key, id, timestamp, item.payload)},
          {"content-type", "application/json"},
          {"user-agent", "Upfront"},
      };
      absl::StatusOr<HttpAnswer> answer =
          outbox_internal::PostOnce(endpoint->url, headers, item.payload, endpoint->config.timeout);
      if (answer.ok()) {
        result.status = answer->status;
        result.retry_after = answer->retry_after;
      } else {
        result.error = std::string(answer.status().message());
      }
    }
    DeliveryAttempt told;
    {
      std::lock_guard lock(mu_);
      UPFRONT_RETURN_IF_ERROR(Record(id, attempt_time, result, &told));
    }
    if (options_.on_attempt && !told.id.empty()) options_.on_attempt(told);
    return true;
  }

  // REQUIRES: mu_ held.
  // Fills `told` unless the item was erased meanwhile.
  absl::Status Record(const std::string& id, Micros attempt_time, const AttemptResult& result,
                      DeliveryAttempt* told) {
    in_flight_.erase(id);
    ++stats_.attempts;
    if (!result.Delivered()) ++stats_.failed_attempts;
    if (result.status == 429) ++stats_.rate_limited;
    UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> stored, ReadItem(id, nullptr));
    if (!stored) return absl::OkStatus();  // erased while in flight
    Item item = *std::move(stored);
    ++item.attempts;
    if (item.first_attempt == kNever) item.first_attempt = attempt_time;
    const Micros answered = clock_->Now();
    rocksdb::WriteBatch batch;
    *told = {item.id, item.endpoint, item.customer, DeliveryAttempt::Outcome::kRetry, result.status,
             item.attempts, ""};

    if (result.Delivered()) {
      ++stats_.delivered;
      batch.Delete(StateKey(ItemState::kPending, item.seq));
      item.state = ItemState::kDelivered;
      item.delivered_at = answered;
      item.next_attempt = kNever;
      item.last_error.clear();
      batch.Put(StateKey(item.state, item.seq), item.id);
      batch.Put(ItemKey(item.id), EncodeItem(item));
      pending_.erase(item.id);
      told->outcome = DeliveryAttempt::Outcome::kDelivered;
      return Write(&batch);
    }

    if (result.status == 410) {
      // Standard Webhooks: 410 Gone means the receiver wants no more webhooks.
      // Everything waiting for the endpoint becomes a dead letter, where an
      // operator sees it and can replay it once the endpoint is back.
      disabled_.insert(item.endpoint);
      const std::string reason =
          fmt::format("HTTP 410 Gone; endpoint '{}' disabled", item.endpoint);
      batch.Put(outbox_internal::EndpointKey(item.endpoint),
                fmt::format("{} {} (answer to '{}')", FormatTimestamp(answered), reason, id));
      MoveToDead(&item, reason, &batch);
      std::vector<std::string> others;
      for (const auto& [other_id, pending] : pending_) {
        if (pending.endpoint == item.endpoint && !in_flight_.contains(other_id)) {
          others.push_back(other_id);
        }
      }
      for (const std::string& other_id : others) {
        UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> other, ReadItem(other_id, nullptr));
        if (other) MoveToDead(&*other, DisabledReason(item.endpoint), &batch);
      }
      told->outcome = DeliveryAttempt::Outcome::kDead;
      told->detail = item.last_error;
      return Write(&batch);
    }

    std::optional<Micros> retry_at;
    if (result.status == 429 || result.status == 503) {
      retry_at = outbox_internal::ParseRetryAfter(result.retry_after, answered);
      if (retry_at) {
        Micros& until = throttled_until_[item.endpoint];
        until = std::max(until, *retry_at);
      }
    }
    Micros next = answered + outbox_internal::RetryDelay(options_.retry, item.attempts, item.id,
                                                         options_.jitter_seed);
    if (retry_at) next = std::max(next, *retry_at);
    if (disabled_.contains(item.endpoint)) {
      MoveToDead(&item, DisabledReason(item.endpoint), &batch);
    } else if (next - item.first_attempt > options_.retry.horizon) {
      MoveToDead(
          &item,
          fmt::format("{}; gave up after {} attempt{}, the next would pass the {} retry horizon",
                      result.Describe(), item.attempts, item.attempts == 1 ? "" : "s",
                      FormatDuration(options_.retry.horizon)),
          &batch);
    } else {
      item.next_attempt = next;
      item.last_error = result.Describe();
      batch.Put(ItemKey(item.id), EncodeItem(item));
      AddPending(item);
    }
    told->outcome = item.state == ItemState::kDead ? DeliveryAttempt::Outcome::kDead
                                                    : DeliveryAttempt::Outcome::kRetry;
    told->detail = item.last_error;
    return Write(&batch);
  }

  // REQUIRES: mu_ held; `item` pending and not in due_.
  void MoveToDead(Item* item, std::string reason, rocksdb::WriteBatch* batch) {
    batch->Delete(StateKey(item->state, item->seq));
    if (item->state == ItemState::kPending) {
      due_.erase({item->next_attempt, item->id});
      pending_.erase(item->id);
    }
    item->state = ItemState::kDead;
    item->next_attempt = kNever;
    item->last_error = std::move(reason);
    batch->Put(StateKey(item->state, item->seq), item->id);
    batch->Put(ItemKey(item->id), EncodeItem(*item));
    ++dead_;
  }

  // REQUIRES: mu_ held; `item` pending and not in due_.
  void AddPending(const Item& item) {
    pending_[item.id] = Pending{item.next_attempt, item.endpoint};
    due_.emplace(item.next_attempt, item.id);
  }

  // An item taken for a pass but not attempted goes back to wait. REQUIRES: mu_ held.
  void Release(const std::string& id) {
    in_flight_.erase(id);
    if (auto it = pending_.find(id); it != pending_.end())
      due_.emplace(it->second.next_attempt, id);
  }

  std::string DisabledReason(std::string_view endpoint) const {
    return fmt::format("endpoint '{}' is disabled (it answered 410 Gone); replay to re-enable it",
                       endpoint);
  }

  // REQUIRES: mu_ held.
  void Wake() {
    ++wakeups_;
    wake_.notify_all();
  }

  // REQUIRES: mu_ held (or, for reads with a snapshot, nothing).
  absl::Status Write(rocksdb::WriteBatch* batch) {
    rocksdb::Status status = db_->Write(write_options_, batch);
    if (!status.ok()) store_error_ = FromRocks(status, "writing");
    return store_error_;
  }

  absl::StatusOr<std::optional<Item>> ReadItem(std::string_view id,
                                               const rocksdb::ReadOptions* read_options) const {
    std::string value;
    rocksdb::Status status =
        db_->Get(read_options ? *read_options : rocksdb::ReadOptions(), ItemKey(id), &value);
    if (status.IsNotFound()) return std::nullopt;
    UPFRONT_RETURN_IF_ERROR(FromRocks(status, fmt::format("reading item '{}'", id)));
    Item item;
    if (!DecodeItem(id, value, &item)) {
      return absl::DataLossError(fmt::format("outbox store: item '{}' is corrupt", id));
    }
    return item;
  }

  absl::Status ReadCustomerItems(const std::vector<std::string>& customers,
                                 const rocksdb::ReadOptions* read_options,
                                 std::vector<Item>* items) const {
    std::vector<std::string> ids;
    for (const std::string& customer : customers) {
      const std::string prefix = outbox_internal::CustomerPrefix(customer);
      UPFRONT_RETURN_IF_ERROR(ForEachKey(
          prefix,
          [&](std::string_view key, std::string_view) {
            ids.emplace_back(key.substr(prefix.size()));
          },
          read_options));
    }
    for (const std::string& id : ids) {
      UPFRONT_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(id, read_options));
      if (item) items->push_back(*std::move(item));
    }
    return absl::OkStatus();
  }

  template <typename Visit>
  absl::Status ForEachKey(std::string_view prefix, const Visit& visit,
                          const rocksdb::ReadOptions* read_options = nullptr) const {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(read_options ? *read_options : rocksdb::ReadOptions()));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Next()) {
      visit(it->key().ToStringView(), it->value().ToStringView());
    }
    return FromRocks(it->status(), "reading the index");
  }

  void Run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      const Micros now = clock_->Now();
      if (!due_.empty() && due_.begin()->first <= now && store_error_.ok()) {
        lock.unlock();
        // Failures are recorded on the items; a store error stops changes
        // until the outbox is reopened, and Stats/callers see it.
        (void)DeliverDue();
        lock.lock();
        continue;
      }
      auto sleep = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kLongestSleep);
      if (!due_.empty() && store_error_.ok()) {
        sleep = std::min(sleep, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::microseconds(due_.begin()->first - now)));
      }
      const uint64_t seen = wakeups_;
      wake_.wait_for(lock, sleep, [&] { return stopping_ || wakeups_ != seen; });
    }
  }

  const OutboxOptions options_;
  const Clock* const clock_;
  const absl::flat_hash_map<std::string, Endpoint> endpoints_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  uint64_t wakeups_ = 0;
  bool stopping_ = false;
  std::atomic<bool> stop_requested_{false};  // read by passes without mu_
  std::thread thread_;

  absl::Status store_error_;
  uint64_t next_seq_ = 1;
  absl::flat_hash_map<std::string, Pending> pending_;  // every pending item
  std::set<std::pair<Micros, std::string>> due_;  // pending items not in flight, by next attempt
  absl::flat_hash_set<std::string> in_flight_;
  absl::flat_hash_set<std::string> disabled_;
  absl::flat_hash_map<std::string, Micros> throttled_until_;  // endpoint -> Retry-After
  uint64_t dead_ = 0;
  OutboxStats stats_;
};

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& dir,
                                                     OutboxOptions options) {
  const RetryPolicy& retry = options.retry;
  if (retry.first_delay <= 0 || retry.max_delay < retry.first_delay || retry.horizon <= 0 ||
      !(retry.jitter >= 0 && retry.jitter <= 1)) {
    return absl::InvalidArgumentError(
        "outbox retry policy: first_delay must be positive, max_delay at least first_delay, "
        "horizon "
        "positive and jitter within [0, 1]");
  }
  absl::flat_hash_map<std::string, Impl::Endpoint> endpoints;
  for (const WebhookEndpoint& config : options.endpoints) {
    const auto invalid = [&](std::string_view why) {
      return absl::InvalidArgumentError(fmt::format("webhook endpoint '{}': {}", config.name, why));
    };
    if (config.name.empty()) return invalid("needs a name");
    if (config.timeout <= 0) return invalid("the timeout must be positive");
    absl::StatusOr<HttpUrl> url = outbox_internal::ParseHttpUrl(config.url);
    if (!url.ok()) return invalid(std::string(url.status().message()));
    absl::StatusOr<std::string> key = outbox_internal::DecodeWebhookSecret(config.secret);
    if (!key.ok()) return invalid(std::string(key.status().message()));
    if (key->size() < kMinSecretBytes || key->size() > kMaxSecretBytes) {
      return invalid(
          fmt::format("the secret holds {} bytes; Standard Webhooks secrets are {} to {}",
                      key->size(), kMinSecretBytes, kMaxSecretBytes));
    }
    Impl::Endpoint endpoint{config, *std::move(url), *std::move(key)};
    if (!endpoints.emplace(config.name, std::move(endpoint)).second)
      return invalid("is listed twice");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(endpoints));
  UPFRONT_RETURN_IF_ERROR(impl->Load(dir));
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::~Outbox() = default;

absl::Status Outbox::Enqueue(const OutboxMessage& message) {
  return impl_->EnqueueMany(std::span<const OutboxMessage>(&message, 1)).front();
}
std::vector<absl::Status> Outbox::EnqueueMany(std::span<const OutboxMessage> messages) {
  return impl_->EnqueueMany(messages);
}
absl::StatusOr<size_t> Outbox::DeliverDue() { return impl_->DeliverDue(); }
void Outbox::Start() { impl_->Start(); }
void Outbox::Stop() { impl_->Stop(); }
absl::StatusOr<std::string> Outbox::ItemsJson(std::string_view status, size_t limit) const {
  return impl_->ItemsJson(status, limit);
}
absl::StatusOr<size_t> Outbox::Replay(std::string_view id) { return impl_->Replay(id); }
absl::StatusOr<size_t> Outbox::EraseCustomers(const std::vector<std::string>& customers) {
  return impl_->EraseCustomers(customers);
}
absl::StatusOr<std::string> Outbox::ExportCustomers(
    const std::vector<std::string>& customers) const {
  return impl_->ExportCustomers(customers);
}
OutboxStats Outbox::Stats() const { return impl_->Stats(); }

absl::StatusOr<std::vector<WebhookEndpoint>> EndpointsFromPolicy(const Policy& policy) {
  std::vector<WebhookEndpoint> endpoints;
  for (const WebhookSpec& webhook : policy.webhooks) {
    WebhookEndpoint endpoint;
    endpoint.name = webhook.name;
    endpoint.url = webhook.url;
    endpoint.timeout = webhook.timeout;
    std::string_view source = "its inline secret";
    if (!webhook.secret_env.empty()) {
      const char* value = std::getenv(webhook.secret_env.c_str());
      if (value == nullptr || *value == '\0') {
        return absl::FailedPreconditionError(fmt::format(
            "webhook '{}': the environment variable {} (its secret_env) is not set; set it to the "
            "endpoint's whsec_ signing secret",
            webhook.name, webhook.secret_env));
      }
      endpoint.secret = value;
      source = webhook.secret_env;
    } else {
      endpoint.secret = webhook.secret;
    }
    absl::StatusOr<std::string> key = outbox_internal::DecodeWebhookSecret(endpoint.secret);
    if (!key.ok()) {
      return absl::InvalidArgumentError(fmt::format("webhook '{}': {}: {}", webhook.name, source,
                                                    std::string(key.status().message())));
    }
    if (key->size() < kMinSecretBytes || key->size() > kMaxSecretBytes) {
      return absl::InvalidArgumentError(fmt::format(
          "webhook '{}': {} holds a secret of {} bytes; Standard Webhooks secrets are {} to {}",
          webhook.name, source, key->size(), kMinSecretBytes, kMaxSecretBytes));
    }
    if (absl::StatusOr<HttpUrl> url = outbox_internal::ParseHttpUrl(webhook.url); !url.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("webhook '{}': {}", webhook.name, std::string(url.status().message())));
    }
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

}  // namespace upfront

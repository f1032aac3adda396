#include "src/signals/customer_signals.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "src/common/hash.h"

// Counts heap allocations so a test can pin the per-event path at zero.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace upfront {
namespace {

constexpr Micros kMin = kMicrosPerMinute;
constexpr Micros kHour = kMicrosPerHour;
constexpr Micros kDay = kMicrosPerDay;
constexpr Micros kT0 = 20'000 * kDay;  // a UTC midnight

FieldCatalog Catalog() {
  return FieldCatalog({"step", "field", "path", "order_id", "revenue", "score", "case_type",
                       "delay_days", "channel", "email"},
                      {"plan"}, {"email"}, "test-hash-key");
}

Predicate Where(std::string_view field, std::string_view text) {
  absl::StatusOr<Predicate> p = ParsePredicate(field, text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

// The signals of shared/policy-example.yaml, plus a sequence and counters.
std::vector<SignalSpec> ExampleSignals() {
  std::vector<SignalSpec> s;
  s.push_back(
      SignalSpec{.name = "checkout_friction",
                 .description = "signs that the customer is stuck in checkout",
                 .half_life = 10 * kMin,
                 .inputs = {
                     {.pattern = EventInput{"Form Error", {Where("path", "/checkout*")}},
                      .weight = 0.6,
                      .confidence = 0.9},
                     {.pattern = RepeatInput{.event = "Checkout Step Viewed",
                                             .key = "properties.step",
                                             .count = 3,
                                             .within = 5 * kMin},
                      .weight = 1.0,
                      .confidence = 0.8},
                     {.pattern = EventInput{"Page Viewed", {Where("path", "/help/payment*")}},
                      .weight = 0.3,
                      .confidence = 0.5},
                 }});
  s.push_back(SignalSpec{
      .name = "cart_abandoned",
      .half_life = 2 * kHour,
      .inputs = {{.pattern = AbandonInput{"Checkout Started", "Order Completed", 30 * kMin},
                  .weight = 1.5,
                  .confidence = 0.9}}});
  s.push_back(SignalSpec{.name = "usage_drop",
                         .half_life = 7 * kDay,
                         .inputs = {{.pattern = RateChangeInput{.event = "Session Started",
                                                                .short_window = 7 * kDay,
                                                                .long_window = 28 * kDay,
                                                                .drop = 0.6},
                                     .weight = 1.0,
                                     .confidence = 0.7}}});
  s.push_back(SignalSpec{
      .name = "delivery_risk",
      .half_life = kDay,
      .inputs = {{.pattern = EventInput{"Shipment Delayed", {Where("delay_days", ">= 2")}},
                  .weight = 2.0,
                  .confidence = 1.0}}});
  s.push_back(
      SignalSpec{.name = "searched_then_help",
                 .half_life = kHour,
                 .inputs = {{.pattern = SequenceInput{"Products Searched", "Help Viewed", 2 * kMin},
                             .weight = 1.0,
                             .confidence = 1.0}}});
  return s;
}

std::vector<CounterSpec> ExampleCounters() {
  return {CounterSpec{"contact_opened", "Support Ticket Opened", {30 * kDay, 24 * kHour}}};
}

class CustomerSignalsTest : public ::testing::Test {
 protected:
  CustomerSignalsTest() : catalog_(Catalog()) {
    absl::StatusOr<CompiledSignals> c =
        CompiledSignals::Compile(ExampleSignals(), ExampleCounters(), catalog_);
    EXPECT_TRUE(c.ok()) << c.status();
    compiled_ = std::make_unique<CompiledSignals>(std::move(*c));
    friction_ = compiled_->SignalIndex("checkout_friction");
    abandoned_ = compiled_->SignalIndex("cart_abandoned");
    usage_ = compiled_->SignalIndex("usage_drop");
    delivery_ = compiled_->SignalIndex("delivery_risk");
    sequence_ = compiled_->SignalIndex("searched_then_help");
  }

  Event Make(std::string name, Micros t, std::string message_id = "") {
    Event e;
    e.name = std::move(name);
    e.timestamp = t;
    e.message_id = message_id.empty() ? "m-" + std::to_string(t) : std::move(message_id);
    return e;
  }
  Event With(Event e, std::string_view property, std::string text) {
    FieldValue& v = e.properties.Add(static_cast<uint16_t>(catalog_.PropertyId(property)));
    v.kind = FieldValue::Kind::kString;
    v.text = std::move(text);
    return e;
  }
  Event With(Event e, std::string_view property, double number) {
    FieldValue& v = e.properties.Add(static_cast<uint16_t>(catalog_.PropertyId(property)));
    v.kind = FieldValue::Kind::kNumber;
    v.number = number;
    return e;
  }

  FieldCatalog catalog_;
  std::unique_ptr<CompiledSignals> compiled_;
  int friction_ = -1, abandoned_ = -1, usage_ = -1, delivery_ = -1, sequence_ = -1;
};

// ---------------------------------------------------------------- compile

TEST_F(CustomerSignalsTest, CompileIndexesSignalsAndCounters) {
  EXPECT_EQ(compiled_->signal_count(), 5u);
  EXPECT_EQ(friction_, 0);
  EXPECT_EQ(sequence_, 4);
  EXPECT_EQ(compiled_->SignalIndex("nope"), -1);
  EXPECT_EQ(compiled_->CounterIndex("contact_opened"), 0);
  EXPECT_EQ(compiled_->ContributingEvent(abandoned_, 0), "Checkout Started");
  EXPECT_EQ(compiled_->ContributingEvent(sequence_, 0), "Help Viewed");
}

TEST(CompiledSignals, CompileListsEveryProblemWithItsPlace) {
  std::vector<SignalSpec> specs;
  specs.push_back(SignalSpec{
      .name = "bad",
      .half_life = 0,
      .inputs = {
          {.pattern = EventInput{"Form Error", {Where("nope", "x")}}},
          {.pattern = RepeatInput{.event = "Step", .key = "step", .count = 40, .within = kMin}},
          {.pattern = AbandonInput{"A", "A", kMin}},
          {.pattern =
               RateChangeInput{
                   .event = "S", .short_window = 7 * kDay, .long_window = 40 * kDay, .drop = 0.5}},
          {.pattern = SequenceInput{"X", "Y", kMin}, .confidence = 1.5},
      }});
  std::vector<CounterSpec> counters = {{"contacts", "Ticket", {30 * kMin}}};
  absl::StatusOr<CompiledSignals> c = CompiledSignals::Compile(specs, counters, Catalog());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "signals.bad.half_life: must be positive, such as 10m or 7d\n"
            "signals.bad.inputs[0].where.nope: property 'nope' is not kept; add it to "
            "events.keep_properties\n"
            "signals.bad.inputs[1].count: repeat count must be 2..32, found 40\n"
            "signals.bad.inputs[2].unless: names the same event as abandon ('A')\n"
            "signals.bad.inputs[3].long: must be whole days up to 31d, such as 28d\n"
            "signals.bad.inputs[4].confidence: must be between 0 and 1\n"
            "counts.contacts: count window 30m cannot be counted: use whole hours up to 48h (1h, "
            "6h, 24h) "
            "or whole days up to 92d (7d, 30d, 90d)");
}

TEST(CompiledSignals, HashedPropertiesCompareByTheirKeyedHash) {
  FieldCatalog catalog = Catalog();
  std::vector<SignalSpec> specs = {SignalSpec{
      .name = "vip_mail",
      .half_life = kHour,
      .inputs = {{.pattern = EventInput{"Login", {Where("email", "ceo@example.com")}}}}}};
  absl::StatusOr<CompiledSignals> c = CompiledSignals::Compile(specs, {}, catalog);
  ASSERT_TRUE(c.ok()) << c.status();
  CustomerSignals state(&*c);
  Event e;
  e.name = "Login";
  e.timestamp = kT0;
  FieldValue& v = e.properties.Add(static_cast<uint16_t>(catalog.PropertyId("email")));
  v.kind = FieldValue::Kind::kString;
  v.text = HmacSha256Hex("test-hash-key", "ceo@example.com");  // what ingest stores
  state.OnEvent(e);
  EXPECT_NEAR(state.Score(0, kT0), 1 - std::exp(-1.0), 1e-12);

  specs[0].inputs[0].pattern = EventInput{"Login", {Where("email", "*@example.com")}};
  absl::StatusOr<CompiledSignals> glob = CompiledSignals::Compile(specs, {}, catalog);
  ASSERT_FALSE(glob.ok());
  EXPECT_EQ(glob.status().message(),
            "signals.vip_mail.inputs[0].where.email: property 'email' is stored hashed, so it can "
            "only be "
            "compared for equality (a value, or '!= value')");
}

// ---------------------------------------------------------------- events

TEST_F(CustomerSignalsTest, AMatchingEventContributesItsWeightAndConfidence) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(With(Make("Form Error", kT0, "err-1"), "path", "/checkout/payment"));
  state.OnEvent(With(Make("Form Error", kT0, "err-2"), "path", "/account"));  // no match
  state.OnEvent(Make("Form Error", kT0));                                     // no path: no match
  state.OnEvent(Make("Unrelated Event", kT0));

  EXPECT_NEAR(state.Score(friction_, kT0 + 10 * kMin), 0.23662050566314685, 1e-12);  // 1 - e^-0.27
  EXPECT_NEAR(state.Confidence(friction_, kT0 + 10 * kMin), 0.36237184837822667, 1e-12);
  EXPECT_EQ(state.Score(abandoned_, kT0 + 10 * kMin), 0);

  const Evidence& ev = state.evidence(friction_);
  EXPECT_EQ(ev.count, 1u);
  EXPECT_EQ(ev.first_at, kT0);
  EXPECT_EQ(ev.last_message_id, "err-1");
  EXPECT_EQ(ev.input_hits[0], 1);
  EXPECT_EQ(state.LastEventName(friction_), "Form Error");
  EXPECT_EQ(state.LastEventName(abandoned_), "");
}

TEST_F(CustomerSignalsTest, EvidenceCountsTheEpisodeForExplanations) {
  CustomerSignals state(compiled_.get());
  // "We noticed 3 checkout problems in the last 8 minutes."
  state.OnEvent(With(Make("Form Error", kT0), "path", "/checkout"));
  state.OnEvent(With(Make("Page Viewed", kT0 + 3 * kMin), "path", "/help/payment/cards"));
  state.OnEvent(With(Make("Form Error", kT0 + 5 * kMin, "last"), "path", "/checkout/address"));
  const Evidence& ev = state.evidence(friction_);
  EXPECT_EQ(ev.count, 3u);
  EXPECT_EQ(ev.Window(kT0 + 8 * kMin), 8 * kMin);
  EXPECT_EQ(ev.input_hits[0], 2);
  EXPECT_EQ(ev.input_hits[2], 1);
  EXPECT_EQ(ev.last_input, 0);
  EXPECT_EQ(ev.last_message_id, "last");

  // 4 half-lives (40m) later the signal has faded to 1/16: a new episode.
  state.OnEvent(With(Make("Form Error", kT0 + 5 * kMin + 40 * kMin + 1), "path", "/checkout"));
  EXPECT_EQ(ev.count, 1u);
  EXPECT_EQ(ev.first_at, kT0 + 45 * kMin + 1);
  EXPECT_EQ(ev.input_hits[2], 0);
}

TEST_F(CustomerSignalsTest, OutOfOrderEventsGiveTheInOrderScore) {
  CustomerSignals in_order(compiled_.get()), out_of_order(compiled_.get());
  const Event early = With(Make("Form Error", kT0), "path", "/checkout");
  const Event later = With(Make("Page Viewed", kT0 + 4 * kMin), "path", "/help/payment");
  in_order.OnEvent(early);
  in_order.OnEvent(later);
  out_of_order.OnEvent(later);
  out_of_order.OnEvent(early);
  const Micros now = kT0 + 10 * kMin;
  // S = 0.54·2^-1 + 0.15·2^-0.6
  EXPECT_NEAR(out_of_order.Score(friction_, now), in_order.Score(friction_, now), 1e-12);
  EXPECT_NEAR(in_order.decayed(friction_).Strength(now, 10 * kMin), 0.27 + 0.15 * std::exp2(-0.6),
              1e-12);
  EXPECT_EQ(out_of_order.evidence(friction_).count, 2u);
  EXPECT_EQ(out_of_order.evidence(friction_).first_at, kT0);
  EXPECT_EQ(out_of_order.evidence(friction_).last_input, 2);  // the latest by event time
}

TEST_F(CustomerSignalsTest, RepeatOfTheSameStepWithinTheWindowContributesOnce) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(With(Make("Checkout Step Viewed", kT0), "step", "payment"));
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + kMin), "step", "address"));
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + 2 * kMin), "step", "payment"));
  EXPECT_EQ(state.Score(friction_, kT0 + 2 * kMin), 0);
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + 5 * kMin, "third"), "step",
                     "payment"));                                                  // exactly 5m
  EXPECT_NEAR(state.Score(friction_, kT0 + 5 * kMin), 0.5506710358827784, 1e-12);  // 1 - e^-0.8
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + 6 * kMin), "step", "payment"));
  EXPECT_EQ(state.evidence(friction_).count, 1u);
  EXPECT_EQ(state.evidence(friction_).input_hits[1], 1);
  EXPECT_EQ(state.evidence(friction_).last_message_id, "third");
  EXPECT_EQ(state.LastEventName(friction_), "Checkout Step Viewed");
}

TEST_F(CustomerSignalsTest, PropertyThresholdMatchesNumbersAndNumericText) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(With(Make("Shipment Delayed", kT0), "delay_days", 1.0));
  EXPECT_EQ(state.Score(delivery_, kT0), 0);
  state.OnEvent(With(Make("Shipment Delayed", kT0), "delay_days", 2.0));  // >= 2: inclusive
  EXPECT_NEAR(state.Score(delivery_, kT0), 0.8646647167633873, 1e-12);    // 1 - e^-2
  state.OnEvent(With(Make("Shipment Delayed", kT0 + kDay), "delay_days", "3"));
  EXPECT_NEAR(state.decayed(delivery_).Strength(kT0 + kDay, kDay), 2.0 * 0.5 + 2.0, 1e-12);
}

TEST_F(CustomerSignalsTest, SequenceContributesOnTheSecondStep) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Products Searched", kT0));
  state.OnEvent(Make("Help Viewed", kT0 + 2 * kMin + 1));  // too late
  EXPECT_EQ(state.Score(sequence_, kT0 + 3 * kMin), 0);
  state.OnEvent(Make("Products Searched", kT0 + 10 * kMin));
  state.OnEvent(Make("Help Viewed", kT0 + 12 * kMin, "help"));  // exactly 2m
  EXPECT_NEAR(state.Score(sequence_, kT0 + 12 * kMin), 1 - std::exp(-1.0), 1e-12);
  EXPECT_EQ(state.evidence(sequence_).last_message_id, "help");
}

// ---------------------------------------------------------------- abandonment timers

TEST_F(CustomerSignalsTest, AbandonmentFiresFromATimerAtExactlyTheDeadline) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0, "start-1"));
  EXPECT_EQ(state.NextDue(), kT0 + 30 * kMin);
  EXPECT_EQ(state.AdvanceTo(kT0 + 30 * kMin - 1), 0);
  EXPECT_EQ(state.Score(abandoned_, kT0 + 30 * kMin - 1), 0);
  EXPECT_EQ(state.AdvanceTo(kT0 + 30 * kMin), 1);
  EXPECT_EQ(state.NextDue(), kNever);
  EXPECT_NEAR(state.Score(abandoned_, kT0 + 30 * kMin), 0.7407597393541085, 1e-12);  // 1 - e^-1.35
  EXPECT_NEAR(state.Confidence(abandoned_, kT0 + 30 * kMin), 0.5934303402594009,
              1e-12);  // 1 - e^-0.9
  EXPECT_EQ(state.evidence(abandoned_).first_at, kT0 + 30 * kMin);
  EXPECT_EQ(state.evidence(abandoned_).last_message_id, "start-1");
  EXPECT_EQ(state.LastEventName(abandoned_), "Checkout Started");
  EXPECT_EQ(state.AdvanceTo(kT0 + kDay), 0);  // once
}

TEST_F(CustomerSignalsTest, OrderAtExactlyTheDeadlineCancelsTheAbandonment) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0));
  state.OnEvent(Make("Order Completed", kT0 + 30 * kMin));  // within is inclusive
  EXPECT_EQ(state.NextDue(), kNever);
  EXPECT_EQ(state.AdvanceTo(kT0 + kDay), 0);
  EXPECT_EQ(state.Score(abandoned_, kT0 + kDay), 0);
}

TEST_F(CustomerSignalsTest, AnOrderAfterTheDeadlineDoesNotCancelEvenBeforeAdvanceTo) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0));
  state.OnEvent(Make("Order Completed", kT0 + 30 * kMin + 1));  // fires the due timer first
  EXPECT_NEAR(state.Score(abandoned_, kT0 + 30 * kMin), 0.7407597393541085, 1e-12);
}

TEST_F(CustomerSignalsTest, ARepeatedStartRestartsTheClock) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0));
  state.OnEvent(Make("Checkout Started", kT0 + 20 * kMin, "start-2"));
  EXPECT_EQ(state.NextDue(), kT0 + 50 * kMin);
  EXPECT_EQ(state.timers().size(), 1u);
  EXPECT_EQ(state.AdvanceTo(kT0 + 49 * kMin), 0);
  EXPECT_EQ(state.AdvanceTo(kT0 + 50 * kMin), 1);
  EXPECT_EQ(state.evidence(abandoned_).count, 1u);
  EXPECT_EQ(state.evidence(abandoned_).last_message_id, "start-2");
}

TEST_F(CustomerSignalsTest, AStartAfterAMissedDeadlineFiresTheOldAbandonmentFirst) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0, "start-1"));
  EXPECT_EQ(state.OnEvent(Make("Checkout Started", kT0 + 40 * kMin, "start-2")),
            1);  // no AdvanceTo before
  EXPECT_EQ(state.evidence(abandoned_).count, 1u);
  EXPECT_EQ(state.evidence(abandoned_).last_at, kT0 + 30 * kMin);
  EXPECT_EQ(state.evidence(abandoned_).last_message_id, "start-1");
  EXPECT_EQ(state.NextDue(), kT0 + 70 * kMin);
}

TEST_F(CustomerSignalsTest, ALateOrderWithinLatenessStillCancels) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0));
  state.AdvanceTo(kT0 + 25 * kMin);
  state.OnEvent(Make("Order Completed", kT0 + 20 * kMin));  // happened before advanced_to
  EXPECT_EQ(state.NextDue(), kNever);
  state.AdvanceTo(kT0 + kHour);
  EXPECT_EQ(state.Score(abandoned_, kT0 + kHour), 0);
}

TEST_F(CustomerSignalsTest, TimersDueTogetherFireInDeclarationOrder) {
  std::vector<SignalSpec> specs;
  for (const char* name : {"declared_first", "declared_second"}) {
    specs.push_back(SignalSpec{
        .name = name,
        .half_life = kHour,
        .inputs = {{.pattern = AbandonInput{"Checkout Started", "Order Completed", kMin}}}});
  }
  absl::StatusOr<CompiledSignals> c = CompiledSignals::Compile(specs, {}, catalog_);
  ASSERT_TRUE(c.ok()) << c.status();
  CustomerSignals state(&*c);
  state.OnEvent(Make("Checkout Started", kT0));
  ASSERT_EQ(state.timers().size(), 2u);
  EXPECT_EQ(state.timers().pending()[0], (SignalTimer{kT0 + kMin, 0, 0}));
  EXPECT_EQ(state.timers().pending()[1], (SignalTimer{kT0 + kMin, 1, 0}));
  EXPECT_EQ(state.AdvanceTo(kT0 + kMin), 2);
  EXPECT_EQ(state.advanced_to(), kT0 + kMin);
}

// ---------------------------------------------------------------- rate change

TEST_F(CustomerSignalsTest, UsageDropIsFoundByDailyTimersWhileNoEventsArrive) {
  CustomerSignals state(compiled_.get());
  for (int day = 0; day < 21; ++day) {
    state.OnEvent(Make("Session Started", kT0 + day * kDay));
    state.OnEvent(Make("Session Started", kT0 + day * kDay + kDay / 2));
  }
  EXPECT_EQ(state.NextDue(), kT0 + 21 * kDay);  // the next midnight

  // Checked each midnight; at day 26 the last week holds 4 sessions against a
  // baseline of 2 a day: 4/7 <= 0.4 × 2, a 71.4% drop.
  state.AdvanceTo(kT0 + 26 * kDay - 1);
  EXPECT_EQ(state.Score(usage_, kT0 + 26 * kDay - 1), 0);
  state.AdvanceTo(kT0 + 26 * kDay);
  EXPECT_NEAR(state.Score(usage_, kT0 + 26 * kDay), 0.5034146962085905, 1e-12);  // 1 - e^-0.7
  const Evidence& ev = state.evidence(usage_);
  EXPECT_NEAR(ev.drop_pct, 71.42857142857143, 1e-4);
  EXPECT_EQ(ev.last_message_id, "");  // found by a timer: an absence of events
  EXPECT_EQ(state.LastEventName(usage_), "Session Started");

  // A lasting drop contributes again one short window later (100%: none at all).
  state.AdvanceTo(kT0 + 33 * kDay - 1);
  EXPECT_EQ(ev.count, 1u);
  state.AdvanceTo(kT0 + 33 * kDay);
  EXPECT_EQ(ev.count, 2u);
  EXPECT_NEAR(ev.drop_pct, 100, 1e-4);
  EXPECT_NEAR(state.Score(usage_, kT0 + 33 * kDay), 0.6500622508888447,
              1e-12);  // 1 - e^-(0.35 + 0.7)

  // Once the long window holds no event, the daily checks stop.
  state.AdvanceTo(kT0 + 60 * kDay);
  EXPECT_EQ(state.NextDue(), kNever);
  EXPECT_EQ(ev.count, 4u);  // days 26, 33, 40, 47
}

TEST_F(CustomerSignalsTest, OneAdvanceOrManyGiveTheSameState) {
  CustomerSignals once(compiled_.get()), daily(compiled_.get());
  for (CustomerSignals* s : {&once, &daily}) {
    for (int day = 0; day < 21; ++day)
      s->OnEvent(Make("Session Started", kT0 + day * kDay + kHour));
    s->OnEvent(Make("Checkout Started", kT0 + 21 * kDay));
  }
  once.AdvanceTo(kT0 + 40 * kDay);
  for (int h = 0; h <= 40 * 24; ++h) daily.AdvanceTo(kT0 + h * kHour);
  std::string a, b;
  once.Encode(&a);
  daily.Encode(&b);
  EXPECT_EQ(a, b);
  EXPECT_GT(once.Score(usage_, kT0 + 40 * kDay), 0);
  EXPECT_EQ(once.evidence(abandoned_).count, 1u);
  EXPECT_EQ(once.evidence(usage_).count, daily.evidence(usage_).count);
}

// ---------------------------------------------------------------- counters

TEST_F(CustomerSignalsTest, CountersCountTheirEventInEachWindow) {
  CustomerSignals state(compiled_.get());
  const int contacts = compiled_->CounterIndex("contact_opened");
  state.OnEvent(Make("Support Ticket Opened", kT0 + 1 * kDay));
  state.OnEvent(Make("Support Ticket Opened", kT0 + 20 * kDay));
  state.OnEvent(Make("Support Ticket Opened", kT0 + 29 * kDay + 22 * kHour));
  const Micros now = kT0 + 30 * kDay + 2 * kHour;
  EXPECT_EQ(state.Count(contacts, now, 30 * kDay), 3);  // day 1..30
  EXPECT_EQ(state.Count(contacts, now, 24 * kHour), 1);
  EXPECT_EQ(state.Count(contacts, now, 7 * kDay),
            1);  // the 30-day buckets answer any shorter day window
  EXPECT_EQ(state.Count(contacts, now, 31 * kDay), -1);  // longer than any compiled window
}

// ---------------------------------------------------------------- persistence

TEST_F(CustomerSignalsTest, EncodeDecodeRoundTripsEverythingIncludingPendingTimers) {
  CustomerSignals state(compiled_.get());
  // Sessions on four days of the last three weeks: enough baseline that a
  // daily rate check is pending.
  for (int day : {20, 15, 10, 5}) state.OnEvent(Make("Session Started", kT0 - day * kDay));
  state.OnEvent(With(Make("Form Error", kT0), "path", "/checkout"));
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + kMin), "step", "payment"));
  state.OnEvent(With(Make("Checkout Step Viewed", kT0 + 2 * kMin), "step", "payment"));
  state.OnEvent(Make("Checkout Started", kT0 + 3 * kMin, "start-1"));
  state.OnEvent(Make("Session Started", kT0 + 3 * kMin));
  state.OnEvent(Make("Products Searched", kT0 + 4 * kMin));
  state.OnEvent(Make("Support Ticket Opened", kT0 + 4 * kMin));
  state.AdvanceTo(kT0 + 5 * kMin);
  ASSERT_EQ(state.timers().size(), 2u);  // the abandonment and the daily rate check

  std::string blob;
  state.Encode(&blob);
  CustomerSignals restored(compiled_.get());
  ASSERT_TRUE(restored.Decode(blob).ok());
  EXPECT_EQ(restored.timers().pending(), state.timers().pending());
  EXPECT_EQ(restored.NextDue(), kT0 + 33 * kMin);
  EXPECT_EQ(restored.advanced_to(), kT0 + 5 * kMin);
  EXPECT_EQ(restored.decayed(friction_), state.decayed(friction_));
  EXPECT_EQ(restored.evidence(friction_), state.evidence(friction_));
  std::string again;
  restored.Encode(&again);
  EXPECT_EQ(again, blob);

  // Both continue identically: the restarted one still fires the abandonment,
  // completes the repeat and the sequence.
  for (CustomerSignals* s : {&state, &restored}) {
    s->OnEvent(With(Make("Checkout Step Viewed", kT0 + 6 * kMin), "step", "payment"));
    s->OnEvent(Make("Help Viewed", kT0 + 6 * kMin));
    EXPECT_EQ(s->AdvanceTo(kT0 + 33 * kMin), 1);
  }
  EXPECT_NEAR(restored.Score(abandoned_, kT0 + 33 * kMin), 0.7407597393541085, 1e-12);
  EXPECT_EQ(restored.evidence(abandoned_).last_message_id, "start-1");
  EXPECT_EQ(restored.evidence(friction_).input_hits[1], 1);
  EXPECT_GT(restored.Score(sequence_, kT0 + 33 * kMin), 0);
  EXPECT_EQ(restored.Count(0, kT0 + 33 * kMin, 30 * kDay), 1);
  std::string a, b;
  state.Encode(&a);
  restored.Encode(&b);
  EXPECT_EQ(a, b);
}

TEST_F(CustomerSignalsTest, DecodeUnderAChangedPolicyKeepsWhatStillMeansTheSame) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(With(Make("Form Error", kT0), "path", "/checkout"));
  state.OnEvent(Make("Checkout Started", kT0));
  std::string blob;
  state.Encode(&blob);

  // The new policy drops delivery_risk, reorders, and gives the abandonment a
  // longer window: friction keeps its score, the abandonment starts fresh.
  std::vector<SignalSpec> specs = ExampleSignals();
  specs.erase(specs.begin() + delivery_);
  std::swap(specs[0], specs[1]);
  std::get<AbandonInput>(specs[0].inputs[0].pattern).within = kHour;
  absl::StatusOr<CompiledSignals> changed = CompiledSignals::Compile(specs, {}, catalog_);
  ASSERT_TRUE(changed.ok()) << changed.status();
  CustomerSignals restored(&*changed);
  ASSERT_TRUE(restored.Decode(blob).ok());
  const int friction = changed->SignalIndex("checkout_friction");
  EXPECT_EQ(friction, 1);
  EXPECT_NEAR(restored.Score(friction, kT0 + 10 * kMin), 0.23662050566314685, 1e-12);
  EXPECT_TRUE(restored.timers().empty());
  EXPECT_EQ(restored.AdvanceTo(kT0 + 2 * kHour), 0);
}

TEST_F(CustomerSignalsTest, ACorruptBlobIsDataLossAndLeavesAFreshState) {
  CustomerSignals state(compiled_.get());
  state.OnEvent(Make("Checkout Started", kT0));
  std::string blob;
  state.Encode(&blob);

  CustomerSignals restored(compiled_.get());
  absl::Status st = restored.Decode(std::string_view(blob).substr(0, blob.size() / 2));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(restored.timers().empty());
  EXPECT_EQ(restored.advanced_to(), kNever);
  EXPECT_EQ(restored.Decode(blob + "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(restored.Decode("").code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(restored.Decode(blob).ok());
}

// ---------------------------------------------------------------- hot path

TEST_F(CustomerSignalsTest, TheEventPathAllocatesNothingInSteadyState) {
  CustomerSignals state(compiled_.get());
  std::vector<Event> events = {
      With(Make("Form Error", 0, "00000000-0000-0000-0000-000000000001"), "path",
           "/checkout/payment"),
      With(Make("Checkout Step Viewed", 0, "00000000-0000-0000-0000-000000000002"), "step",
           "payment"),
      With(Make("Checkout Step Viewed", 0, "00000000-0000-0000-0000-000000000003"), "step",
           "address"),
      Make("Checkout Started", 0, "00000000-0000-0000-0000-000000000004"),
      Make("Order Completed", 0, "00000000-0000-0000-0000-000000000005"),
      Make("Session Started", 0, "00000000-0000-0000-0000-000000000006"),
      With(Make("Shipment Delayed", 0, "00000000-0000-0000-0000-000000000007"), "delay_days", 3.0),
      Make("Products Searched", 0, "00000000-0000-0000-0000-000000000008"),
      Make("Help Viewed", 0, "00000000-0000-0000-0000-000000000009"),
      Make("Support Ticket Opened", 0, "00000000-0000-0000-0000-000000000010"),
      Make("Unrelated Event", 0, "00000000-0000-0000-0000-000000000011"),
  };
  Micros t = kT0;
  const auto run = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      for (Event& e : events) {
        e.timestamp = (t += 7 * kMicrosPerSecond);
        state.OnEvent(e);
      }
      state.AdvanceTo(t);
    }
  };
  run(50);  // warm-up: key slots, message id buffers, timer vector
  const long before = g_allocations.load();
  run(500);
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_GT(state.evidence(friction_).count, 0u);
  EXPECT_GT(state.evidence(abandoned_).count + state.evidence(sequence_).count, 0u);
}

}  // namespace
}  // namespace upfront

namespace upfront {
namespace {

// ---------------------------------------------------------------- identity merge

TEST_F(CustomerSignalsTest, AbsorbAddsUpAsIfEveryEventCameUnderOneId) {
  const Event error1 = With(Make("Form Error", kT0), "path", "/checkout/pay");
  const Event error2 = With(Make("Form Error", kT0 + 3 * kMin), "path", "/checkout/pay");
  const Event contact = Make("Support Ticket Opened", kT0 + 4 * kMin);

  CustomerSignals together(compiled_.get());
  together.OnEvent(error1);
  together.OnEvent(error2);
  together.OnEvent(contact);

  CustomerSignals known(compiled_.get());
  CustomerSignals anonymous(compiled_.get());
  anonymous.OnEvent(error1);
  known.OnEvent(error2);
  known.OnEvent(contact);
  known.Absorb(anonymous);

  const Micros now = kT0 + 5 * kMin;
  EXPECT_NEAR(known.Score(friction_, now), together.Score(friction_, now), 1e-12);
  EXPECT_NEAR(known.Confidence(friction_, now), together.Confidence(friction_, now), 1e-12);
  EXPECT_EQ(known.evidence(friction_).count, 2u);
  EXPECT_EQ(known.evidence(friction_).first_at, kT0);
  EXPECT_EQ(known.evidence(friction_).last_message_id, error2.message_id);
  const int contacts = compiled_->CounterIndex("contact_opened");
  EXPECT_EQ(known.Count(contacts, now, 30 * kDay), 1);

  // Counters add: the anonymous profile's contact counts too.
  CustomerSignals other(compiled_.get());
  other.OnEvent(Make("Support Ticket Opened", kT0 - 2 * kDay));
  known.Absorb(other);
  EXPECT_EQ(known.Count(contacts, now, 30 * kDay), 2);
}

TEST_F(CustomerSignalsTest, AbsorbTakesAnAnonymousCheckoutStillPendingWithItsTimer) {
  CustomerSignals anonymous(compiled_.get());
  anonymous.OnEvent(Make("Checkout Started", kT0, "start-1"));
  CustomerSignals known(compiled_.get());
  known.OnEvent(Make("Page Viewed", kT0 + kMin));
  known.Absorb(anonymous);
  EXPECT_EQ(known.NextDue(), kT0 + 30 * kMin);
  EXPECT_EQ(known.AdvanceTo(kT0 + 30 * kMin), 1);
  EXPECT_GT(known.Score(abandoned_, kT0 + 30 * kMin), 0.7);
  EXPECT_EQ(known.evidence(abandoned_).last_message_id, "start-1");

  // An order after the merge cancels the adopted abandonment as it would have.
  CustomerSignals completed(compiled_.get());
  completed.Absorb(anonymous);
  completed.OnEvent(Make("Order Completed", kT0 + 20 * kMin));
  completed.AdvanceTo(kT0 + kHour);
  EXPECT_EQ(completed.Score(abandoned_, kT0 + kHour), 0);
}

}  // namespace
}  // namespace upfront

#include "src/signals/customer_signals.h"

#include <cstring>

#include "src/common/binary_codec.h"
#include "src/common/hash.h"

namespace upfront {
namespace {

constexpr uint64_t kStateVersion = 1;

// An episode of evidence ends when the signal has decayed to 1/16.
constexpr int kEpisodeHalfLives = 4;

// The repeat key's identity. Seeds keep "2" (text) and 2 (number) apart, as
// the sender made them different.
uint64_t KeyHash(const FieldValue& v) {
  switch (v.kind) {
    case FieldValue::Kind::kString: return Hash64(v.text, 1);
    case FieldValue::Kind::kNumber: {
      char bytes[sizeof(double)];
      const double n = v.number == 0 ? 0.0 : v.number;  // -0 and 0 are one key
      std::memcpy(bytes, &n, sizeof(double));
      return Hash64(std::string_view(bytes, sizeof(double)), 2);
    }
    case FieldValue::Kind::kBool: return v.boolean ? 3 : 4;
    case FieldValue::Kind::kJson: return Hash64(v.text, 5);
    case FieldValue::Kind::kNull: return 6;
  }
  return 0;
}

}  // namespace

CustomerSignals::CustomerSignals(const CompiledSignals* compiled) : compiled_(compiled) { Reset(); }

void CustomerSignals::Reset() {
  const CompiledSignals& c = *compiled_;
  advanced_to_ = kNever;
  decayed_.assign(c.signal_count(), DecayedSignal{});
  evidence_.assign(c.signal_count(), Evidence{});
  repeats_.assign(c.repeat_count_, RepeatPattern{});
  abandons_.assign(c.abandon_count_, AbandonPattern{});
  rate_changes_.assign(c.rate_change_count_, RateChangePattern{});
  sequences_.assign(c.sequence_count_, SequencePattern{});
  counters_.clear();
  counters_.reserve(c.counter_count());
  for (const CounterShape& shape : c.counter_shapes_) counters_.emplace_back(shape);
  timers_.Clear();
}

bool CustomerSignals::Matches(const Input& input, const Event& event) const {
  for (uint32_t p = input.predicates_begin; p < input.predicates_end; ++p) {
    const Predicate& predicate = compiled_->predicates_[p];
    if (!predicate.Matches(event.properties.Find(static_cast<uint16_t>(predicate.property_id))))
      return false;
  }
  return true;
}

void CustomerSignals::Contribute(const Input& input, Micros t, std::string_view message_id) {
  decayed_[input.signal].Add(input.weight, input.confidence, t, input.half_life);
  evidence_[input.signal].Record(input.index, t, kEpisodeHalfLives * input.half_life, message_id);
}

void CustomerSignals::ScheduleRateCheck(const Input& input, const RateChangePattern& rate, Micros after) {
  // A drop is an absence of events, so it is looked for daily, but only on
  // the days it could be found (the next event re-plans).
  const Micros next = rate.NextCheck(after, std::get<RateChangeInput>(input.spec->pattern));
  if (next == kNever) {
    timers_.Cancel(input.signal, input.index);
  } else {
    timers_.Schedule(next, input.signal, input.index);
  }
}

int CustomerSignals::OnEvent(const Event& event) {
  const Micros t = event.timestamp;
  const int fired = advanced_to_ == kNever || t > advanced_to_ ? AdvanceTo(t - 1) : 0;

  auto found = compiled_->routes_by_event_.find(std::string_view(event.name));
  if (found == compiled_->routes_by_event_.end()) return fired;
  const auto [begin, end] = found->second;
  for (uint32_t r = begin; r < end; ++r) {
    const CompiledSignals::Route route = compiled_->routes_[r];
    if (route.role == CompiledSignals::Role::kCount) {
      counters_[route.target].Add(t);
      continue;
    }
    const Input& input = compiled_->inputs_[route.target];
    switch (route.role) {
      case CompiledSignals::Role::kEvent:
        if (Matches(input, event)) Contribute(input, t, event.message_id);
        break;
      case CompiledSignals::Role::kRepeat: {
        if (!Matches(input, event)) break;
        uint64_t key = 0;
        if (input.key_property >= 0) {
          const FieldValue* v = event.properties.Find(static_cast<uint16_t>(input.key_property));
          if (v == nullptr || v->kind == FieldValue::Kind::kNull) break;
          key = KeyHash(*v);
        }
        Micros fired_at;
        if (repeats_[input.state].OnEvent(key, t, input.count, input.within, &fired_at)) {
          Contribute(input, fired_at, event.message_id);
        }
        break;
      }
      case CompiledSignals::Role::kAbandonStart: {
        AbandonPattern& abandon = abandons_[input.state];
        switch (abandon.OnStart(t, input.within, advanced_to_, event.message_id)) {
          case AbandonPattern::Action::kArm:
            timers_.Schedule(abandon.deadline(input.within), input.signal, input.index);
            break;
          case AbandonPattern::Action::kDisarm: timers_.Cancel(input.signal, input.index); break;
          case AbandonPattern::Action::kNone: break;
        }
        break;
      }
      case CompiledSignals::Role::kAbandonUnless:
        if (abandons_[input.state].OnUnless(t, input.within))
          timers_.Cancel(input.signal, input.index);
        break;
      case CompiledSignals::Role::kRateChange: {
        RateChangePattern& rate = rate_changes_[input.state];
        rate.Add(t);
        double drop_pct;
        if (rate.Evaluate(t, std::get<RateChangeInput>(input.spec->pattern), &drop_pct)) {
          evidence_[input.signal].drop_pct = static_cast<float>(drop_pct);
          Contribute(input, t, event.message_id);
        }
        // A late event must not schedule a check in the past: that moment is decided.
        ScheduleRateCheck(input, rate, advanced_to_ != kNever && advanced_to_ > t ? advanced_to_ : t);
        break;
      }
      case CompiledSignals::Role::kSequenceFirst: {
        Micros fired_at;
        if (sequences_[input.state].OnFirst(t, input.within, &fired_at)) {
          Contribute(input, fired_at, event.message_id);
        }
        break;
      }
      case CompiledSignals::Role::kSequenceThen:
        if (sequences_[input.state].OnThen(t, input.within)) Contribute(input, t, event.message_id);
        break;
      case CompiledSignals::Role::kCount: break;
    }
  }
  return fired;
}

void CustomerSignals::FireTimer(const SignalTimer& timer) {
  if (timer.signal >= compiled_->signal_count()) return;
  const Input& input = compiled_->input(timer.signal, timer.input);
  switch (input.kind) {
    case CompiledSignals::Kind::kAbandon: {
      AbandonPattern& abandon = abandons_[input.state];
      if (abandon.OnTimer(timer.due, input.within))
        Contribute(input, timer.due, abandon.start_message_id());
      break;
    }
    case CompiledSignals::Kind::kRateChange: {
      const auto& spec = std::get<RateChangeInput>(input.spec->pattern);
      RateChangePattern& rate = rate_changes_[input.state];
      double drop_pct;
      if (rate.Evaluate(timer.due, spec, &drop_pct)) {
        evidence_[input.signal].drop_pct = static_cast<float>(drop_pct);
        Contribute(input, timer.due, std::string_view());
      }
      ScheduleRateCheck(input, rate, timer.due);
      break;
    }
    default: break;  // other inputs never schedule timers
  }
}

void CustomerSignals::Absorb(const CustomerSignals& other) {
  const CompiledSignals& c = *compiled_;
  for (size_t i = 0; i < decayed_.size(); ++i) {
    decayed_[i].Merge(other.decayed_[i], c.signal(static_cast<int>(i)).half_life);
    evidence_[i].Merge(other.evidence_[i]);
  }
  for (size_t i = 0; i < counters_.size(); ++i) counters_[i].Merge(other.counters_[i]);
  for (const Input& input : c.inputs_) {
    if (input.kind != CompiledSignals::Kind::kAbandon) continue;
    const AbandonPattern& theirs = other.abandons_[input.state];
    if (abandons_[input.state].pending() || !theirs.pending()) continue;
    abandons_[input.state] = theirs;
    timers_.Schedule(theirs.deadline(input.within), input.signal, input.index);
  }
  advanced_to_ = std::max(advanced_to_, other.advanced_to_);
}

int CustomerSignals::AdvanceTo(Micros now) {
  int fired = 0;
  SignalTimer timer;
  while (timers_.PopDue(now, &timer)) {
    if (advanced_to_ == kNever || timer.due > advanced_to_) advanced_to_ = timer.due;
    FireTimer(timer);
    ++fired;
  }
  if (advanced_to_ == kNever || now > advanced_to_) advanced_to_ = now;
  return fired;
}

double CustomerSignals::Score(int signal, Micros now) const {
  return decayed_[signal].Score(now, compiled_->signal(signal).half_life);
}

void CustomerSignals::ScoreAndConfidence(int signal, Micros now, double* score, double* confidence) const {
  decayed_[signal].ScoreAndConfidence(now, compiled_->signal(signal).half_life, score, confidence);
}

double CustomerSignals::Confidence(int signal, Micros now) const {
  return decayed_[signal].Confidence(now, compiled_->signal(signal).half_life);
}

std::string_view CustomerSignals::LastEventName(int signal) const {
  const int input = evidence_[signal].last_input;
  if (input < 0 || static_cast<size_t>(input) >= compiled_->signal(signal).inputs.size()) return {};
  return compiled_->ContributingEvent(signal, input);
}

// ---------------------------------------------------------------- persistence
//
// version, advanced_to,
// signals: n × {name, decayed, evidence, inputs: m × {fingerprint, state block}},
// timers (signal ids in the encoded order), counters: n × {name, block}.
// Blocks are length-prefixed so Decode can skip what the policy no longer has.

void CustomerSignals::Encode(std::string* out) const {
  Encoder e(out);
  e.PutVarint(kStateVersion);
  e.PutSigned(advanced_to_);
  std::string block;
  e.PutVarint(decayed_.size());
  for (size_t s = 0; s < decayed_.size(); ++s) {
    e.PutString(compiled_->signal(static_cast<int>(s)).name);
    decayed_[s].Encode(&e);
    evidence_[s].Encode(&e);
    const uint32_t begin = compiled_->signal_inputs_begin_[s];
    const uint32_t end = compiled_->signal_inputs_begin_[s + 1];
    e.PutVarint(end - begin);
    for (uint32_t i = begin; i < end; ++i) {
      const Input& input = compiled_->inputs_[i];
      block.clear();
      Encoder b(&block);
      switch (input.kind) {
        case CompiledSignals::Kind::kEvent: break;
        case CompiledSignals::Kind::kRepeat: repeats_[input.state].Encode(&b, input.count); break;
        case CompiledSignals::Kind::kAbandon: abandons_[input.state].Encode(&b); break;
        case CompiledSignals::Kind::kRateChange: rate_changes_[input.state].Encode(&b); break;
        case CompiledSignals::Kind::kSequence: sequences_[input.state].Encode(&b); break;
      }
      e.PutVarint(input.fingerprint);
      e.PutString(block);
    }
  }
  timers_.Encode(&e);
  e.PutVarint(counters_.size());
  for (size_t k = 0; k < counters_.size(); ++k) {
    e.PutString(compiled_->counter(static_cast<int>(k)).name);
    block.clear();
    Encoder b(&block);
    counters_[k].Encode(&b);
    e.PutString(block);
  }
}

bool CustomerSignals::DecodeInput(const Input& input, std::string_view block) {
  Decoder b(block);
  bool ok = true;
  switch (input.kind) {
    case CompiledSignals::Kind::kEvent: break;
    case CompiledSignals::Kind::kRepeat: ok = repeats_[input.state].Decode(&b, input.count); break;
    case CompiledSignals::Kind::kAbandon: ok = abandons_[input.state].Decode(&b); break;
    case CompiledSignals::Kind::kRateChange: ok = rate_changes_[input.state].Decode(&b); break;
    case CompiledSignals::Kind::kSequence: ok = sequences_[input.state].Decode(&b); break;
  }
  return ok && b.ok() && b.done();
}

absl::Status CustomerSignals::Decode(std::string_view in) {
  Reset();
  const auto corrupt = [this](std::string_view what) {
    Reset();
    return absl::DataLossError("customer signal state is corrupt: " + std::string(what));
  };
  Decoder d(in);
  const uint64_t version = d.GetVarint();
  if (!d.ok()) return corrupt("empty");
  if (version != kStateVersion) {
    return corrupt("unknown version " + std::to_string(version));
  }
  advanced_to_ = d.GetSigned();

  // Encoded (signal, input) -> whether its state was restored into the same
  // (signal, input) of the current policy; timers follow their input.
  struct Restored {
    int signal = -1;
    std::vector<bool> inputs;
  };
  std::vector<Restored> restored;
  const uint64_t signal_count = d.GetVarint();
  if (!d.ok() || signal_count > UINT16_MAX + 1ULL) return corrupt("signal count");
  restored.resize(signal_count);
  for (uint64_t s = 0; s < signal_count; ++s) {
    const int now_index = compiled_->SignalIndex(d.GetString());
    DecayedSignal decayed_scratch;
    Evidence evidence_scratch;
    DecayedSignal& decayed = now_index >= 0 ? decayed_[now_index] : decayed_scratch;
    Evidence& evidence = now_index >= 0 ? evidence_[now_index] : evidence_scratch;
    if (!decayed.Decode(&d) || !evidence.Decode(&d)) return corrupt("signal");
    restored[s].signal = now_index;
    const uint64_t input_count = d.GetVarint();
    if (!d.ok() || input_count > static_cast<uint64_t>(kMaxInputsPerSignal))
      return corrupt("input count");
    restored[s].inputs.assign(input_count, false);
    for (uint64_t i = 0; i < input_count; ++i) {
      const uint64_t fingerprint = d.GetVarint();
      const std::string_view block = d.GetString();
      if (!d.ok()) return corrupt("input");
      if (now_index < 0 || i >= compiled_->signal(now_index).inputs.size()) continue;
      const Input& input = compiled_->input(now_index, static_cast<int>(i));
      if (input.fingerprint != fingerprint) continue;
      if (!DecodeInput(input, block)) return corrupt("input state");
      restored[s].inputs[i] = true;
    }
  }

  TimerQueue encoded_timers;
  if (!encoded_timers.Decode(&d)) return corrupt("timers");
  for (const SignalTimer& t : encoded_timers.pending()) {
    if (t.signal >= restored.size() || t.input >= restored[t.signal].inputs.size())
      return corrupt("timer");
    if (!restored[t.signal].inputs[t.input]) continue;
    timers_.Schedule(t.due, static_cast<uint16_t>(restored[t.signal].signal), t.input);
  }

  const uint64_t counter_count = d.GetVarint();
  if (!d.ok()) return corrupt("counter count");
  for (uint64_t k = 0; k < counter_count; ++k) {
    const int now_index = compiled_->CounterIndex(d.GetString());
    const std::string_view block = d.GetString();
    if (!d.ok()) return corrupt("counter");
    if (now_index < 0) continue;
    Decoder b(block);
    if (!counters_[now_index].Decode(&b) || !b.done()) return corrupt("counter state");
  }
  if (!d.done()) return corrupt("trailing bytes");
  return absl::OkStatus();
}

}  // namespace upfront

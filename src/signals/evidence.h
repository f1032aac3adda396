// The facts behind a signal's score, for explanations ("We noticed
// {{evidence.checkout_friction.count}} checkout problems in the last
// {{evidence.checkout_friction.window}}", "Usage dropped
// {{evidence.usage_drop.drop_pct}}%").
//
// Counts are per *episode*, not decayed: an episode is a run of contributions
// each at most `episode_gap` after the one before (CustomerSignals uses 4
// half-lives, when an old contribution weighs 1/16). A contribution after a
// longer gap starts a new episode, so `count` is a whole number of things the
// customer actually did, between first_at and last_at, that the explanation
// can state truthfully.
//
// Not thread-safe (one owner: the customer's partition).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <algorithm>

#include "src/common/binary_codec.h"
#include "src/signals/decayed_signal.h"
#include "src/signals/signal_spec.h"
#include "upfront/time.h"

namespace upfront {

struct Evidence {
  uint32_t count = 0;        // contributions in the current episode
  Micros first_at = kNever;  // the episode's first and last contribution (event time)
  Micros last_at = kNever;
  // Contributions per input (the spec's input order) in the current episode.
  std::array<uint16_t, kMaxInputsPerSignal> input_hits{};
  int8_t last_input = -1;  // the input of the latest contribution; -1 before any
  // The latest rate_change contribution's drop, in percent of the baseline rate.
  float drop_pct = 0;
  // The message id of the event behind the latest contribution: the event
  // itself; for an abandonment, the A event that was not followed; empty for a
  // rate_change found by its daily timer (the clue is an absence of events).
  std::string last_message_id;

  // Records one contribution of `input` at event time `t`. An out-of-order
  // contribution joins the episode but does not replace last_input or
  // last_message_id. Allocates only while last_message_id's capacity grows.
  void Record(int input, Micros t, Micros episode_gap, std::string_view message_id) {
    if (count == 0 || t > last_at + episode_gap) {
      count = 0;
      first_at = last_at = t;
      input_hits.fill(0);
    }
    ++count;
    if (input_hits[input] < UINT16_MAX) ++input_hits[input];
    if (t < first_at) first_at = t;
    if (t >= last_at) {
      last_at = t;
      last_input = static_cast<int8_t>(input);
      last_message_id.assign(message_id);
    }
  }

  // Folds in another customer's evidence (an identity merge): hits add up,
  // the episode spans both, and the latest contribution stays the latest.
  void Merge(const Evidence& other) {
    if (other.count == 0) return;
    if (count == 0) {
      *this = other;
      return;
    }
    count += other.count;
    for (size_t i = 0; i < input_hits.size(); ++i) {
      input_hits[i] = static_cast<uint16_t>(std::min<uint32_t>(
          UINT16_MAX, uint32_t{input_hits[i]} + other.input_hits[i]));
    }
    first_at = std::min(first_at, other.first_at);
    if (other.last_at > last_at) {
      last_at = other.last_at;
      last_input = other.last_input;
      drop_pct = other.drop_pct;
      last_message_id = other.last_message_id;
    }
  }

  // How far back the episode reaches from `now`: the `window` of "N problems
  // in the last <window>". 0 when there is no evidence.
  Micros Window(Micros now) const { return count == 0 || now < first_at ? 0 : now - first_at; }

  void Encode(Encoder* e) const {
    e->PutVarint(count);
    e->PutSigned(first_at);
    e->PutSigned(last_at);
    for (uint16_t hits : input_hits) e->PutVarint(hits);
    e->PutSigned(last_input);
    e->PutDouble(drop_pct);
    e->PutString(last_message_id);
  }
  // False on a short or corrupt buffer.
  bool Decode(Decoder* d) {
    count = static_cast<uint32_t>(d->GetVarint());
    first_at = d->GetSigned();
    last_at = d->GetSigned();
    for (uint16_t& hits : input_hits) hits = static_cast<uint16_t>(d->GetVarint());
    const int64_t input = d->GetSigned();
    drop_pct = static_cast<float>(d->GetDouble());
    last_message_id.assign(d->GetString());
    if (input < -1 || input >= kMaxInputsPerSignal) return false;
    last_input = static_cast<int8_t>(input);
    return d->ok();
  }

  bool operator==(const Evidence&) const = default;
};

}  // namespace upfront

// A compact binary encoding for persisted state (profiles, per-customer state):
// varints, zig-zag signed ints, doubles and length-prefixed strings. Decoding
// never reads past the end; a short or corrupt buffer makes Decoder::ok() false.
//
//   std::string buf; Encoder e(&buf); e.PutVarint(7); e.PutString("x");
//   Decoder d(buf); uint64_t n = d.GetVarint(); std::string_view s = d.GetString();
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace upfront {

class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void PutSigned(int64_t v) { PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void PutDouble(double v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out_->append(b, 8);
  }
  void PutBool(bool v) { out_->push_back(v ? 1 : 0); }
  void PutString(std::string_view s) {
    PutVarint(s.size());
    out_->append(s.data(), s.size());
  }

 private:
  std::string* out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ >= in_.size(); }
  uint64_t GetVarint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail();
      auto byte = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
    return Fail();
  }
  int64_t GetSigned() {
    uint64_t v = GetVarint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  double GetDouble() {
    if (pos_ + 8 > in_.size()) return static_cast<double>(Fail());
    double v;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  bool GetBool() {
    if (pos_ >= in_.size()) return Fail() != 0;
    return in_[pos_++] != 0;
  }
  // Everything not read yet; the decoder is then done.
  std::string_view Rest() {
    std::string_view rest = in_.substr(std::min(pos_, in_.size()));
    pos_ = in_.size();
    return rest;
  }
  std::string_view GetString() {
    uint64_t n = GetVarint();
    if (!ok_ || n > in_.size() - pos_) {
      Fail();
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace upfront

// A bounded single-producer single-consumer ring of reusable slots. The
// producer fills a slot in place (so strings inside keep their capacity) and
// publishes it; the consumer reads it in place and releases it. No locks, no
// allocation after construction. The consumer can sleep until work arrives,
// with or without a timeout, and a producer that finds the ring full sleeps
// until the consumer has emptied half of it (Linux futexes on two words).
//
//   Slot* s = ring.BeginPush();  fill *s;  ring.EndPush();      // producer
//   while (Slot* s = ring.Front()) { use *s; ring.Pop(); }      // consumer
//   ring.SleepFor(std::chrono::milliseconds(20), has_other_work);  // consumer, idle
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <new>
#include <vector>

namespace upfront {

template <typename Slot>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity_pow2) : slots_(capacity_pow2), mask_(capacity_pow2 - 1) {}

  // Producer: a slot to fill, sleeping while the ring is full.
  Slot* BeginPush() {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) > mask_) [[unlikely]] WaitForRoom(tail);
    return &slots_[tail & mask_];
  }
  // No system call unless the consumer is asleep.
  void EndPush() {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) WakeSleeper();
  }

  // Consumer: the oldest published slot, or nullptr when empty.
  Slot* Front() {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return nullptr;
    return &slots_[head & mask_];
  }
  // Consumer: the slot `ahead` places after Front(), or nullptr when fewer
  // are published. For looking ahead (prefetching); do not modify it.
  Slot* Peek(size_t ahead) {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (tail_.load(std::memory_order_acquire) - head <= ahead) return nullptr;
    return &slots_[(head + ahead) & mask_];
  }
  void Pop() {
    const size_t head = head_.load(std::memory_order_relaxed) + 1;
    head_.store(head, std::memory_order_seq_cst);
    if (producer_waiting_.load(std::memory_order_seq_cst)) [[unlikely]] {
      // Claimed, so the pops that follow before the producer runs again do
      // not each make a system call; it announces itself again if it must
      // go on waiting.
      if (tail_.load(std::memory_order_acquire) - head <= ResumeAt() &&
          producer_waiting_.exchange(false, std::memory_order_seq_cst)) {
        WakeProducer();
      }
    }
  }

  // How many times a producer found the ring full and slept.
  uint64_t producer_waits() const { return producer_waits_.load(std::memory_order_relaxed); }

  // Consumer: blocks until something is published or Wake() is called.
  // `has_other_work` is re-checked after announcing the sleep, so a Wake()
  // that follows setting the condition it tests is never lost.
  template <typename Predicate>
  void Sleep(Predicate has_other_work) {
    SleepUntil(nullptr, has_other_work);
  }
  // Consumer: like Sleep(), but returns after `timeout` at the latest.
  // Returns true if it returned because something was published, Wake() was
  // called or `has_other_work` held; false if the timeout elapsed first.
  // Both can also return for a wake-up that raced with the previous sleep
  // (its work already done), so callers re-check what they wait for.
  template <typename Rep, typename Period, typename Predicate>
  bool SleepFor(std::chrono::duration<Rep, Period> timeout, Predicate has_other_work) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    return SleepUntil(&deadline, has_other_work);
  }
  // Any thread: interrupts Sleep() and SleepFor() (for control messages and
  // shutdown). A system call only if the consumer is asleep.
  void Wake() {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) FutexWake();
  }

 private:
  // The protocol that loses no wake-up (all seq_cst): the consumer reads the
  // wake word, announces `sleeping_`, re-checks for work and only then waits
  // for the word to change; a waker makes its work visible, then (Wake())
  // bumps the word, then reads `sleeping_`. Either the waker sees the
  // announcement and wakes the futex, or the consumer's re-check sees the
  // work; and a bump between the consumer's read and its wait makes the
  // futex return at once.
  template <typename Predicate>
  bool SleepUntil(const std::chrono::steady_clock::time_point* deadline,
                  Predicate& has_other_work) {
    const uint32_t seen = wake_.load(std::memory_order_seq_cst);
    sleeping_.store(true, std::memory_order_seq_cst);
    bool woken =
        head_.load(std::memory_order_relaxed) != tail_.load(std::memory_order_seq_cst) ||
        has_other_work();
    while (!woken) {
      timespec relative{};
      if (deadline != nullptr) {
        const auto left = *deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) break;
        const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        relative.tv_sec = static_cast<time_t>(nanos / 1000000000);
        relative.tv_nsec = static_cast<long>(nanos % 1000000000);
      }
      // Returns at once if the word is no longer `seen`; EINTR and spurious
      // returns go round again.
      syscall(SYS_futex, WakeWord(), FUTEX_WAIT_PRIVATE, seen,
              deadline != nullptr ? &relative : nullptr, nullptr, 0);
      woken = wake_.load(std::memory_order_seq_cst) != seen;
    }
    sleeping_.store(false, std::memory_order_seq_cst);
    return woken;
  }
  // A full ring means the consumer is behind. Yielding or napping in a loop
  // cost the producer (the engine's router) 7% of the process's CPU under
  // bench/http_load_bench, a context switch each time, on the two cores the
  // consumers need. It sleeps instead until half the ring is free, so it
  // wakes once per half-ring rather than once per slot. Same protocol as the
  // consumer's sleep: announce, re-check, wait for the word to change.
  void WaitForRoom(size_t tail) {
    producer_waits_.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
      const uint32_t seen = room_.load(std::memory_order_seq_cst);
      producer_waiting_.store(true, std::memory_order_seq_cst);
      if (tail - head_.load(std::memory_order_seq_cst) <= ResumeAt()) break;
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&room_), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
    }
    producer_waiting_.store(false, std::memory_order_seq_cst);
  }
  void WakeProducer() {
    room_.fetch_add(1, std::memory_order_seq_cst);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&room_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
  size_t ResumeAt() const { return (mask_ + 1) / 2; }

  void WakeSleeper() {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    FutexWake();
  }
  // Only the consumer ever waits, so one waiter at most.
  void FutexWake() {
    syscall(SYS_futex, WakeWord(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
  uint32_t* WakeWord() { return reinterpret_cast<uint32_t*>(&wake_); }

  std::vector<Slot> slots_;
  const size_t mask_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
  // The futex word: bumped by every wake-up, waited on while it is unchanged.
  alignas(64) std::atomic<uint32_t> wake_{0};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                std::atomic<uint32_t>::is_always_lock_free);
  std::atomic<bool> sleeping_{false};
  // The producer's futex word, bumped when the consumer has made room.
  alignas(64) std::atomic<uint32_t> room_{0};
  std::atomic<bool> producer_waiting_{false};
  std::atomic<uint64_t> producer_waits_{0};
};

}  // namespace upfront

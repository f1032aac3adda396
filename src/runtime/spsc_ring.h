// A bounded single-producer single-consumer ring of reusable slots. The
// producer fills a slot in place (so strings inside keep their capacity) and
// publishes it; the consumer reads it in place and releases it. No locks, no
// allocation after construction. The consumer can sleep until work arrives.
//
//   Slot* s = ring.BeginPush();  fill *s;  ring.EndPush();      // producer
//   while (Slot* s = ring.Front()) { use *s; ring.Pop(); }      // consumer
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <new>
#include <thread>
#include <vector>

namespace upfront {

template <typename Slot>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity_pow2) : slots_(capacity_pow2), mask_(capacity_pow2 - 1) {}

  // Producer: a slot to fill, waiting (yielding) while the ring is full.
  Slot* BeginPush() {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    // Full: the consumer is behind. Back off instead of spinning, so on a
    // small machine the producer does not take the core the consumer needs.
    for (int spins = 0; tail - head_.load(std::memory_order_acquire) > mask_; ++spins) {
      if (spins < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(10));
      }
    }
    return &slots_[tail & mask_];
  }
  void EndPush() {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) {
      wake_.fetch_add(1, std::memory_order_seq_cst);
      wake_.notify_one();
    }
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
  void Pop() { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  // Consumer: blocks until something is published or Wake() is called.
  // `has_other_work` is re-checked after announcing the sleep, so a Wake()
  // that follows setting the condition it tests is never lost.
  template <typename Predicate>
  void Sleep(Predicate has_other_work) {
    const unsigned seen = wake_.load(std::memory_order_seq_cst);
    sleeping_.store(true, std::memory_order_seq_cst);
    if (head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_seq_cst) &&
        !has_other_work()) {
      wake_.wait(seen, std::memory_order_seq_cst);
    }
    sleeping_.store(false, std::memory_order_seq_cst);
  }
  // Any thread: interrupts Sleep() (for control messages and shutdown).
  void Wake() {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    wake_.notify_one();
  }

 private:
  std::vector<Slot> slots_;
  const size_t mask_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<unsigned> wake_{0};
  std::atomic<bool> sleeping_{false};
};

}  // namespace upfront

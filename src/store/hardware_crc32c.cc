#include "src/store/hardware_crc32c.h"

#include <nmmintrin.h>

#include <cstring>

// The linker's names for RocksDB's rocksdb::crc32c::Extend(unsigned, const
// char*, unsigned long) under `--wrap` (see CMakeLists.txt): callers reach
// the first, the second is the library's own.
extern "C" uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char* data,
                                                           size_t size);
extern "C" uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char* data,
                                                           size_t size);

namespace upfront {
namespace {

thread_local uint64_t calls_on_this_thread = 0;

bool CpuHasCrc32Instruction() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return has;
}

__attribute__((target("sse4.2"))) uint32_t HardwareExtend(uint32_t crc, const char* data,
                                                          size_t size) {
  uint64_t state = ~crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    state = _mm_crc32_u64(state, word);
    data += 8;
    size -= 8;
  }
  auto narrow = static_cast<uint32_t>(state);
  for (; size > 0; ++data, --size) narrow = _mm_crc32_u8(narrow, static_cast<uint8_t>(*data));
  return ~narrow;
}

}  // namespace

Crc32cEngine ActiveCrc32c() {
  return CpuHasCrc32Instruction() ? Crc32cEngine::kHardware : Crc32cEngine::kLibrary;
}

std::string_view Crc32cEngineName(Crc32cEngine engine) {
  return engine == Crc32cEngine::kHardware ? "sse4.2" : "rocksdb-software";
}

uint32_t LibraryCrc32cExtend(uint32_t crc, const char* data, size_t size) {
  return __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data, size);
}

uint64_t Crc32cCallsOnThisThread() { return calls_on_this_thread; }

}  // namespace upfront

extern "C" uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char* data,
                                                           size_t size) {
  ++upfront::calls_on_this_thread;
  if (upfront::CpuHasCrc32Instruction()) return upfront::HardwareExtend(crc, data, size);
  return __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data, size);
}

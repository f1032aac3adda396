// CRC32C for RocksDB's logs and blob files, computed by the CPU.
//
// RocksDB checksums every write-ahead-log record and every blob with CRC32C,
// through rocksdb::crc32c::Extend. Debian's librocksdb is built portable,
// without SSE4.2, so that function is a table-driven loop in software: 5% of
// the server's CPU at 100 k events/s, split between the sequencer's synced
// commits and the flushes. Whatever links upfront::store links with
// `--wrap` for that symbol, so RocksDB's calls to it from its other files
// come here instead; this module uses the SSE4.2 crc32 instruction when the
// CPU has it and RocksDB's own code when it does not. The checksums are the
// same bit for bit, so files written either way read back either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace upfront {

enum class Crc32cEngine {
  kHardware,  // this module, with the SSE4.2 crc32 instruction
  kLibrary,   // RocksDB's own software loop
};

// Which code RocksDB's checksums run on in this process. Thread-safe.
Crc32cEngine ActiveCrc32c();
std::string_view Crc32cEngineName(Crc32cEngine engine);

// RocksDB's own implementation, bypassing this module: `crc` extended by
// `size` bytes at `data`, as rocksdb::crc32c::Extend defines it.
uint32_t LibraryCrc32cExtend(uint32_t crc, const char* data, size_t size);

// How many checksums RocksDB has asked this module for on the calling
// thread: shows that its calls do come here.
uint64_t Crc32cCallsOnThisThread();

}  // namespace upfront

// Backs the process's heap with transparent huge pages.
//
//   int main(int argc, char** argv) {
//     upfront::UseHugePageHeap(argv);  // first thing: may re-execute the program
//     ...
//
// A partition keeps every customer's state on the heap, a million customers
// in gigabytes, and reads a few of them per event at random. With 4 KB pages
// nearly every one of those reads also misses the TLB; with 2 MB pages the
// whole state fits its reach. glibc's malloc asks the kernel for huge pages
// when its tunable glibc.malloc.hugetlb is 1 (only where THP is "madvise" or
// "always"), and it reads its tunables only when a program starts. So
// UseHugePageHeap re-executes the program once, with the tunable added to
// GLIBC_TUNABLES, and returns only when it did not (or could not).
//
// The environment has the last word: nothing happens when GLIBC_TUNABLES
// already sets glibc.malloc.hugetlb (to any value), or when
// UPFRONT_HUGE_PAGES=0.
#pragma once

#include <optional>
#include <string>

namespace upfront {

// The GLIBC_TUNABLES value to re-execute with, or nullopt to leave the
// process as it is. `tunables` and `opt_out` are the current values of
// GLIBC_TUNABLES and UPFRONT_HUGE_PAGES (nullptr when unset).
std::optional<std::string> TunablesWithHugePageHeap(const char* tunables, const char* opt_out);

// Re-executes /proc/self/exe with argv when TunablesWithHugePageHeap says so.
// REQUIRES: called before any thread starts; argv is main's.
void UseHugePageHeap(char** argv);

// Keeps the memory the heap frees for the next allocation instead of handing
// it back to the kernel: blocks up to 32 MB come from the heap, and its top
// is never trimmed. The server frees and reallocates the same buffers all
// the time (memtables after each flush, request batches, decision batches),
// and on this VM every page handed back is faulted in and zeroed again when
// it is reused: 3-5% of the process's CPU under bench/http_load_bench at a
// fixed 100 k events/s. What the heap peaked at stays in use by the process.
// A threshold GLIBC_TUNABLES sets (glibc.malloc.trim_threshold,
// glibc.malloc.mmap_threshold) is left as it says. Call once, early in main.
void RetainFreedHeap();

}  // namespace upfront

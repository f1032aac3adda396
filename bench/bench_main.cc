// main() for every benchmark: the heap on huge pages and keeping what it
// frees, as `upfront` runs
// (src/common/huge_pages.h), then Google Benchmark's usual main.

#include <benchmark/benchmark.h>

#include "src/common/huge_pages.h"

int main(int argc, char** argv) {
  upfront::UseHugePageHeap(argv);
  upfront::RetainFreedHeap();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

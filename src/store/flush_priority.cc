#include "src/store/flush_priority.h"

#include <sys/resource.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace upfront {

int LowerFlushThreadPriority(int niceness) {
  int found = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (name != "rocksdb:high") continue;
    const id_t tid = static_cast<id_t>(std::stoul(task.path().filename().string()));
    ++found;
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && current < niceness) setpriority(PRIO_PROCESS, tid, niceness);
  }
  return found;
}

}  // namespace upfront

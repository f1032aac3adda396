#include "src/store/flush_priority.h"

#include <sys/resource.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace upfront {

std::vector<int> FlushThreadIds() {
  std::vector<int> ids;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (name == "rocksdb:high") ids.push_back(std::stoi(task.path().filename().string()));
  }
  return ids;
}

int LowerFlushThreadPriority(int niceness) {
  const std::vector<int> ids = FlushThreadIds();
  for (int tid : ids) {
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    if (errno == 0 && current < niceness) setpriority(PRIO_PROCESS, static_cast<id_t>(tid), niceness);
  }
  return static_cast<int>(ids.size());
}

}  // namespace upfront

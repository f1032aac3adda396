#include "src/store/background_priority.h"

#include <sched.h>
#include <sys/resource.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace upfront {

std::vector<int> BackgroundThreadIds(std::string_view name) {
  std::vector<int> ids;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm == name) ids.push_back(std::stoi(task.path().filename().string()));
  }
  return ids;
}

void LowerThreadPriority(int tid, int niceness) {
  // A process needs no privilege to move its own threads between the
  // normal policies; the kernel carries the niceness over.
  const sched_param no_realtime_priority{};
  sched_setscheduler(tid, SCHED_BATCH, &no_realtime_priority);
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno == 0 && current < niceness) setpriority(PRIO_PROCESS, static_cast<id_t>(tid), niceness);
}

int LowerBackgroundThreadPriority(int niceness) {
  int found = 0;
  for (const char* name : {"rocksdb:high", "rocksdb:low"}) {
    for (int tid : BackgroundThreadIds(name)) {
      ++found;
      LowerThreadPriority(tid, niceness);
    }
  }
  return found;
}

}  // namespace upfront

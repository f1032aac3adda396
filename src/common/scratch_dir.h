// A fresh directory under the system's temp directory, removed (with all it
// holds) when the object dies: the in-memory engines of `upfront replay` and
// `upfront simulate` keep their RocksDB there.
//
//   ScratchDir dir("upfront-replay");
//   if (dir.path().empty()) ...  // could not be created
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace upfront {

class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }  // "" when it could not be created

 private:
  std::string path_;
};

}  // namespace upfront

// Tests only: a fresh private directory under the system's temporary directory
// ($TMPDIR or /tmp), for a backend or a config file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace zhsm::fileserver {

inline std::filesystem::path make_test_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  return tmpl;
}

// A test directory removed (with everything in it) when the scope ends, failed
// assertions included.
class ScopedTestDir {
 public:
  explicit ScopedTestDir(const std::string& prefix) : path_(make_test_dir(prefix)) {}
  ~ScopedTestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTestDir(const ScopedTestDir&) = delete;
  ScopedTestDir& operator=(const ScopedTestDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace zhsm::fileserver

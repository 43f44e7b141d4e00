#pragma once
// TempFile: a file under /tmp holding `content`, for flags that read files. The caller removes it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace cdc::cli {

inline std::string TempFile(const std::string& content) {
  char path[] = "/tmp/cli_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

}  // namespace cdc::cli

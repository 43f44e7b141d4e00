#pragma once
// Loading the golden captures (tests/data/golden, see its README) in unit tests.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/escaping.h"

namespace cdc::testdata {

inline nlohmann::json LoadGolden(const std::string& name) {
  std::ifstream in(std::string(CDC_TEST_DATA_DIR) + "/golden/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

// Base64 field of a capture; empty for null/absent.
inline std::string Unbase64(const nlohmann::json& v) {
  std::string out;
  if (v.is_string()) {
    EXPECT_TRUE(absl::Base64Unescape(v.get<std::string>(), &out));
  }
  return out;
}

}  // namespace cdc::testdata

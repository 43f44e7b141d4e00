#pragma once
// Tolerant readers of the server's JSON for rendering: a missing key or a value of another
// type gives the fallback (the human output never throws on an older or newer server).
#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace cdc::cli {

inline const nlohmann::json& Field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

inline std::string Str(const nlohmann::json& obj, const char* key,
                       const std::string& fallback = "") {
  const auto& v = Field(obj, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

inline int64_t Int(const nlohmann::json& obj, const char* key, int64_t fallback = -1) {
  const auto& v = Field(obj, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

inline bool Bool(const nlohmann::json& obj, const char* key) {
  const auto& v = Field(obj, key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace cdc::cli

#include "task/task_info.h"

#include <random>

namespace cdc::task {

std::string StateName(int state) {
  switch (state) {
    case 0:
      return "Initial";
    case 1:
      return "Running";
    case 2:
      return "Paused";
    default:
      return "Unknown value[" + std::to_string(state) + "]";
  }
}

std::string MilvusConnectParam::EffectiveUri() const {
  if (!uri.empty()) return uri;
  if (host.find("http://") != std::string::npos || host.find("https://") != std::string::npos) {
    return host;
  }
  if (host.empty() || port <= 0) return "";
  return (enable_tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

std::string TaskInfo::TargetKey() const {
  std::string uri = milvus.EffectiveUri();
  return uri.empty() ? kafka.address : uri;
}

std::vector<std::string> TaskInfo::FullCollectionNames() const {
  std::vector<std::string> names;
  for (const auto& c : collection_infos) names.push_back("default." + c.name);
  for (const auto& [db, infos] : db_collections) {
    for (const auto& c : infos) names.push_back(db + "." + c.name);
  }
  return names;
}

std::string RedactUri(const std::string& uri) {
  auto scheme = uri.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = uri.find('/', start);
  auto at = uri.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start) return uri;
  return uri.substr(0, start) + "***" + uri.substr(at);
}

std::string NewTaskId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  static const char* kHex = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(hi >> (60 - 4 * i)) & 0xF];
    id[16 + i] = kHex[(lo >> (60 - 4 * i)) & 0xF];
  }
  return id;
}

}  // namespace cdc::task

#include "common/log.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace cdc {

Status InitLogging(const std::string& level) {
  std::string l = level;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  spdlog::level::level_enum lvl;
  if (l == "debug") {
    lvl = spdlog::level::debug;
  } else if (l == "info" || l.empty()) {
    lvl = spdlog::level::info;
  } else if (l == "warn" || l == "warning") {
    lvl = spdlog::level::warn;
  } else if (l == "error") {
    lvl = spdlog::level::err;
  } else {
    return InvalidArgumentError("logLevel: unknown level '" + level +
                                "'; use one of debug, info, warn, error");
  }
  spdlog::set_level(lvl);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] [%t] %v");
  return OkStatus();
}

}  // namespace cdc

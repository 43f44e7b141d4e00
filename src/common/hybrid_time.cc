#include "common/hybrid_time.h"

#include <fmt/chrono.h>

#include <ctime>

namespace cdc {

std::string UtcClock(int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  return fmt::format("{:%H:%M:%S} UTC", fmt::gmtime(s));
}

}  // namespace cdc

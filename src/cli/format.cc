#include "cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace cdc::cli {

std::string FormatDurationMs(int64_t ms) {
  if (ms < 0) return "-";
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  }
  return buf;
}

std::string FormatCount(int64_t n) { return n < 0 ? "-" : std::to_string(n); }

std::string FormatUnixMs(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string ProgressBar(int64_t done, int64_t total, bool finished, int width) {
  const auto cells = static_cast<size_t>(width);
  if (finished) return "[" + std::string(cells, '#') + "] 100%";
  if (total <= 0) return "[" + std::string(cells, '?') + "]    ?";
  const double frac = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
  const auto full = static_cast<size_t>(frac * static_cast<double>(width));
  char pct[8];
  std::snprintf(pct, sizeof pct, "%4d%%", static_cast<int>(frac * 100.0));
  return "[" + std::string(full, '#') + std::string(cells - full, '-') + "]" + pct;
}

std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  if (max <= 3) return s.substr(0, max);
  return s.substr(0, max - 3) + "...";
}

}  // namespace cdc::cli

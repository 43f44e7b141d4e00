#pragma once
// Small formatters of the CLI's human output. Pure functions, thread-safe.
#include <cstdint>
#include <string>

namespace cdc::cli {

// A duration in ms: "-" for unknown (< 0), "850ms", "12.3s", "4m05s", "2h03m".
std::string FormatDurationMs(int64_t ms);

// A count, "-" for unknown (< 0).
std::string FormatCount(int64_t n);

// Unix ms as UTC "2025-01-02 03:04:05"; "-" for 0 or less.
std::string FormatUnixMs(int64_t unix_ms);

// A bar of `width` cells for done/total, e.g. "[########------------]  40%"; a total of 0 or
// less is "[????????????????????]   ?" unless `finished` (then full, 100%).
std::string ProgressBar(int64_t done, int64_t total, bool finished, int width = 24);

// s cut to at most `max` characters with "..." at the end when it was longer.
std::string Shorten(const std::string& s, size_t max);

}  // namespace cdc::cli

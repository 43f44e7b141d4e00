#pragma once
// Milvus hybrid timestamps and the wall clock, in one place.
//
// A hybrid timestamp (Milvus TSO) is physical milliseconds since the Unix epoch shifted left by
// 18 bits, plus an 18-bit logical counter. Pure functions, thread-safe.
#include <chrono>
#include <cstdint>
#include <string>

namespace cdc {

inline constexpr int kLogicalBits = 18;

// Physical milliseconds of a hybrid timestamp.
inline constexpr int64_t HybridToMs(uint64_t ts) {
  return static_cast<int64_t>(ts >> kLogicalBits);
}
// The hybrid timestamp of a millisecond with logical counter `logical`.
inline constexpr uint64_t MsToHybrid(int64_t ms, uint64_t logical = 0) {
  return (static_cast<uint64_t>(ms) << kLogicalBits) | logical;
}

// "HH:MM:SS UTC" of wall-clock milliseconds `ms`, for messages that must not change every second.
std::string UtcClock(int64_t ms);

// Wall-clock milliseconds since the Unix epoch.
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cdc

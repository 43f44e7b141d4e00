#pragma once
// cdc::MsgLog: the process-wide switch that decides whether a replicated Insert/Delete message
// is logged at info level (a field aid for "did my rows go through?"), driven by the
// `maintenance` operations `set_force_log_msg` and `reset_log_msg` as upstream:
//   - at start a window is open for the first 5 messages within 5 minutes;
//   - Reset(count, minutes) opens a new window of `count` messages within `minutes`;
//   - SetForce(true) admits every message until SetForce(false).
// Counts are process-wide (over every task), as upstream. Unlike upstream, a Reset after the
// first window closed opens a new one (upstream's stays closed).
// Thread-safe: every method may be called from any thread. Admit() is cheap when closed.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace cdc {

class MsgLog {
 public:
  using Clock = std::chrono::steady_clock;

  // The one instance the pipeline and the API share.
  static MsgLog& Global();

  // Opens the start window (5 messages, 5 minutes) at `now`.
  explicit MsgLog(Clock::time_point now = Clock::now());

  // True if the caller should log this message; counts it against the open window.
  bool Admit(Clock::time_point now = Clock::now());
  void SetForce(bool force);
  // A new window of `count` messages within `minutes` from `now` (<= 0 admits nothing).
  void Reset(int64_t count, int64_t minutes, Clock::time_point now = Clock::now());

 private:
  std::atomic<bool> open_{true};  // fast path: false when closed and not forced
  std::mutex mu_;
  bool force_ = false;
  int64_t admitted_ = 0;
  int64_t target_ = 5;
  Clock::time_point start_;
  Clock::duration window_ = std::chrono::minutes(5);
};

}  // namespace cdc

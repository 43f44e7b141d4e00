#include "common/msg_log.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace cdc {

MsgLog& MsgLog::Global() {
  static MsgLog* log = new MsgLog();  // never destroyed: pipelines may log during exit
  return *log;
}

MsgLog::MsgLog(Clock::time_point now) : start_(now) {}

bool MsgLog::Admit(Clock::time_point now) {
  if (!open_.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (force_) return true;
  if (admitted_ < target_ && now - start_ <= window_) {
    ++admitted_;
    return true;
  }
  if (open_.exchange(false)) {
    spdlog::info(
        "message log closed after {} message(s); reopen it with the maintenance "
        "operation reset_log_msg or set_force_log_msg",
        admitted_);
  }
  return false;
}

void MsgLog::SetForce(bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  force_ = force;
  open_ = force || (admitted_ < target_);
}

void MsgLog::Reset(int64_t count, int64_t minutes, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  admitted_ = 0;
  target_ = count;
  start_ = now;
  // Bounded so the window in nanoseconds cannot overflow (100 years is "no end").
  window_ = std::chrono::minutes(std::clamp<int64_t>(minutes, 0, int64_t{100} * 365 * 24 * 60));
  open_ = true;  // the next Admit closes it again if the window is empty
}

}  // namespace cdc

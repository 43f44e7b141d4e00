#include "common/shared_check.h"

namespace cdc {

Status SharedCheck::Run(const std::function<Status()>& check,
                        std::chrono::steady_clock::time_point deadline,
                        const std::string& timeout_message) {
  std::unique_lock l(mu_);
  const uint64_t need = started_ + 1;  // a run that starts from now on serves this call
  while (finished_ < need) {
    if (!running_) {
      running_ = true;
      const uint64_t run = ++started_;
      l.unlock();
      Status s = check();
      l.lock();
      running_ = false;
      finished_ = run;
      result_ = s;
      cv_.notify_all();
      continue;
    }
    if (cv_.wait_until(l, deadline) == std::cv_status::timeout && finished_ < need)
      return DeadlineExceededError(timeout_message);
  }
  return result_;
}

}  // namespace cdc

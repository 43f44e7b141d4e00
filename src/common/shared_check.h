#pragma once
// cdc::SharedCheck: concurrent callers share the runs of one check. A caller is served only by
// a run that started after it called (so the result covers everything before its call): the
// first caller runs the check on its own thread; callers that arrive meanwhile wait for the
// next run, which one of them makes. Thread-safe; the check itself needs no lock of its own.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"

namespace cdc {

class SharedCheck {
 public:
  // The result of a run of `check` that started after this call. DeadlineExceeded with
  // `timeout_message` when another caller's run had not finished by `deadline` (a run this
  // caller makes is bounded by the check itself).
  Status Run(const std::function<Status()>& check, std::chrono::steady_clock::time_point deadline,
             const std::string& timeout_message);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  uint64_t started_ = 0, finished_ = 0;  // runs started and the last one finished
  Status result_;                        // of run `finished_`
};

}  // namespace cdc

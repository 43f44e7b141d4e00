#pragma once
// WaitFor: polls `pred` every 20 ms until it holds or `limit` passes (bounded waits in tests).
#include <chrono>
#include <thread>

namespace cdc::testing {

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace cdc::testing

#include "common/shared_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cdc {
namespace {

using Clock = std::chrono::steady_clock;

TEST(SharedCheckTest, OneCallerRunsTheCheckAndGetsItsResult) {
  SharedCheck check;
  int runs = 0;
  Status s = check.Run(
      [&] {
        ++runs;
        return UnavailableError("etcd down");
      },
      Clock::now() + std::chrono::seconds(1), "late");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(check.Run([&] { return (++runs, OkStatus()); }, Clock::now(), "late").ok());
  EXPECT_EQ(runs, 2);  // every call is served by a run that started after it
}

// Callers that arrive while a run is under way share the next run: one more, not one each.
TEST(SharedCheckTest, CallersDuringARunShareTheNextOne) {
  SharedCheck check;
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  auto slow = [&] {
    ++runs;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return OkStatus();
  };
  std::thread first(
      [&] { EXPECT_TRUE(check.Run(slow, Clock::now() + std::chrono::seconds(5), "late").ok()); });
  while (runs.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::thread> later;
  for (int i = 0; i < 4; ++i)
    later.emplace_back(
        [&] { EXPECT_TRUE(check.Run(slow, Clock::now() + std::chrono::seconds(5), "late").ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  release = true;
  first.join();
  for (auto& t : later) t.join();
  EXPECT_EQ(runs.load(), 2);
}

TEST(SharedCheckTest, AWaiterGivesUpAtItsDeadline) {
  SharedCheck check;
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::thread first([&] {
    Status s = check.Run(
        [&] {
          started = true;
          while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return OkStatus();
        },
        Clock::now() + std::chrono::seconds(5), "late");
    EXPECT_TRUE(s.ok());
  });
  while (!started.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Status s = check.Run([] { return OkStatus(); }, Clock::now() + std::chrono::milliseconds(20),
                       "sync: another check did not finish in time");
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "sync: another check did not finish in time");
  release = true;
  first.join();
}

}  // namespace
}  // namespace cdc

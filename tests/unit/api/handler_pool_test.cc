#include "api/handler_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace cdc::api {
namespace {

TEST(HandlerPoolTest, RunsJobsOnItsThreads) {
  HandlerPool pool("test", 2, 16);
  std::atomic<int> ran{0};
  std::promise<void> done;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool.Submit([&] {
      if (++ran == 10) done.set_value();
    }));
  }
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(ran.load(), 10);
}

TEST(HandlerPoolTest, FullQueueRefusesAndShutdownDrains) {
  HandlerPool pool("test", 1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the one thread is busy
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_FALSE(pool.Submit([&] { ++ran; }));  // queue_limit 2
  EXPECT_EQ(pool.queued(), 2u);
  release.set_value();
  pool.Shutdown();  // runs what was queued
  EXPECT_EQ(ran.load(), 2);
  EXPECT_FALSE(pool.Submit([] {}));
}

TEST(HandlerPoolTest, AThrowingJobDoesNotKillTheThread) {
  HandlerPool pool("test", 1, 4);
  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("boom"); }));
  std::promise<void> done;
  ASSERT_TRUE(pool.Submit([&] { done.set_value(); }));
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

}  // namespace
}  // namespace cdc::api

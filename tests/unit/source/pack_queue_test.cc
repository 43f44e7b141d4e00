#include "source/pack_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace cdc::source {
namespace {

Pack PackOfBytes(const std::string& bytes, uint64_t end_ts) {
  auto owner = std::make_shared<std::string>(bytes);
  Message m;
  m.owner = owner;
  m.payload = *owner;
  Pack p;
  p.end_ts = end_ts;
  p.msgs.push_back(std::move(m));
  return p;
}

TEST(PackQueue, BoundedInBytesButAlwaysTakesOnePack) {
  PackQueue q(16, 100);
  ASSERT_TRUE(q.Push(PackOfBytes(std::string(300, 'x'), 1)));  // bigger than the limit: alone
  EXPECT_EQ(q.bytes(), 300u);
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(q.Push(PackOfBytes(std::string(60, 'y'), 2)));
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load());  // waits while the queue is over its byte limit
  auto first = q.Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->end_ts, 1u);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(q.bytes(), 60u);
  auto second = q.Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->end_ts, 2u);
  EXPECT_FALSE(q.Pop(std::chrono::milliseconds(1)).has_value());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(PackQueue, BoundedInPacksAndCloseWakesAProducer) {
  PackQueue q(1, 0);
  ASSERT_TRUE(q.Push(PackOfBytes("a", 1)));
  std::atomic<int> waited{0};
  std::thread producer([&] {
    EXPECT_FALSE(q.Push(PackOfBytes("b", 2), [&] { ++waited; }));  // closed while waiting
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_GE(waited.load(), 1);  // the wait callback runs about once a second
  q.Close();
  producer.join();
  EXPECT_TRUE(q.closed());
  auto left = q.Pop(std::chrono::milliseconds(0));  // what was queued is still handed out
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->end_ts, 1u);
  EXPECT_FALSE(q.Pop(std::chrono::milliseconds(0)).has_value());
}

// A queue full of packs with messages still takes packs of time only (a reader keeps reading
// and filtering while its consumer waits), up to kTimeOnlyFactor times its pack limit in all.
TEST(PackQueue, PacksOfTimeOnlyHaveALargerLimit) {
  auto tick = [](uint64_t ts) {
    Pack p;
    p.end_ts = ts;
    return p;
  };
  // Pushes from another thread; true if it waited until one pack was popped.
  auto push_waits = [](PackQueue* queue, Pack pack) {
    std::atomic<bool> pushed{false};
    std::thread producer([&] {
      EXPECT_TRUE(queue->Push(std::move(pack)));
      pushed = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool waited = !pushed.load();
    (void)queue->Pop(std::chrono::milliseconds(0));
    producer.join();
    return waited;
  };
  const auto no_wait = [] { FAIL() << "waited"; };
  PackQueue q(2, 0);
  ASSERT_TRUE(q.Push(PackOfBytes("a", 1)));
  ASSERT_TRUE(q.Push(PackOfBytes("b", 2)));
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(q.Push(tick(3 + i), no_wait));
  EXPECT_TRUE(push_waits(&q, PackOfBytes("c", 20)));  // 2 with messages: the third waits
  // In all: b, 10 ticks, c = 12 of 2 * kTimeOnlyFactor.
  const size_t limit = 2 * PackQueue::kTimeOnlyFactor;
  for (size_t i = 12; i < limit; ++i) ASSERT_TRUE(q.Push(tick(100 + i), no_wait));
  EXPECT_TRUE(push_waits(&q, tick(1000)));  // full in all
  auto next = q.Pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->end_ts, 3u);  // a and b were popped: the first tick is next
}

}  // namespace
}  // namespace cdc::source

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

}  // namespace
}  // namespace cdc::source

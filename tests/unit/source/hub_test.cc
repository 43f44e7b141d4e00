#include <gtest/gtest.h>

#include "mocks/memory_channel_reader.h"
#include "source/channel_hub.h"
#include "source/vchannel.h"
#include "tools/sim/messages.h"

namespace cdc::source {
namespace {
using cdc::testing::MemoryChannelReader;
using namespace std::chrono_literals;
const char* kChan = "by-dev-rootcoord-dml_0";

std::string Ins(int64_t coll, uint64_t ts, int64_t msg_id) {
  sim::CollectionSpec c;
  c.id = coll;
  c.dim = 2;
  return sim::MakeInsert(c, {.partition_id = coll + 1,
                             .vchannel = MakeVChannel(kChan, coll, 0),
                             .ts = ts,
                             .msg_id = msg_id})
      .SerializeAsString();
}
std::string Tick(uint64_t ts) { return sim::MakeTimeTick(ts).SerializeAsString(); }

std::unique_ptr<MemoryChannelReader> Stream(int ticks) {
  auto r = std::make_unique<MemoryChannelReader>(kChan);
  uint64_t ts = 10;
  for (int i = 0; i < ticks; ++i) {
    r->Append(Ins(100, ts++, 2 * i));
    r->Append(Ins(200, ts++, 2 * i + 1));
    r->Append(Tick(ts++));
  }
  return r;
}

TEST(MemoryReader, StartKinds) {
  auto r = Stream(3);
  ASSERT_TRUE(r->Start(StartPosition::At(KafkaPosition(kChan, 3, 12))).ok());
  // As Milvus's seek: skip until the first tick at or after ts 12 (offset 5, ts 15), which
  // the seek consumes; the messages kept on the way join the next window (ends at 18).
  auto p = r->Next(10ms);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->begin_ts, 12u);
  EXPECT_EQ((*p)->end_ts, 18u);
  ASSERT_EQ((*p)->msgs.size(), 4u);
  EXPECT_EQ((*p)->msgs[0].offset, 3);
  auto latest = Stream(3);
  ASSERT_TRUE(latest->Start(StartPosition::Latest()).ok());
  auto none = latest->Next(10ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  latest->Append(Tick(100));
  auto one = latest->Next(10ms);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->end_ts, 100u);
  EXPECT_FALSE(Stream(1)->Next(1ms).ok());  // not started
}

TEST(ChannelHub, EachSubscriberSeesItsOwnCollections) {
  auto r = Stream(4);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  ChannelHub hub(std::move(r), 8);
  int a = hub.Subscribe({MakeVChannel(kChan, 100, 0)});
  int b = hub.Subscribe({MakeVChannel(kChan, 200, 0)});
  hub.Start();
  for (int i = 0; i < 4; ++i) {
    auto pa = hub.Next(a, 2s);
    auto pb = hub.Next(b, 2s);
    ASSERT_TRUE(pa.ok() && pa->has_value()) << i;
    ASSERT_TRUE(pb.ok() && pb->has_value()) << i;
    EXPECT_EQ((*pa)->end_ts, (*pb)->end_ts);
    ASSERT_EQ((*pa)->msgs.size(), 1u);
    ASSERT_EQ((*pb)->msgs.size(), 1u);
    EXPECT_EQ((*pa)->msgs[0].header.collection_id, 100);
    EXPECT_EQ((*pb)->msgs[0].header.collection_id, 200);
  }
  EXPECT_EQ(hub.Next(99, 1ms).status().code(), StatusCode::kNotFound);
  hub.Stop();
  EXPECT_EQ(hub.Next(a, 1ms).status().code(), StatusCode::kCancelled);
}

TEST(ChannelHub, SlowSubscriberHoldsThePumpWithinBound) {
  auto r = Stream(10);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  ChannelHub hub(std::move(r), 2);
  int slow = hub.Subscribe({MakeVChannel(kChan, 100, 0)});
  int fast = hub.Subscribe({MakeVChannel(kChan, 200, 0), MakeVChannel(kChan, 100, 0)});
  hub.Start();
  // The fast one gets what fits in the slow one's queue, then must wait.
  int got = 0;
  while (true) {
    auto p = hub.Next(fast, 200ms);
    ASSERT_TRUE(p.ok());
    if (!p->has_value()) break;
    EXPECT_EQ((*p)->msgs.size(), 2u);
    ++got;
  }
  EXPECT_LE(got, 3);  // 2 queued for the slow one + at most 1 in the pump's hand
  // Reading both again lets everything through.
  int slow_got = 0, rest = 0;
  for (int i = 0; i < 40 && (slow_got < 10 || got + rest < 10); ++i) {
    auto ps = hub.Next(slow, 100ms);
    ASSERT_TRUE(ps.ok());
    slow_got += ps->has_value();
    auto pf = hub.Next(fast, 100ms);
    ASSERT_TRUE(pf.ok());
    rest += pf->has_value();
  }
  EXPECT_EQ(slow_got, 10);
  EXPECT_EQ(got + rest, 10);
}

}  // namespace
}  // namespace cdc::source

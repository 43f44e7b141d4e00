#include "source/packer.h"

#include <gtest/gtest.h>

#include "source/vchannel.h"
#include "tools/sim/messages.h"
#include "tools/sim/scenario.h"

namespace cdc::source {
namespace {
namespace common = milvus::proto::common;
const char* kChan = "by-dev-rootcoord-dml_0";

// Turns payloads into Messages at consecutive offsets from `first_offset`.
std::vector<Message> ToMessages(const std::vector<sim::Payload>& ps, int64_t first_offset = 0) {
  std::vector<Message> out;
  int64_t off = first_offset;
  for (const auto& p : ps) {
    auto owner = std::make_shared<std::string>(p.bytes);
    Message m;
    m.payload = *owner;
    m.owner = owner;
    m.offset = off;
    auto h = DecodeHeader(m.payload);
    EXPECT_TRUE(h.ok());
    m.header = *h;
    m.position = KafkaPosition(kChan, off++, m.header.timestamp);
    out.push_back(std::move(m));
  }
  return out;
}

Message Tick(uint64_t ts, int64_t off) {
  return ToMessages({{sim::MakeTimeTick(ts).SerializeAsString(), common::TimeTick, ts}}, off)[0];
}

Message Ins(uint64_t ts, int64_t msg_id, int64_t off, int64_t coll = 100) {
  sim::CollectionSpec c;
  c.id = coll;
  c.dim = 2;
  return ToMessages({{sim::MakeInsert(c, {.partition_id = coll + 1,
                                          .vchannel = MakeVChannel(kChan, coll, 0),
                                          .ts = ts,
                                          .msg_id = msg_id})
                          .SerializeAsString(),
                      common::Insert, ts}},
                    off)[0];
}

std::vector<Pack> Feed(Packer& p, std::vector<Message> msgs) {
  std::vector<Pack> out;
  for (auto& m : msgs) {
    if (auto pk = p.Add(std::move(m))) out.push_back(std::move(*pk));
  }
  return out;
}

TEST(Packer, SplitsAtTicksWithMilvusPositions) {
  Packer p(kChan, "g", std::nullopt);
  auto packs = Feed(p, {Ins(10, 1, 0), Ins(11, 2, 1), Tick(12, 2), Ins(13, 3, 3), Tick(14, 4)});
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_EQ(packs[0].begin_ts, 0u);
  EXPECT_EQ(packs[0].end_ts, 12u);
  ASSERT_EQ(packs[0].msgs.size(), 2u);
  EXPECT_TRUE(packs[0].start_position.msgid().empty());  // upstream: empty id at the start
  // No message left over: end position is the tick itself, with ts = tick and the group.
  EXPECT_EQ(*DecodeKafkaMsgId(packs[0].end_position.msgid()), 2);
  EXPECT_EQ(packs[0].end_position.timestamp(), 12u);
  EXPECT_EQ(packs[0].end_position.msggroup(), "g");
  EXPECT_EQ(packs[1].begin_ts, 12u);
  EXPECT_EQ(packs[1].end_ts, 14u);
  EXPECT_EQ(packs[1].start_position.SerializeAsString(), packs[0].end_position.SerializeAsString());
  ASSERT_EQ(packs[1].msgs.size(), 1u);
  EXPECT_EQ(packs[1].msgs[0].offset, 3);
}

TEST(Packer, EmptyPackBetweenTwoTicks) {
  Packer p(kChan, "g", std::nullopt);
  auto packs = Feed(p, {Tick(5, 0), Tick(6, 1)});
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_TRUE(packs[1].msgs.empty());
  EXPECT_EQ(packs[1].begin_ts, 5u);
  EXPECT_EQ(packs[1].end_ts, 6u);
}

TEST(Packer, LateMessageStaysForNextPackAndIsEndPosition) {
  Packer p(kChan, "g", std::nullopt);
  // A message with ts above the tick read before it stays buffered; the end position points
  // at it so that a resume re-reads it.
  auto packs = Feed(p, {Ins(10, 1, 0), Ins(20, 2, 1), Tick(15, 2), Tick(25, 3)});
  ASSERT_EQ(packs.size(), 2u);
  ASSERT_EQ(packs[0].msgs.size(), 1u);
  EXPECT_EQ(*DecodeKafkaMsgId(packs[0].end_position.msgid()), 1);
  EXPECT_EQ(packs[0].end_position.timestamp(), 15u);
  ASSERT_EQ(packs[1].msgs.size(), 1u);
  EXPECT_EQ(packs[1].msgs[0].header.timestamp, 20u);
}

TEST(Packer, StaleTickDoesNotClosePack) {
  Packer p(kChan, "g", std::nullopt);
  auto packs = Feed(p, {Tick(10, 0), Ins(11, 1, 1), Tick(9, 2), Tick(10, 3), Tick(12, 4)});
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_EQ(packs[1].begin_ts, 10u);
  EXPECT_EQ(packs[1].end_ts, 12u);
  EXPECT_EQ(packs[1].msgs.size(), 1u);
  EXPECT_EQ(p.skipped(), 2u);
}

TEST(Packer, DuplicateDmlMsgIdDroppedWithinPack) {
  Packer p(kChan, "g", std::nullopt);
  auto packs = Feed(p, {Ins(10, 7, 0), Ins(10, 7, 1), Ins(10, 8, 2), Tick(11, 3)});
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].msgs.size(), 2u);
  EXPECT_EQ(p.duplicates(), 1u);
}

TEST(Packer, ResumeFromEndPositionLosesAndRepeatsNothing) {
  sim::Scenario s;
  s.collection.id = 100;
  s.collection.dim = 4;
  s.inserts = 9;
  s.rows_per_insert = 2;
  s.inserts_per_tick = 2;
  auto all = ToMessages(sim::BuildScenario(s));
  Packer full(kChan, "g", std::nullopt);
  auto packs = Feed(full, all);
  ASSERT_GE(packs.size(), 4u);
  // Resume after each pack: the concatenation equals the uninterrupted run.
  for (size_t cut = 0; cut < packs.size(); ++cut) {
    const MsgPosition& at = packs[cut].end_position;
    int64_t off = *DecodeKafkaMsgId(at.msgid());
    Packer resumed(kChan, "g", at);
    std::vector<Message> tail(all.begin() + off, all.end());
    auto rest = Feed(resumed, tail);
    ASSERT_EQ(rest.size(), packs.size() - cut - 1) << "cut " << cut;
    for (size_t i = 0; i < rest.size(); ++i) {
      const Pack& want = packs[cut + 1 + i];
      EXPECT_EQ(rest[i].end_ts, want.end_ts);
      ASSERT_EQ(rest[i].msgs.size(), want.msgs.size());
      for (size_t j = 0; j < want.msgs.size(); ++j) {
        EXPECT_EQ(rest[i].msgs[j].offset, want.msgs[j].offset);
      }
    }
  }
}

TEST(Packer, ResumeSkipsMessagesAtOrBeforePositionTs) {
  // Seek lands on offset 0; messages with ts <= 20 are skipped until the tick at 20.
  MsgPosition at = KafkaPosition(kChan, 0, 20);
  Packer p(kChan, "g", at);
  auto packs = Feed(p, {Ins(15, 1, 0), Ins(21, 2, 1), Tick(20, 2), Ins(22, 3, 3), Tick(23, 4)});
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].begin_ts, 20u);
  ASSERT_EQ(packs[0].msgs.size(), 2u);
  EXPECT_EQ(packs[0].msgs[0].offset, 1);
  EXPECT_EQ(packs[0].msgs[1].offset, 3);
  EXPECT_EQ(p.skipped(), 1u);
  EXPECT_EQ(packs[0].start_position.SerializeAsString(), at.SerializeAsString());
}

TEST(Packer, ErrorsReportedInNextPack) {
  Packer p(kChan, "g", std::nullopt);
  p.AddError("decode message at topic x offset 3: bad");
  auto packs = Feed(p, {Tick(5, 4)});
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_EQ(packs[0].errors.size(), 1u);
  EXPECT_NE(packs[0].errors[0].find("offset 3"), std::string::npos);
  auto next = Feed(p, {Tick(6, 5)});
  EXPECT_TRUE(next[0].errors.empty());
}

TEST(SingleMessagePacker, OnePackPerMessageAndResumeSkip) {
  SingleMessagePacker p("by-dev-replicate-msg", KafkaPosition("by-dev-replicate-msg", 1, 11));
  EXPECT_FALSE(p.Add(Ins(11, 1, 1)).has_value());
  auto pk = p.Add(Ins(12, 2, 2));
  ASSERT_TRUE(pk.has_value());
  EXPECT_EQ(pk->begin_ts, 12u);
  EXPECT_EQ(pk->end_ts, 12u);
  EXPECT_EQ(pk->msgs.size(), 1u);
  EXPECT_EQ(*DecodeKafkaMsgId(pk->end_position.msgid()), 2);
  EXPECT_EQ(p.skipped(), 1u);
}

TEST(VChannel, ParseAndFilter) {
  auto v = ParseVChannel("by-dev-rootcoord-dml_3_4471v1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->pchannel, "by-dev-rootcoord-dml_3");
  EXPECT_EQ(v->collection_id, 4471);
  EXPECT_EQ(v->shard, 1);
  EXPECT_FALSE(ParseVChannel("by-dev-rootcoord-dml_3").ok());
  EXPECT_FALSE(ParseVChannel("x_av1").ok());

  Packer p(kChan, "g", std::nullopt);
  sim::CollectionSpec other;
  other.id = 200;
  auto packs = Feed(p, {Ins(10, 1, 0, 100), Ins(10, 2, 1, 200),
                        ToMessages({{sim::MakeDropCollection(other, 11).SerializeAsString(),
                                     common::DropCollection, 11}},
                                   2)[0],
                        Tick(12, 3)});
  ASSERT_EQ(packs.size(), 1u);
  Pack only100 = FilterPack(packs[0], {MakeVChannel(kChan, 100, 0)});
  ASSERT_EQ(only100.msgs.size(), 1u);
  EXPECT_EQ(only100.msgs[0].header.collection_id, 100);
  Pack only200 = FilterPack(packs[0], {MakeVChannel(kChan, 200, 0)});
  ASSERT_EQ(only200.msgs.size(), 2u);
  EXPECT_EQ(only200.msgs[1].header.type, common::DropCollection);
  EXPECT_EQ(only200.end_ts, 12u);
}

TEST(Packer, FilterDropsIgnoredCollectionsButKeepsTicksAndOthers) {
  auto filter = std::make_shared<CollectionFilter>();
  filter->Ignore(200);
  Packer p(kChan, "g", std::nullopt, filter);
  auto packs = Feed(
      p, {Ins(10, 1, 0, 200), Ins(11, 2, 1, 100), Tick(12, 2), Ins(13, 3, 3, 200), Tick(14, 4)});
  ASSERT_EQ(packs.size(), 2u);
  ASSERT_EQ(packs[0].msgs.size(), 1u);
  EXPECT_EQ(packs[0].msgs[0].header.collection_id, 100);
  EXPECT_TRUE(packs[1].msgs.empty());
  EXPECT_EQ(*DecodeKafkaMsgId(packs[1].end_position.msgid()), 4);  // the tick
  EXPECT_EQ(p.filtered(), 2u);
  // Ids ignored later take effect from then on (the set only grows).
  filter->Ignore(100);
  packs = Feed(p, {Ins(15, 4, 5, 100), Tick(16, 6)});
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_TRUE(packs[0].msgs.empty());
  EXPECT_EQ(p.filtered(), 3u);
}

}  // namespace
}  // namespace cdc::source

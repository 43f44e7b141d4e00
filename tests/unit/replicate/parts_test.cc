#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "milvus/msg.pb.h"
#include "replicate/checkpoint.h"
#include "replicate/merger.h"
#include "replicate/selection.h"
#include "replicate/wire_rewrite.h"
#include "source/position.h"
#include "tools/sim/messages.h"

namespace cdc::replicate {
namespace {

using ::testing::HasSubstr;

TEST(WireRewrite, ReplacesIdsAndShardKeepsRows) {
  sim::CollectionSpec spec;
  spec.id = 7;
  spec.dim = 4;
  auto ins = sim::MakeInsert(
      spec, {.partition_id = 8, .vchannel = "src_7v0", .ts = 99, .msg_id = 5, .rows = 3});
  FieldOverrides ov;
  ov.varints[kDmlCollectionId] = 700;
  ov.varints[kDmlPartitionId] = 800;
  ov.strings[kDmlShardName] = "tgt_700v0";
  auto out = RewriteFields(ins.SerializeAsString(), ov);
  ASSERT_TRUE(out.ok()) << out.status();
  ::milvus::proto::msg::InsertRequest got;
  ASSERT_TRUE(got.ParseFromString(*out));
  EXPECT_EQ(got.collectionid(), 700);
  EXPECT_EQ(got.partitionid(), 800);
  EXPECT_EQ(got.shardname(), "tgt_700v0");
  got.set_collectionid(7);
  got.set_partitionid(8);
  got.set_shardname("src_7v0");
  EXPECT_EQ(got.SerializeAsString(), ins.SerializeAsString());  // nothing else changed
}

TEST(WireRewrite, MalformedBytesAreInvalidArgument) {
  auto out = RewriteFields(std::string("\x0a\xff\xff", 3), {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

TEST(WireRewrite, TimeTick) {
  ::milvus::proto::msg::TimeTickMsg tt;
  ASSERT_TRUE(tt.ParseFromString(MakeTimeTick(12345)));
  EXPECT_EQ(tt.base().msg_type(), ::milvus::proto::common::TimeTick);
  EXPECT_EQ(tt.base().timestamp(), 12345u);
}

TEST(WireRewrite, RestampSetsTheBaseAndEveryRowTimestamp) {
  ::milvus::proto::msg::InsertRequest ins;
  ins.mutable_base()->set_msg_type(::milvus::proto::common::Insert);
  ins.mutable_base()->set_msgid(77);
  ins.mutable_base()->set_timestamp(100);
  ins.set_shardname("ch_v0");
  ins.set_num_rows(3);
  for (int i = 0; i < 3; ++i) ins.add_timestamps(100 + i);
  auto out = Restamp(ins.SerializeAsString(), 5000, /*dml=*/true);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ::milvus::proto::msg::InsertRequest got;
  ASSERT_TRUE(got.ParseFromString(*out));
  EXPECT_EQ(got.base().timestamp(), 5000u);
  EXPECT_EQ(got.base().msgid(), 77);  // the rest of the base and the message stay
  EXPECT_EQ(got.shardname(), "ch_v0");
  ASSERT_EQ(got.timestamps_size(), 3);
  for (uint64_t ts : got.timestamps()) EXPECT_EQ(ts, 5000u);

  ::milvus::proto::msg::DropCollectionRequest drop;
  drop.mutable_base()->set_timestamp(9);
  drop.set_collectionid(12);
  auto dropped = Restamp(drop.SerializeAsString(), 6000, /*dml=*/false);
  ASSERT_TRUE(dropped.ok());
  ::milvus::proto::msg::DropCollectionRequest got_drop;
  ASSERT_TRUE(got_drop.ParseFromString(*dropped));
  EXPECT_EQ(got_drop.base().timestamp(), 6000u);
  EXPECT_EQ(got_drop.collectionid(), 12);

  EXPECT_FALSE(Restamp(std::string("\x0a\xff\xff", 3), 1, true).ok());
}

source::Message Msg(int type, uint64_t ts, int64_t offset, const std::string& ch) {
  source::Message m;
  m.header.type = type;
  m.header.timestamp = ts;
  m.offset = offset;
  m.position = source::KafkaPosition(ch, offset, ts);
  return m;
}

source::Pack PackOf(const std::string& ch, uint64_t begin, uint64_t end,
                    std::vector<source::Message> msgs, int64_t end_offset) {
  source::Pack p;
  p.channel = ch;
  p.begin_ts = begin;
  p.end_ts = end;
  p.msgs = std::move(msgs);
  p.end_position = source::KafkaPosition(ch, end_offset, end);
  return p;
}

TEST(Merger, ReleasesUpToCommonWatermarkInTsOrder) {
  Merger m;
  m.AddChannel("a");
  m.AddChannel("b");
  EXPECT_FALSE(m.Watermark().has_value());
  m.AddPack(PackOf("a", 0, 10, {Msg(400, 5, 0, "a"), Msg(400, 9, 1, "a")}, 2));
  EXPECT_FALSE(m.Watermark().has_value());  // b has no tick yet
  m.AddPack(PackOf("b", 0, 8, {Msg(400, 7, 0, "b")}, 1));
  ASSERT_EQ(m.Watermark(), 8u);
  auto out = m.Take(8);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].msg.header.timestamp, 5u);
  EXPECT_EQ(out[1].msg.header.timestamp, 7u);
  EXPECT_EQ(m.Consumed().count("a"), 0u);  // a's pack still holds ts 9
  EXPECT_EQ(m.Consumed().at("b").timestamp(), 8u);
  m.AddPack(PackOf("b", 8, 12, {Msg(401, 9, 2, "b")}, 3));
  out = m.Take(*m.Watermark());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].msg.header.type, 401);  // delete before insert on equal ts
  EXPECT_EQ(m.Consumed().at("a").timestamp(), 10u);
}

TEST(Merger, CountsBufferedBytesAndWhichChannelHoldsTheWatermarkBack) {
  Merger m;
  m.AddChannel("a");
  m.AddChannel("b");
  EXPECT_TRUE(m.HoldsBack("a"));  // no tick yet
  auto owner = std::make_shared<std::string>(100, 'x');
  auto sized = [&](source::Message msg) {
    msg.owner = owner;
    msg.payload = *owner;
    return msg;
  };
  m.AddPack(PackOf("a", 0, 10, {sized(Msg(400, 5, 0, "a")), sized(Msg(400, 9, 1, "a"))}, 2));
  m.AddPack(PackOf("b", 0, 20, {sized(Msg(400, 15, 0, "b"))}, 1));
  EXPECT_EQ(m.BufferedBytes(), 300u);
  EXPECT_TRUE(m.HoldsBack("a"));  // its tick 10 is the watermark
  EXPECT_FALSE(m.HoldsBack("b"));
  ASSERT_EQ(m.Take(*m.Watermark()).size(), 2u);
  EXPECT_EQ(m.BufferedBytes(), 100u);  // b's message at ts 15 waits
  m.RemoveChannel("b");
  EXPECT_EQ(m.BufferedBytes(), 0u);
}

// Packs of time only are told apart from those still holding messages (the pipeline's pack
// limit counts the latter), also when a pack's messages are taken over two rounds.
TEST(Merger, CountsThePacksThatStillHoldMessages) {
  Merger m;
  m.AddChannel("a");
  m.AddChannel("b");
  m.AddPack(PackOf("a", 0, 10, {Msg(400, 5, 0, "a"), Msg(400, 12, 1, "a")}, 2));
  m.AddPack(PackOf("a", 10, 20, {}, 3));
  m.AddPack(PackOf("a", 20, 30, {}, 4));
  m.AddPack(PackOf("b", 0, 8, {}, 1));
  EXPECT_EQ(m.Buffered("a"), 3u);
  EXPECT_EQ(m.BufferedWithData("a"), 1u);
  EXPECT_EQ(m.BufferedWithData("b"), 0u);
  ASSERT_EQ(m.Take(8).size(), 1u);  // ts 5; ts 12 stays in a's first pack
  EXPECT_EQ(m.BufferedWithData("a"), 1u);
  m.AddPack(PackOf("b", 8, 30, {}, 2));
  ASSERT_EQ(m.Take(30).size(), 1u);
  EXPECT_EQ(m.BufferedWithData("a"), 0u);
  EXPECT_EQ(m.Buffered("a"), 0u);
}

TEST(Selection, WildcardsAndExcludes) {
  Selection s({"*.*"}, {"db1.secret"});
  EXPECT_TRUE(s.Selected("default", "c1"));
  EXPECT_TRUE(s.Selected("db1", "c1"));
  EXPECT_FALSE(s.Selected("db1", "secret"));
  EXPECT_TRUE(s.DatabaseSelected("db9"));
  Selection d({"default.c1"}, {});
  EXPECT_TRUE(d.Selected("default", "c1"));
  EXPECT_FALSE(d.Selected("default", "c2"));
  EXPECT_FALSE(d.DatabaseSelected("db1"));
  Selection plain({"c1"}, {});  // collection_infos without a database mean "default"
  EXPECT_TRUE(plain.Selected("default", "c1"));
}

TEST(Checkpoint, RoundTripsUpstreamLayout) {
  std::map<std::string, source::MsgPosition> in;
  in["ch0"] = source::KafkaPosition("ch0", 42, sim::ComposeTs(5000, 3));
  std::string json = EncodeSourcePositions(in);
  EXPECT_THAT(json, HasSubstr("\"DataPair\""));
  EXPECT_THAT(json, HasSubstr("\"Time\":5000"));
  EXPECT_THAT(json, HasSubstr("\"data\":\"KgAAAAAAAAA=\""));  // offset 42, 8 bytes LE
  auto out = DecodeSourcePositions(json);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at("ch0").SerializeAsString(), in["ch0"].SerializeAsString());
  EXPECT_FALSE(DecodeSourcePositions("{\"ch0\":{}}").ok());
  // An upstream entry (no TS): resume after its millisecond.
  auto up = DecodeSourcePositions(
      R"({"ch0":{"Time":5000,"DataPair":{"key":"ch0","data":"KgAAAAAAAAA="}}})");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->at("ch0").timestamp(), sim::ComposeTs(5001) - 1);
}

}  // namespace
}  // namespace cdc::replicate

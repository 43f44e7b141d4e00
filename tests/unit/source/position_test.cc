#include "source/position.h"

#include <gtest/gtest.h>

#include "source/pulsar_id.h"

namespace cdc::source {
namespace {

TEST(Position, KafkaMsgIdIsLittleEndian) {
  std::string id = EncodeKafkaMsgId(0x0102030405060708);
  ASSERT_EQ(id.size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(id[0]), 0x08);
  EXPECT_EQ(static_cast<uint8_t>(id[7]), 0x01);
  EXPECT_EQ(*DecodeKafkaMsgId(id), 0x0102030405060708);
}

TEST(Position, KafkaMsgIdRoundTrip) {
  for (int64_t off :
       {int64_t{0}, int64_t{1}, int64_t{255}, int64_t{256}, int64_t{1} << 40, INT64_MAX}) {
    EXPECT_EQ(*DecodeKafkaMsgId(EncodeKafkaMsgId(off)), off);
  }
}

TEST(Position, KafkaMsgIdWrongSize) {
  auto r = DecodeKafkaMsgId("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("expected 8 bytes, got 3"), std::string::npos);
}

TEST(Position, Base64RoundTrip) {
  MsgPosition p = KafkaPosition("by-dev-rootcoord-dml_3", 17, 449000000000000000ull);
  p.set_msggroup("cdc-x");
  std::string text = EncodePosition(p);
  auto back = DecodePosition(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->channel_name(), "by-dev-rootcoord-dml_3");
  EXPECT_EQ(*DecodeKafkaMsgId(back->msgid()), 17);
  EXPECT_EQ(back->timestamp(), 449000000000000000ull);
  EXPECT_EQ(back->msggroup(), "cdc-x");
  EXPECT_EQ(DescribePosition(*back), "by-dev-rootcoord-dml_3@17 ts=449000000000000000");
}

TEST(Position, Base64KnownBytes) {
  // {channel_name:"c", msgID: offset 1} = 0A 01 63 12 08 01 00.. -> base64
  MsgPosition p = KafkaPosition("c", 1, 0);
  EXPECT_EQ(EncodePosition(p), "CgFjEggBAAAAAAAAAA==");
}

TEST(Position, DecodeRejectsGarbage) {
  auto r = DecodePosition("!!!not base64");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not base64"), std::string::npos);
  auto r2 = DecodePosition("/w==");  // 0xFF: not a protobuf message
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("not a serialized MsgPosition"), std::string::npos);
}

// A task's start can carry ts 0 at a late message id (the channel's last message was not a
// time tick) beside a collection's create position with a real ts: the earlier one is the
// smaller id, whatever the timestamps say.
TEST(Position, BeforeComparesIdsOfTheSameQueueFirst) {
  MsgPosition late = KafkaPosition("ch", 4855, 0);
  MsgPosition create = KafkaPosition("ch", 4777, 470950512433299467ULL);
  EXPECT_TRUE(PositionBefore(create, late));
  EXPECT_FALSE(PositionBefore(late, create));
  MsgPosition same_id_lower_ts = KafkaPosition("ch", 4777, 5);
  EXPECT_TRUE(PositionBefore(same_id_lower_ts, create));
  MsgPosition beginning;
  beginning.set_channel_name("ch");
  beginning.set_timestamp(999);
  EXPECT_TRUE(PositionBefore(beginning, create));
  MsgPosition p1, p2;
  p1.set_msgid(EncodePulsarMsgId({7, 3, -1, -1}));
  p1.set_timestamp(100);
  p2.set_msgid(EncodePulsarMsgId({6, 900, -1, -1}));
  p2.set_timestamp(50);
  EXPECT_TRUE(PositionBefore(p2, p1));
  EXPECT_FALSE(PositionBefore(p1, p2));
  MsgPosition odd;  // not an id of either queue: by timestamp
  odd.set_msgid("x");
  odd.set_timestamp(1);
  EXPECT_TRUE(PositionBefore(odd, p2));
  // Small numbers: a Pulsar id can be 8 bytes long like a Kafka offset, and still compares as
  // a Pulsar id; Kafka offsets compare as offsets.
  MsgPosition q1, q2;
  q1.set_msgid(EncodePulsarMsgId({6, 9, 0, 0}));
  q2.set_msgid(EncodePulsarMsgId({7, 3, 0, 0}));
  ASSERT_EQ(q1.msgid().size(), 8u);
  EXPECT_TRUE(PositionBefore(q1, q2));
  EXPECT_FALSE(PositionBefore(q2, q1));
  for (int64_t off : {0, 1, 37, 255, 256, 4095, 65535, 1 << 20}) {
    EXPECT_TRUE(PositionBefore(KafkaPosition("ch", off, 9), KafkaPosition("ch", off + 1, 0)))
        << off;
    EXPECT_FALSE(PositionBefore(KafkaPosition("ch", off + 1, 0), KafkaPosition("ch", off, 9)))
        << off;
  }
}

}  // namespace
}  // namespace cdc::source

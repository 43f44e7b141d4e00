// The Pulsar message id as Milvus stores it in MsgPosition.msgID (source/pulsar_id.h), checked
// against the protobuf encoding of pulsar.proto.MessageIdData.
#include "source/pulsar_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "pulsar/PulsarApi.pb.h"
#include "source/position.h"

namespace cdc::source {
namespace {

using ::testing::HasSubstr;
namespace proto = ::pulsar::proto;

TEST(PulsarMsgId, SameBytesAsTheProtobufEncoding) {
  for (auto [ledger, entry, part, batch] :
       std::vector<std::tuple<int64_t, int64_t, int32_t, int32_t>>{
           {10, 3, -1, -1}, {1LL << 40, 987654, 0, 4}, {0, 0, 0, 0}}) {
    proto::MessageIdData m;
    m.set_ledgerid(static_cast<uint64_t>(ledger));
    m.set_entryid(static_cast<uint64_t>(entry));
    m.set_partition(part);
    m.set_batch_index(batch);
    std::string ours = EncodePulsarMsgId({ledger, entry, part, batch});
    EXPECT_EQ(ours, m.SerializeAsString());
    auto back = DecodePulsarMsgId(ours);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->ledger, ledger);
    EXPECT_EQ(back->entry, entry);
    EXPECT_EQ(back->partition, part);
    EXPECT_EQ(back->batch_index, batch);
  }
  // Upstream defaults when optional fields are absent; unknown fields (ack_set) skipped.
  proto::MessageIdData m;
  m.set_ledgerid(5);
  m.set_entryid(6);
  m.add_ack_set(123);
  auto back = DecodePulsarMsgId(m.SerializeAsString());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->partition, -1);
  EXPECT_EQ(back->batch_index, -1);
}

TEST(PulsarMsgId, KafkaOffsetIsRejectedWithAHint) {
  // Offset 0x2e: byte 0x2e is field 5 with wire type 6 (upstream's "wrong wireType").
  auto r = DecodePulsarMsgId(EncodeKafkaMsgId(0x2e));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("Kafka"));
  EXPECT_FALSE(DecodePulsarMsgId("").ok());
  MsgPosition pos;
  pos.set_channel_name("by-dev-rootcoord-dml_1");
  pos.set_msgid(EncodePulsarMsgId({7, 8, 0, 2}));
  pos.set_timestamp(42);
  // 8 bytes, like a Kafka id, yet shown as a Pulsar id; Kafka offsets stay offsets.
  EXPECT_EQ(pos.msgid().size(), 8u);
  EXPECT_EQ(DescribePosition(pos), "by-dev-rootcoord-dml_1@7:8:2 ts=42");
  for (int64_t off : {0LL, 8LL, 17LL, 46LL, 1LL << 40}) {
    EXPECT_EQ(DescribePosition(KafkaPosition("t", off, 1)), "t@" + std::to_string(off) + " ts=1");
  }
}

}  // namespace
}  // namespace cdc::source

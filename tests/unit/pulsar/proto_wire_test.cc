// Checks our Pulsar protocol subset against bytes encoded by hand from upstream's field tables,
// and the message id encoding Milvus keeps in MsgPosition.msgID: pulsar-client-go's
// MessageID.Serialize() marshals a MessageIdData with ledgerId, entryId, batch_index and
// partition all set (so -1 defaults are written out), and DeserializeMessageID parses it back.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "milvus/msg.pb.h"
#include "pulsar/PulsarApi.pb.h"

namespace {

using pulsar::proto::BaseCommand;
using pulsar::proto::MessageIdData;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// What the Go client writes for a message of a non-partitioned topic outside a batch.
MessageIdData GoClientId(uint64_t ledger, uint64_t entry, int32_t batch, int32_t partition) {
  MessageIdData id;
  id.set_ledgerid(ledger);
  id.set_entryid(entry);
  id.set_batch_index(batch);
  id.set_partition(partition);
  return id;
}

// int32 -1 is a 10-byte varint on the wire (sign-extended to 64 bits).
constexpr std::initializer_list<int> kMinusOne = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                  0xFF, 0xFF, 0xFF, 0xFF, 0x01};

TEST(PulsarProtoWire, MessageIdAsTheGoClientSerializesIt) {
  std::string want = Bytes({0x08, 0x0A, 0x10, 0x03, 0x18});  // ledgerId 10, entryId 3, partition
  want += Bytes(kMinusOne);
  want += Bytes({0x20});  // batch_index
  want += Bytes(kMinusOne);
  EXPECT_EQ(GoClientId(10, 3, -1, -1).SerializeAsString(), want);

  MessageIdData back;
  ASSERT_TRUE(back.ParseFromString(want));
  EXPECT_EQ(back.ledgerid(), 10u);
  EXPECT_EQ(back.entryid(), 3u);
  EXPECT_TRUE(back.has_partition());
  EXPECT_EQ(back.partition(), -1);
  EXPECT_TRUE(back.has_batch_index());
  EXPECT_EQ(back.batch_index(), -1);
}

TEST(PulsarProtoWire, MessageIdWithoutOptionalFieldsTakesUpstreamDefaults) {
  MessageIdData id;
  ASSERT_TRUE(id.ParseFromString(Bytes({0x08, 0x07, 0x10, 0x00})));  // ledgerId 7, entryId 0
  EXPECT_EQ(id.ledgerid(), 7u);
  EXPECT_EQ(id.entryid(), 0u);
  EXPECT_FALSE(id.has_partition());
  EXPECT_EQ(id.partition(), -1);
  EXPECT_EQ(id.batch_index(), -1);
  EXPECT_EQ(id.ack_set_size(), 0);
}

TEST(PulsarProtoWire, MessageIdMissingARequiredFieldDoesNotParse) {
  MessageIdData id;
  EXPECT_FALSE(id.ParseFromString(Bytes({0x08, 0x07})));  // no entryId
  EXPECT_FALSE(id.ParseFromString(Bytes({0x08})));        // truncated
}

TEST(PulsarProtoWire, MessageIdInsideMsgPositionRoundTrips) {
  // Large ids: BookKeeper ledger ids grow past 32 bits on long-lived clusters.
  const MessageIdData id = GoClientId(uint64_t{1} << 40 | 12345, 987654, 4, 0);
  milvus::proto::msg::MsgPosition pos;
  pos.set_channel_name("by-dev-rootcoord-dml_3");
  pos.set_msgid(id.SerializeAsString());
  pos.set_timestamp(449120938727424001ULL);

  milvus::proto::msg::MsgPosition pos_back;
  ASSERT_TRUE(pos_back.ParseFromString(pos.SerializeAsString()));
  EXPECT_EQ(pos_back.channel_name(), "by-dev-rootcoord-dml_3");
  MessageIdData id_back;
  ASSERT_TRUE(id_back.ParseFromString(pos_back.msgid()));
  EXPECT_EQ(id_back.ledgerid(), (uint64_t{1} << 40) | 12345);
  EXPECT_EQ(id_back.entryid(), 987654u);
  EXPECT_EQ(id_back.batch_index(), 4);
  EXPECT_EQ(id_back.partition(), 0);
  // Re-serializing gives the same bytes, so ids compare equal as byte strings too.
  EXPECT_EQ(id_back.SerializeAsString(), pos.msgid());
}

TEST(PulsarProtoWire, BaseCommandFieldNumbers) {
  BaseCommand flow;
  flow.set_type(BaseCommand::FLOW);  // 11
  flow.mutable_flow()->set_consumer_id(1);
  flow.mutable_flow()->set_messagepermits(1000);
  // field 1 varint 11; field 11 len 5 {field 1 varint 1; field 2 varint 1000}
  EXPECT_EQ(flow.SerializeAsString(),
            Bytes({0x08, 0x0B, 0x5A, 0x05, 0x08, 0x01, 0x10, 0xE8, 0x07}));

  BaseCommand last;
  last.set_type(BaseCommand::GET_LAST_MESSAGE_ID_RESPONSE);  // 30
  auto* resp = last.mutable_getlastmessageidresponse();      // field 30
  resp->set_request_id(9);
  resp->mutable_last_message_id()->set_ledgerid(5);
  resp->mutable_last_message_id()->set_entryid(6);
  // field 30 tag = (30 << 3) | 2 = 242 = 0xF2 0x01
  EXPECT_EQ(last.SerializeAsString(),
            Bytes({0x08, 0x1E, 0xF2, 0x01, 0x08, 0x0A, 0x04, 0x08, 0x05, 0x10, 0x06, 0x10, 0x09}));
}

TEST(PulsarProtoWire, CommandWithATypeWeDoNotKnowFailsToParse) {
  // type 69 is unassigned upstream: proto2 drops the unknown enum value, so the required field
  // is missing. The client must treat such a frame as a protocol error, not crash.
  BaseCommand cmd;
  EXPECT_FALSE(cmd.ParseFromString(Bytes({0x08, 0x45})));
  // A known type with an unknown command field is kept and still parses.
  ASSERT_TRUE(cmd.ParseFromString(Bytes({0x08, 0x12, 0xFA, 0x07, 0x00})));  // PING + field 127
  EXPECT_EQ(cmd.type(), BaseCommand::PING);
}

}  // namespace

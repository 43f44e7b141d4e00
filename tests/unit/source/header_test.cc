#include <gtest/gtest.h>

#include "source/message.h"
#include "tools/sim/messages.h"

namespace cdc::source {
namespace {
namespace common = milvus::proto::common;

sim::CollectionSpec Coll() {
  sim::CollectionSpec c;
  c.name = "c1";
  c.id = 4471;
  c.dim = 8;
  return c;
}

TEST(Header, Insert) {
  auto ins = sim::MakeInsert(Coll(), {.partition_id = 4472,
                                      .vchannel = "by-dev-rootcoord-dml_3_4471v0",
                                      .ts = 99,
                                      .msg_id = 7,
                                      .rows = 3});
  auto h = DecodeHeader(ins.SerializeAsString());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->type, common::Insert);
  EXPECT_EQ(h->timestamp, 99u);
  EXPECT_EQ(h->msg_id, 7);
  EXPECT_EQ(h->shard_name, "by-dev-rootcoord-dml_3_4471v0");
  EXPECT_EQ(h->collection_id, 4471);
  EXPECT_EQ(h->partition_id, 4472);
}

TEST(Header, DeleteAndDdl) {
  auto del = sim::MakeDelete(Coll(), "vc_4471v0", 5, 8, {1, 2});
  auto h = DecodeHeader(del.SerializeAsString());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, common::Delete);
  EXPECT_EQ(h->shard_name, "vc_4471v0");
  EXPECT_EQ(h->collection_id, 4471);

  auto dc = DecodeHeader(sim::MakeDropCollection(Coll(), 6).SerializeAsString());
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ(dc->type, common::DropCollection);
  EXPECT_EQ(dc->collection_id, 4471);
  EXPECT_TRUE(dc->shard_name.empty());

  auto dp = DecodeHeader(sim::MakeDropPartition(Coll(), 4480, "p1", 7).SerializeAsString());
  ASSERT_TRUE(dp.ok());
  EXPECT_EQ(dp->collection_id, 4471);
  EXPECT_EQ(dp->partition_id, 4480);

  auto cc = DecodeHeader(
      sim::MakeCreateCollection(Coll(), {"vc_4471v0"}, {"vc"}, 4472, 3).SerializeAsString());
  ASSERT_TRUE(cc.ok());
  EXPECT_EQ(cc->collection_id, 4471);
  EXPECT_EQ(cc->type, common::CreateCollection);
}

// Milvus 2.3.5's upsert leaves MsgBase.timestamp of its InsertMsgs at 0; Milvus itself orders
// an Insert/Delete by its rows' timestamps (msgstream InsertMsg/DeleteMsg Unmarshal: EndTs is
// their maximum), so the header does too.
TEST(Header, InsertAndDeleteTakeTheirRowsLatestTimestamp) {
  auto ins = sim::MakeInsert(Coll(), {.vchannel = "vc_4471v0", .ts = 300, .msg_id = 7, .rows = 3});
  ins.mutable_base()->set_timestamp(0);
  ins.set_timestamps(1, 310);
  auto h = DecodeHeader(ins.SerializeAsString());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp, 310u);

  auto del = sim::MakeDelete(Coll(), "vc_4471v0", 300, 8, {1, 2});
  del.mutable_base()->set_timestamp(0);
  h = DecodeHeader(del.SerializeAsString());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp, 300u);

  // Without row timestamps the base's stays.
  auto bare = sim::MakeInsert(Coll(), {.vchannel = "vc_4471v0", .ts = 400, .msg_id = 9, .rows = 1});
  bare.clear_timestamps();
  h = DecodeHeader(bare.SerializeAsString());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp, 400u);

  // Malformed row timestamps are named: field 10 packed, one unterminated varint.
  auto bad = sim::MakeInsert(Coll(), {.vchannel = "vc_4471v0", .ts = 400, .msg_id = 9, .rows = 1});
  bad.clear_timestamps();
  std::string wire = bad.SerializeAsString() + std::string("\x52\x01\x80", 3);
  h = DecodeHeader(wire);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("timestamps"), std::string::npos) << h.status();
}

TEST(Header, TimeTickAndReplicateFlag) {
  auto tt = sim::MakeTimeTick(1234);
  tt.mutable_base()->mutable_replicateinfo()->set_isreplicate(true);
  auto h = DecodeHeader(tt.SerializeAsString());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, common::TimeTick);
  EXPECT_EQ(h->timestamp, 1234u);
  EXPECT_TRUE(h->is_replicate);
}

TEST(Header, BadPayloads) {
  auto empty = DecodeHeader("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("no MsgBase"), std::string::npos);

  std::string wire = sim::MakeTimeTick(5).SerializeAsString();
  auto truncated = DecodeHeader(std::string_view(wire).substr(0, wire.size() - 1));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("length runs past"), std::string::npos);

  auto junk = DecodeHeader(std::string("\xff\xff\xff", 3));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument);

  auto text = DecodeHeader("hello world");
  ASSERT_FALSE(text.ok());
}

TEST(Header, UnknownTypeDecodesButIsFlagged) {
  common::MsgHeader m;
  m.mutable_base()->set_msg_type(static_cast<common::MsgType>(9999));
  auto h = DecodeHeader(m.SerializeAsString());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, 9999);
  EXPECT_FALSE(IsKnownDmlChannelType(h->type));
  EXPECT_EQ(MsgTypeName(h->type), "MsgType(9999)");
  EXPECT_EQ(MsgTypeName(common::Insert), "Insert");
}

}  // namespace
}  // namespace cdc::source

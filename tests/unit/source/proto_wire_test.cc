// Checks that our .proto subsets put fields at upstream's numbers, by comparing with bytes
// encoded by hand from the upstream field tables (UPSTREAM.md section 6).
#include <gtest/gtest.h>

#include <string>

#include "milvus/common.pb.h"
#include "milvus/etcd_meta.pb.h"
#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"

namespace {

using milvus::proto::common::MsgBase;
using milvus::proto::common::MsgHeader;
using milvus::proto::common::MsgType;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(ProtoWire, MsgBaseFieldNumbers) {
  MsgBase base;
  base.set_msg_type(milvus::proto::common::TimeTick);  // 1200 = 0xB0 0x09
  base.set_timestamp(5);
  base.mutable_replicateinfo()->set_isreplicate(true);
  // field 1 varint 1200; field 3 varint 5; field 7 len 2 {field 1 varint 1}
  EXPECT_EQ(base.SerializeAsString(),
            Bytes({0x08, 0xB0, 0x09, 0x18, 0x05, 0x3A, 0x02, 0x08, 0x01}));
}

TEST(ProtoWire, InsertParsesAsHeaderAndDmlHeader) {
  milvus::proto::msg::InsertRequest ins;
  ins.mutable_base()->set_msg_type(milvus::proto::common::Insert);
  ins.mutable_base()->set_timestamp(42);
  ins.set_shardname("by-dev-rootcoord-dml_0_100v0");
  ins.set_collectionid(100);
  auto* fd = ins.add_fields_data();
  fd->set_type(milvus::proto::schema::FloatVector);
  fd->mutable_vectors()->set_dim(2);
  fd->mutable_vectors()->mutable_float_vector()->add_data(1.0f);
  std::string wire = ins.SerializeAsString();

  MsgHeader h;
  ASSERT_TRUE(h.ParseFromString(wire));
  EXPECT_EQ(h.base().msg_type(), milvus::proto::common::Insert);
  EXPECT_EQ(h.base().timestamp(), 42u);
  milvus::proto::common::DMLMsgHeader d;
  ASSERT_TRUE(d.ParseFromString(wire));
  EXPECT_EQ(d.shardname(), "by-dev-rootcoord-dml_0_100v0");
}

TEST(ProtoWire, MsgTypeValues) {
  EXPECT_EQ(milvus::proto::common::CreateCollection, 100);
  EXPECT_EQ(milvus::proto::common::DropPartition, 201);
  EXPECT_EQ(milvus::proto::common::Delete, 401);
  EXPECT_EQ(milvus::proto::common::DataNodeTt, 1208);
  EXPECT_EQ(milvus::proto::common::Replicate, 1212);
  EXPECT_EQ(milvus::proto::common::CreateDatabase, 1801);
  EXPECT_EQ(milvus::proto::common::DropDatabase, 1802);
}

TEST(ProtoWire, CatalogFieldNumbers) {
  milvus::proto::etcd::CollectionInfo ci;
  ci.set_id(7);
  ci.set_shards_num(1);
  ci.set_db_id(1);
  // field 1 = 7; field 10 = 1 (tag 0x50); field 15 = 1 (tag 0x78)
  EXPECT_EQ(ci.SerializeAsString(), Bytes({0x08, 0x07, 0x50, 0x01, 0x78, 0x01}));
  milvus::proto::etcd::DatabaseInfo db;
  db.set_name("d");
  db.set_id(2);
  db.set_state(milvus::proto::etcd::DatabaseCreated);
  EXPECT_EQ(db.SerializeAsString(), Bytes({0x12, 0x01, 'd', 0x18, 0x02, 0x20, 0x01}));
  milvus::proto::msg::MsgPosition pos;
  pos.set_channel_name("c");
  pos.set_timestamp(1);
  EXPECT_EQ(pos.SerializeAsString(), Bytes({0x0A, 0x01, 'c', 0x20, 0x01}));
}

}  // namespace

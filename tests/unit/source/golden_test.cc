// Decodes records captured from a real Milvus (tests/data/golden, see its README) and checks
// the simulator writes the same messages.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "golden_data.h"
#include "source/packer.h"
#include "tools/sim/messages.h"

namespace cdc::source {
namespace {
namespace common = milvus::proto::common;
namespace msgpb = milvus::proto::msg;
using google::protobuf::util::MessageDifferencer;
using nlohmann::json;

using testdata::Unbase64;
json Load(const std::string& name) { return testdata::LoadGolden(name); }

struct Record {
  int64_t offset;
  std::string type_name;
  std::string bytes;
};

std::vector<Record> Records(const std::string& file) {
  std::vector<Record> out;
  const json doc = Load(file);
  for (const auto& r : doc) {
    out.push_back(
        {r["offset"].get<int64_t>(), r["msg_type"].get<std::string>(), Unbase64(r["value"])});
  }
  return out;
}

class Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = Load("manifest.json");
    dml_ = Records("kafka-dml.json");
    coll_.name = manifest_["collection"];
    coll_.id = manifest_["collection_id"];
    coll_.dim = 8;
    vchannel_ = manifest_["virtual_channels"][0];
  }
  const Record& First(const std::string& type, int nth = 0) {
    for (const auto& r : dml_)
      if (r.type_name == type && nth-- == 0) return r;
    ADD_FAILURE() << "no " << type;
    return dml_[0];
  }
  json manifest_;
  std::vector<Record> dml_;
  sim::CollectionSpec coll_;
  std::string vchannel_;
};

TEST_F(Golden, EveryDmlRecordHeaderDecodes) {
  ASSERT_FALSE(dml_.empty());
  for (const auto& r : dml_) {
    auto h = DecodeHeader(r.bytes);
    ASSERT_TRUE(h.ok()) << "offset " << r.offset << ": " << h.status();
    EXPECT_EQ(MsgTypeName(h->type), r.type_name) << r.offset;
    EXPECT_TRUE(IsKnownDmlChannelType(h->type)) << r.offset;
    if (h->type == common::Insert || h->type == common::Delete) {
      EXPECT_EQ(h->shard_name, vchannel_);
      EXPECT_NE(h->msg_id, 0);
    }
    if (h->type != common::TimeTick) {
      EXPECT_EQ(h->collection_id, coll_.id) << r.type_name;
    }
  }
}

TEST_F(Golden, EveryReplicateRecordHeaderDecodes) {
  auto recs = Records("kafka-replicate.json");
  ASSERT_GE(recs.size(), 6u);
  for (const auto& r : recs) {
    auto h = DecodeHeader(r.bytes);
    ASSERT_TRUE(h.ok()) << "offset " << r.offset << ": " << h.status();
    EXPECT_EQ(MsgTypeName(h->type), r.type_name);
    EXPECT_GT(h->timestamp, 0u);
    EXPECT_EQ(static_cast<uint64_t>(h->msg_id), h->timestamp);  // Milvus 2.3: msgID = ts
  }
}

TEST_F(Golden, PackerKeepsEveryRecordOnceInTickOrder) {
  Packer p("by-dev-rootcoord-dml_0", "g", std::nullopt);
  std::vector<Pack> packs;
  for (const auto& r : dml_) {
    Message m;
    m.payload = r.bytes;
    m.offset = r.offset;
    m.header = *DecodeHeader(r.bytes);
    m.position = KafkaPosition("by-dev-rootcoord-dml_0", r.offset, m.header.timestamp);
    if (auto pk = p.Add(std::move(m))) packs.push_back(std::move(*pk));
  }
  std::vector<int64_t> seen;
  for (const auto& pk : packs) {
    EXPECT_LT(pk.begin_ts, pk.end_ts);
    for (const auto& m : pk.msgs) {
      EXPECT_GT(m.header.timestamp, pk.begin_ts);
      EXPECT_LE(m.header.timestamp, pk.end_ts);
      seen.push_back(m.offset);
    }
  }
  std::vector<int64_t> want;
  for (const auto& r : dml_)
    if (r.type_name != "TimeTick") want.push_back(r.offset);
  // The capture ends with ticks past the last DDL, so everything is packed.
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, want);
  // Real Milvus writes DDL ahead of a smaller tick (DropCollection's ts is above the tick
  // right after it); such a message waits in the buffer and the end position points at it.
  bool saw_late = false;
  for (const auto& pk : packs) {
    auto off = DecodeKafkaMsgId(pk.end_position.msgid());
    ASSERT_TRUE(off.ok());
    saw_late |= dml_[*off].type_name != "TimeTick";
  }
  EXPECT_TRUE(saw_late);
}

template <typename M>
M Parse(const std::string& bytes) {
  M m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

void ExpectSame(const google::protobuf::Message& golden, const google::protobuf::Message& ours) {
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(golden, ours)) << diff;
}

TEST_F(Golden, SimulatorTimeTickIsByteIdentical) {
  const Record& r = First("TimeTick");
  auto g = Parse<msgpb::TimeTickMsg>(r.bytes);
  EXPECT_EQ(sim::MakeTimeTick(g.base().timestamp(), g.base().sourceid()).SerializeAsString(),
            r.bytes);
}

TEST_F(Golden, SimulatorDropsAreByteIdentical) {
  auto dc = Parse<msgpb::DropCollectionRequest>(First("DropCollection").bytes);
  EXPECT_EQ(sim::MakeDropCollection(coll_, dc.base().timestamp()).SerializeAsString(),
            First("DropCollection").bytes);
  auto dp = Parse<msgpb::DropPartitionRequest>(First("DropPartition").bytes);
  EXPECT_EQ(
      sim::MakeDropPartition(coll_, dp.partitionid(), manifest_["partition"], dp.base().timestamp())
          .SerializeAsString(),
      First("DropPartition").bytes);
}

TEST_F(Golden, SimulatorInsertsAndDeleteMatch) {
  for (int nth = 0; nth < 2; ++nth) {
    auto g = Parse<msgpb::InsertRequest>(First("Insert", nth).bytes);
    sim::InsertSpec s;
    s.partition_id = g.partitionid();
    s.partition_name = g.partition_name();
    s.vchannel = g.shardname();
    s.ts = g.base().timestamp();
    s.msg_id = g.base().msgid();
    s.first_pk = g.fields_data(0).scalars().long_data().data(0);
    s.rows = static_cast<int>(g.num_rows());
    s.segment_id = g.segmentid();
    s.first_row_id = g.rowids(0);
    ExpectSame(g, sim::MakeInsert(coll_, s));
  }
  auto d = Parse<msgpb::DeleteRequest>(First("Delete").bytes);
  std::vector<int64_t> pks(d.primary_keys().int_id().data().begin(),
                           d.primary_keys().int_id().data().end());
  ExpectSame(d, sim::MakeDelete(coll_, d.shardname(), d.base().timestamp(), d.base().msgid(), pks));
}

TEST_F(Golden, SimulatorCreateCollectionMatches) {
  auto g = Parse<msgpb::CreateCollectionRequest>(First("CreateCollection").bytes);
  auto ours = sim::MakeCreateCollection(
      coll_, {g.virtualchannelnames().begin(), g.virtualchannelnames().end()},
      {g.physicalchannelnames().begin(), g.physicalchannelnames().end()}, g.partitionids(0),
      g.base().timestamp());
  // The schema travels as bytes; compare it parsed.
  auto gs = Parse<milvus::proto::schema::CollectionSchema>(g.schema());
  auto os = Parse<milvus::proto::schema::CollectionSchema>(ours.schema());
  ExpectSame(gs, os);
  g.clear_schema();
  ours.clear_schema();
  ExpectSame(g, ours);
}

}  // namespace
}  // namespace cdc::source

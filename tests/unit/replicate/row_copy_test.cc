// Routing of copied rows as a Milvus 2.3.5 source routes them. The key hashes below were
// checked against a real source: rows of int64 keys -5..24 and of varchar keys (also longer
// than 100 bytes) inserted into 3-shard collections landed on the vchannel these hashes pick
// (their Insert records' shardName, read from the source's Kafka topics).
#include "replicate/row_copy.h"

#include <gtest/gtest.h>

#include <set>

namespace cdc::replicate {
namespace {

namespace schemapb = milvus::proto::schema;

TEST(RowCopy, Murmur3MatchesTheReferenceVectors) {
  EXPECT_EQ(Murmur3Hash32(""), 0u);
  EXPECT_EQ(Murmur3Hash32("", 1), 0x514e28b7u);
  EXPECT_EQ(Murmur3Hash32("hello"), 0x248bfa47u);
  EXPECT_EQ(Murmur3Hash32("The quick brown fox jumps over the lazy dog"), 0x2e4ff723u);
}

TEST(RowCopy, KeysHashAsMilvusDoes) {
  EXPECT_EQ(HashInt64Key(0), 1669671676u);
  EXPECT_EQ(HashInt64Key(1), 1392991556u);
  EXPECT_EQ(HashInt64Key(-5), 1222806974u);
  EXPECT_EQ(HashInt64Key(123456789), 690028081u);
  EXPECT_EQ(HashStringKey("k0"), 3775500351u);
  EXPECT_EQ(HashStringKey("k7"), 2137851292u);
  // Only the first 100 bytes count.
  EXPECT_EQ(HashStringKey(std::string(100, 'x') + "tail"), HashStringKey(std::string(100, 'x')));
  EXPECT_EQ(HashStringKey(std::string(100, 'x')), 1577999759u);
}

schemapb::FieldData LongColumn(const std::string& name, std::vector<int64_t> values) {
  schemapb::FieldData f;
  f.set_type(schemapb::Int64);
  f.set_field_name(name);
  for (int64_t v : values) f.mutable_scalars()->mutable_long_data()->add_data(v);
  return f;
}

TEST(RowCopy, RowsGoToTheShardAndPartitionTheirKeysPick) {
  auto pk = LongColumn("id", {0, 1, -5, 123456789});
  auto groups = GroupRows(pk, nullptr, 4, 3, 0, "p1");
  ASSERT_TRUE(groups.ok()) << groups.status();
  std::map<int, std::vector<int64_t>> by_shard;
  for (const auto& g : *groups) {
    EXPECT_EQ(g.partition, "p1");
    by_shard[g.shard] = g.rows;
  }
  EXPECT_EQ(by_shard[1], (std::vector<int64_t>{0, 3}));  // keys 0 and 123456789
  EXPECT_EQ(by_shard[2], (std::vector<int64_t>{1, 2}));  // keys 1 and -5
  // A partition key picks `_default_{hash % partitions}`.
  auto key = LongColumn("k", {1, -5, 123456789, 0});  // hashes % 4: 0, 2, 1, 0
  auto keyed = GroupRows(pk, &key, 4, 1, 4, "");
  ASSERT_TRUE(keyed.ok());
  std::map<std::string, std::vector<int64_t>> parts;
  for (const auto& g : *keyed) parts[g.partition] = g.rows;
  EXPECT_EQ(parts["_default_0"], (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(parts["_default_1"], (std::vector<int64_t>{2}));
  EXPECT_EQ(parts["_default_2"], (std::vector<int64_t>{1}));
}

TEST(RowCopy, SelectRowsKeepsEveryTypeAndTheVectorWidth) {
  schemapb::FieldData vec;
  vec.set_type(schemapb::FloatVector);
  vec.set_field_name("vec");
  vec.mutable_vectors()->set_dim(2);
  for (float v : {0.f, 0.5f, 1.f, 1.5f, 2.f, 2.5f})
    vec.mutable_vectors()->mutable_float_vector()->add_data(v);
  auto picked = SelectRows(vec, {2, 0});
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->vectors().dim(), 2);
  ASSERT_EQ(picked->vectors().float_vector().data_size(), 4);
  EXPECT_EQ(picked->vectors().float_vector().data(0), 2.f);
  EXPECT_EQ(picked->vectors().float_vector().data(3), 0.5f);

  schemapb::FieldData bin;
  bin.set_type(schemapb::BinaryVector);
  bin.mutable_vectors()->set_dim(16);  // 2 bytes a row
  bin.mutable_vectors()->set_binary_vector(std::string("\x01\x02\x03\x04\x05\x06", 6));
  auto b = SelectRows(bin, {1});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->vectors().binary_vector(), std::string("\x03\x04", 2));

  schemapb::FieldData json;
  json.set_type(schemapb::JSON);
  json.set_field_name("$meta");
  json.set_is_dynamic(true);
  for (const char* v : {"{\"a\":1}", "{}", "{\"b\":2}"})
    json.mutable_scalars()->mutable_json_data()->add_data(v);
  auto j = SelectRows(json, {2});
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j->is_dynamic());
  EXPECT_EQ(j->scalars().json_data().data(0), "{\"b\":2}");

  auto short_vec = SelectRows(vec, {3});
  EXPECT_FALSE(short_vec.ok());  // only 3 rows of 2 floats
}

TEST(RowCopy, KeysOfTheRowsForTheDelete) {
  schemapb::FieldData pk;
  pk.set_type(schemapb::VarChar);
  for (const char* k : {"a", "b", "c"}) pk.mutable_scalars()->mutable_string_data()->add_data(k);
  auto ids = SelectKeys(pk, {2, 0});
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->str_id().data_size(), 2);
  EXPECT_EQ(ids->str_id().data(0), "c");
  EXPECT_EQ(ids->str_id().data(1), "a");
}

// A copied page: its Delete and Insert carry the target's names and ids, the page's timestamp
// on every row, and message ids no Milvus allocator hands out (bit 62), distinct per kind.
TEST(RowCopy, CopiedPagesAreTargetMessagesAtTheirTimestamp) {
  CopyDestination to{"db1", "c", "p1", 42, 43, "t-dml_3_42v0"};
  auto pk = LongColumn("id", {7, 8, 9});
  pk.set_field_id(100);
  auto n = LongColumn("n", {70, 80, 90});
  n.set_field_id(101);
  const uint64_t ts = 470950512577478659ULL;
  auto ins = CopyInsert(to, {pk, n}, {0, 2}, ts, CopyMsgId(ts, 1, 3));
  ASSERT_TRUE(ins.ok()) << ins.status();
  milvus::proto::msg::InsertRequest i;
  ASSERT_TRUE(i.ParseFromString(*ins));
  EXPECT_EQ(i.base().msg_type(), milvus::proto::common::Insert);
  EXPECT_EQ(i.shardname(), "t-dml_3_42v0");
  EXPECT_EQ(i.collectionid(), 42);
  EXPECT_EQ(i.partitionid(), 43);
  EXPECT_EQ(i.partition_name(), "p1");
  EXPECT_EQ(i.num_rows(), 2u);
  ASSERT_EQ(i.timestamps_size(), 2);
  EXPECT_EQ(i.timestamps(1), ts);
  ASSERT_EQ(i.fields_data_size(), 2);
  EXPECT_EQ(i.fields_data(1).scalars().long_data().data(1), 90);
  auto del = CopyDelete(to, pk, {0, 2}, ts, CopyMsgId(ts, 0, 3));
  ASSERT_TRUE(del.ok()) << del.status();
  milvus::proto::msg::DeleteRequest d;
  ASSERT_TRUE(d.ParseFromString(*del));
  EXPECT_EQ(d.primary_keys().int_id().data(1), 9);
  EXPECT_EQ(d.timestamps(0), ts);
  EXPECT_NE(i.base().msgid(), d.base().msgid());
  EXPECT_TRUE(i.base().msgid() & (int64_t{1} << 62));
  EXPECT_NE(CopyMsgId(ts, 1, 3), CopyMsgId(ts + 1, 1, 3));
  // Two groups of one page (same shard, other partitions) never share an id: the target
  // would drop the second as a duplicate.
  std::set<int64_t> ids;
  for (int kind : {0, 1})
    for (int group = 0; group < 2048; ++group) ids.insert(CopyMsgId(ts, kind, group));
  EXPECT_EQ(ids.size(), 4096u);
}

// A replayed Insert of a copied collection becomes an upsert: the Delete of its keys, each at
// its row's own timestamp, on the Insert's shard, collection and partition.
TEST(RowCopy, TheDeleteOfAnInsertHasItsKeysAtTheirTimestamps) {
  milvus::proto::msg::InsertRequest i;
  i.mutable_base()->set_msg_type(milvus::proto::common::Insert);
  i.mutable_base()->set_msgid(470950268110776806);
  i.mutable_base()->set_timestamp(500);
  i.set_shardname("by-dev-rootcoord-dml_1_9v0");
  i.set_collectionid(9);
  i.set_partitionid(10);
  auto pk = LongColumn("id", {3, 4});
  pk.set_field_id(100);
  *i.add_fields_data() = pk;
  i.add_timestamps(498);
  i.add_timestamps(500);
  i.set_num_rows(2);
  auto del = DeleteOfInsert(i.SerializeAsString(), 100);
  ASSERT_TRUE(del.ok()) << del.status();
  milvus::proto::msg::DeleteRequest d;
  ASSERT_TRUE(d.ParseFromString(*del));
  EXPECT_EQ(d.base().msg_type(), milvus::proto::common::Delete);
  EXPECT_NE(d.base().msgid(), i.base().msgid());
  EXPECT_EQ(d.shardname(), i.shardname());
  EXPECT_EQ(d.collectionid(), 9);
  EXPECT_EQ(d.partitionid(), 10);
  ASSERT_EQ(d.primary_keys().int_id().data_size(), 2);
  EXPECT_EQ(d.timestamps(0), 498u);
  EXPECT_EQ(d.timestamps(1), 500u);
  EXPECT_FALSE(DeleteOfInsert(i.SerializeAsString(), 999).ok());  // no such key field
}

}  // namespace
}  // namespace cdc::replicate

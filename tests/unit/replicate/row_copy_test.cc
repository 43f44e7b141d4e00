// Routing of copied rows as a Milvus 2.3.5 source routes them. The key hashes below were
// checked against a real source: rows of int64 keys -5..24 and of varchar keys (also longer
// than 100 bytes) inserted into 3-shard collections landed on the vchannel these hashes pick
// (their Insert records' shardName, read from the source's Kafka topics).
#include "replicate/row_copy.h"

#include <gtest/gtest.h>

namespace cdc::replicate {
namespace {

namespace schemapb = milvus::proto::schema;

TEST(RowCopy, Murmur3MatchesTheReferenceVectors) {
  EXPECT_EQ(Murmur3_32(""), 0u);
  EXPECT_EQ(Murmur3_32("", 1), 0x514e28b7u);
  EXPECT_EQ(Murmur3_32("hello"), 0x248bfa47u);
  EXPECT_EQ(Murmur3_32("The quick brown fox jumps over the lazy dog"), 0x2e4ff723u);
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

}  // namespace
}  // namespace cdc::replicate

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "verify/key_diff.h"
#include "verify/meta_diff.h"
#include "verify/row_diff.h"
#include "verify/sha256.h"

namespace cdc::verify {
namespace {

using target::PrimaryKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace schemapb = target::schemapb;

std::vector<PrimaryKey> Ints(std::initializer_list<int64_t> v) {
  return std::vector<PrimaryKey>(v.begin(), v.end());
}

TEST(Sha256Test, KnownDigests) {
  Sha256 d;
  EXPECT_EQ(d.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  d.Update("ab");
  d.Update("c");
  EXPECT_EQ(d.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyDiffTest, DigestsTellKeyListsApart) {
  EXPECT_EQ(KeyDigest(Ints({1, 2, 3})), KeyDigest(Ints({1, 2, 3})));
  EXPECT_NE(KeyDigest(Ints({1, 2, 3})), KeyDigest(Ints({1, 2})));
  EXPECT_NE(KeyDigest(Ints({1, 2})), KeyDigest(Ints({2, 1})));
  // Lengths are part of the digest: ["ab","c"] and ["a","bc"] differ.
  EXPECT_NE(KeyDigest({PrimaryKey("ab"), PrimaryKey("c")}),
            KeyDigest({PrimaryKey("a"), PrimaryKey("bc")}));
}

TEST(KeyDiffTest, DiffOfSortedListsInKeyOrder) {
  auto d = DiffSortedKeys(Ints({1, 2, 4, 6}), Ints({2, 3, 4, 7}), 0);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].key, PrimaryKey(int64_t{1}));
  EXPECT_EQ(d[0].kind, KeyDiffKind::kMissingOnTarget);
  EXPECT_EQ(d[1].key, PrimaryKey(int64_t{3}));
  EXPECT_EQ(d[1].kind, KeyDiffKind::kExtraOnTarget);
  EXPECT_EQ(d[2].key, PrimaryKey(int64_t{6}));
  EXPECT_EQ(d[3].key, PrimaryKey(int64_t{7}));
  EXPECT_EQ(DiffSortedKeys(Ints({1, 2, 4, 6}), Ints({2, 3, 4, 7}), 2).size(), 2u);
  EXPECT_TRUE(DiffSortedKeys(Ints({1, 2}), Ints({1, 2}), 0).empty());
  EXPECT_EQ(DiffSortedKeys({}, Ints({5}), 0).size(), 1u);
}

TEST(KeyDiffTest, PersistingKeepsWhatEveryReadSaw) {
  auto first = DiffSortedKeys(Ints({1, 2, 3}), Ints({2, 9}), 0);  // 1, 3 missing; 9 extra
  auto second = DiffSortedKeys(Ints({1, 2, 3, 4}), Ints({1, 2, 4, 9, 10}), 0);  // 3; 9, 10
  auto kept = Persisting(first, second);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].key, PrimaryKey(int64_t{3}));
  EXPECT_EQ(kept[1].key, PrimaryKey(int64_t{9}));
  // The same key, the other way round, is not the same difference.
  auto flipped = DiffSortedKeys(Ints({9}), {}, 0);
  EXPECT_TRUE(Persisting(first, flipped).empty());
}

schemapb::FieldData FloatColumn(std::vector<float> v, int dim) {
  schemapb::FieldData f;
  f.set_field_name("vec");
  f.set_type(schemapb::FloatVector);
  f.mutable_vectors()->set_dim(dim);
  for (float x : v) f.mutable_vectors()->mutable_float_vector()->add_data(x);
  return f;
}

TEST(RowDiffTest, ValuesBitForBitAndJsonByValue) {
  auto a = FloatColumn({1, 2, NAN, 0.0f}, 2);
  auto b = FloatColumn({1, 2, NAN, -0.0f}, 2);
  EXPECT_TRUE(SameValue(a, 0, b, 0));
  EXPECT_FALSE(SameValue(a, 1, b, 1));  // -0.0 is not 0.0: replication copies bits
  auto nan = FloatColumn({NAN, NAN}, 2);
  EXPECT_TRUE(SameValue(nan, 0, nan, 0));

  schemapb::FieldData bin;
  bin.set_type(schemapb::BinaryVector);
  bin.mutable_vectors()->set_dim(16);
  bin.mutable_vectors()->set_binary_vector(std::string("\x01\x02\x01\x03", 4));
  EXPECT_FALSE(SameValue(bin, 0, bin, 1));
  EXPECT_TRUE(SameValue(bin, 0, bin, 0));

  schemapb::FieldData j1, j2;
  j1.set_type(schemapb::JSON);
  j2.set_type(schemapb::JSON);
  j1.mutable_scalars()->mutable_json_data()->add_data(R"({"a":1,"b":[1,2]})");
  j2.mutable_scalars()->mutable_json_data()->add_data(R"({"b": [1, 2], "a": 1})");
  j2.mutable_scalars()->mutable_json_data()->add_data(R"({"b":[2,1],"a":1})");
  EXPECT_TRUE(SameValue(j1, 0, j2, 0));
  EXPECT_FALSE(SameValue(j1, 0, j2, 1));

  schemapb::FieldData arr;
  arr.set_type(schemapb::Array);
  auto* ad = arr.mutable_scalars()->mutable_array_data();
  ad->add_data()->mutable_int_data()->add_data(1);
  ad->add_data()->mutable_int_data()->add_data(2);
  EXPECT_FALSE(SameValue(arr, 0, arr, 1));
}

TEST(RowDiffTest, RowsComparedByKeyWhateverTheOrder) {
  target::QueryResult s, t;
  auto key = [](std::vector<int64_t> ks) {
    schemapb::FieldData f;
    f.set_field_name("id");
    f.set_type(schemapb::Int64);
    for (auto k : ks) f.mutable_scalars()->mutable_long_data()->add_data(k);
    return f;
  };
  auto n = [](std::vector<int64_t> vs) {
    schemapb::FieldData f;
    f.set_field_name("n");
    f.set_type(schemapb::Int64);
    for (auto v : vs) f.mutable_scalars()->mutable_long_data()->add_data(v);
    return f;
  };
  s.fields = {key({1, 2, 3}), n({10, 20, 30})};
  s.num_rows = 3;
  t.fields = {n({30, 10, 21, 40}), key({3, 1, 2, 4})};  // other column and row order
  t.num_rows = 4;
  auto d = CompareRows(s, t, "id", 0);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].key, PrimaryKey(int64_t{2}));
  EXPECT_EQ((*d)[0].kind, KeyDiffKind::kValuesDiffer);
  EXPECT_EQ((*d)[0].detail, "fields n");
  EXPECT_EQ((*d)[1].key, PrimaryKey(int64_t{4}));
  EXPECT_EQ((*d)[1].kind, KeyDiffKind::kExtraOnTarget);
  t.fields = {key({1, 2, 3})};  // the target answer lacks n
  d = CompareRows(s, t, "id", 1);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].detail, "fields n");
}

CollectionMeta Meta() {
  CollectionMeta m;
  m.exists = true;
  auto* f = m.desc.schema.add_fields();
  f->set_name("id");
  f->set_fieldid(100);
  f->set_data_type(schemapb::Int64);
  f->set_is_primary_key(true);
  m.desc.schema.set_enable_dynamic_field(true);
  m.desc.shards_num = 2;
  m.partitions = {"_default"};
  m.load = target::commonpb::LoadStateLoaded;
  m.partition_load["_default"] = target::commonpb::LoadStateLoaded;
  return m;
}

TEST(MetaDiffTest, EqualAndWhatIsIgnored) {
  auto a = Meta(), b = Meta();
  b.desc.id = 99;  // the target's own ids and channels
  b.desc.vchannels = {"x"};
  auto* meta = b.desc.schema.add_fields();  // a peer that shows the dynamic field
  meta->set_name("$meta");
  meta->set_is_dynamic(true);
  EXPECT_TRUE(CompareMeta(a, b).empty());
}

TEST(MetaDiffTest, EachAspectNamesBothSides) {
  auto a = Meta(), b = Meta();
  b.desc.shards_num = 1;
  b.desc.schema.set_enable_dynamic_field(false);
  b.desc.schema.mutable_fields(0)->set_fieldid(101);
  b.desc.properties["collection.ttl.seconds"] = "60";
  b.partition_load["_default"] = target::commonpb::LoadStateLoading;
  b.load = target::commonpb::LoadStateLoading;
  target::IndexInfo idx;
  idx.index_name = "i";
  idx.field_name = "id";
  b.indexes.push_back(idx);
  std::vector<std::string> got;
  for (const auto& d : CompareMeta(a, b)) got.push_back(d.aspect + ": " + d.detail);
  EXPECT_THAT(
      got, ElementsAre("schema: enable_dynamic_field: true on the source, false on the target",
                       "schema: field 0 (id) field id: 100 on the source, 101 on the target",
                       "schema: shards_num: 2 on the source, 1 on the target",
                       "schema: properties: {} on the source, {collection.ttl.seconds=60} on the "
                       "target",
                       "indexes: index i on field id only on the target",
                       "load_state: collection: Loaded on the source, Loading on the target",
                       "load_state: partition _default: Loaded on the source, Loading on the "
                       "target"));
}

}  // namespace
}  // namespace cdc::verify

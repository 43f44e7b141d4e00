// The version 1 envelope: every field type's value encoding, inserts, deletes (int64 and
// varchar keys) and create_collection.
#include "sink/envelope.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace cdc::sink {
namespace {

namespace schemapb = ::milvus::proto::schema;
namespace msgpb = ::milvus::proto::msg;
using json = nlohmann::json;

schemapb::FieldData Column(schemapb::DataType type, const std::string& name) {
  schemapb::FieldData f;
  f.set_type(type);
  f.set_field_name(name);
  return f;
}

json Value(const schemapb::FieldData& f, int64_t row) {
  auto v = FieldValue(f, row);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : json();
}

TEST(EnvelopeTest, ScalarValues) {
  auto b = Column(schemapb::Bool, "b");
  b.mutable_scalars()->mutable_bool_data()->add_data(false);
  b.mutable_scalars()->mutable_bool_data()->add_data(true);
  EXPECT_EQ(Value(b, 1), json(true));
  for (auto t : {schemapb::Int8, schemapb::Int16, schemapb::Int32}) {
    auto i = Column(t, "i");
    i.mutable_scalars()->mutable_int_data()->add_data(-7);
    EXPECT_EQ(Value(i, 0), json(-7)) << schemapb::DataType_Name(t);
  }
  auto l = Column(schemapb::Int64, "l");
  l.mutable_scalars()->mutable_long_data()->add_data(int64_t{1} << 60);
  EXPECT_EQ(Value(l, 0), json(int64_t{1} << 60));
  auto f = Column(schemapb::Float, "f");
  f.mutable_scalars()->mutable_float_data()->add_data(1.5F);
  EXPECT_EQ(Value(f, 0), json(1.5));
  auto d = Column(schemapb::Double, "d");
  d.mutable_scalars()->mutable_double_data()->add_data(-2.25);
  EXPECT_EQ(Value(d, 0), json(-2.25));
  auto s = Column(schemapb::VarChar, "s");
  s.mutable_scalars()->mutable_string_data()->add_data("héllo");
  EXPECT_EQ(Value(s, 0), json("héllo"));
}

TEST(EnvelopeTest, JsonAndArrayValues) {
  auto j = Column(schemapb::JSON, "j");
  j.mutable_scalars()->mutable_json_data()->add_data(R"({"a":[1,2],"b":"x"})");
  j.mutable_scalars()->mutable_json_data()->add_data("not json");
  EXPECT_EQ(Value(j, 0), json::parse(R"({"a":[1,2],"b":"x"})"));
  EXPECT_EQ(Value(j, 1), json("not json"));  // kept as text

  auto a = Column(schemapb::Array, "a");
  auto* arr = a.mutable_scalars()->mutable_array_data();
  arr->set_element_type(schemapb::Int64);
  arr->add_data()->mutable_long_data()->add_data(3);
  arr->mutable_data(0)->mutable_long_data()->add_data(4);
  auto* strs = arr->add_data()->mutable_string_data();
  strs->add_data("p");
  EXPECT_EQ(Value(a, 0), json({3, 4}));
  EXPECT_EQ(Value(a, 1), json({"p"}));
  EXPECT_EQ(FieldDescription(a)["element_type"], "Int64");
}

TEST(EnvelopeTest, VectorValues) {
  auto fv = Column(schemapb::FloatVector, "v");
  fv.mutable_vectors()->set_dim(2);
  for (float x : {0.5F, 1.0F, -1.0F, 2.0F})
    fv.mutable_vectors()->mutable_float_vector()->add_data(x);
  EXPECT_EQ(Value(fv, 1), json({-1.0, 2.0}));
  EXPECT_EQ(FieldDescription(fv), json({{"name", "v"}, {"type", "FloatVector"}, {"dim", 2}}));
  EXPECT_FALSE(FieldValue(fv, 2).ok());  // only two rows

  auto bv = Column(schemapb::BinaryVector, "bv");
  bv.mutable_vectors()->set_dim(16);
  bv.mutable_vectors()->set_binary_vector(std::string("\x01\x02\xff\x00", 4));
  EXPECT_EQ(Value(bv, 1), json("/wA="));  // bytes ff 00

  auto hv = Column(schemapb::Float16Vector, "hv");
  hv.mutable_vectors()->set_dim(1);
  hv.mutable_vectors()->set_float16_vector(std::string("\x00\x3c", 2));
  EXPECT_EQ(Value(hv, 0), json("ADw="));
  auto bf = Column(schemapb::BFloat16Vector, "bf");
  bf.mutable_vectors()->set_dim(1);
  bf.mutable_vectors()->set_bfloat16_vector(std::string("\x80\x3f", 2));
  EXPECT_EQ(Value(bf, 0), json("gD8="));

  auto sp = Column(schemapb::SparseFloatVector, "sp");
  std::string row(8, '\0');
  const uint32_t index = 7;
  const float value = 0.25F;
  std::memcpy(row.data(), &index, 4);
  std::memcpy(row.data() + 4, &value, 4);
  sp.mutable_vectors()->mutable_sparse_float_vector()->add_contents(row);
  EXPECT_EQ(Value(sp, 0), json({{"7", 0.25}}));
}

TEST(EnvelopeTest, MissingRowAndUnknownTypeAreErrors) {
  auto l = Column(schemapb::Int64, "l");
  auto r = FieldValue(l, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("field l"), std::string::npos);
  auto none = Column(schemapb::None, "n");
  EXPECT_FALSE(FieldValue(none, 0).ok());
}

msgpb::InsertRequest TwoRowInsert() {
  msgpb::InsertRequest req;
  req.mutable_base()->set_timestamp(0);  // as a 2.3 upsert writes it
  req.set_db_name("db1");
  req.set_collection_name("c");
  req.set_partition_name("p1");
  req.set_num_rows(2);
  req.add_timestamps(uint64_t{1000} << 18);
  req.add_timestamps((uint64_t{1001} << 18) | 3);
  auto* id = req.add_fields_data();
  *id = Column(schemapb::Int64, "id");
  id->mutable_scalars()->mutable_long_data()->add_data(10);
  id->mutable_scalars()->mutable_long_data()->add_data(11);
  auto* meta = req.add_fields_data();
  *meta = Column(schemapb::JSON, "$meta");
  meta->set_is_dynamic(true);
  meta->mutable_scalars()->mutable_json_data()->add_data(R"({"k":1})");
  meta->mutable_scalars()->mutable_json_data()->add_data("{}");
  return req;
}

TEST(EnvelopeTest, Insert) {
  auto e = InsertEnvelope(TwoRowInsert(), SourcePosition{"by-dev-rootcoord-dml_0", "\x01\x02"});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ((*e)["version"], 1);
  EXPECT_EQ((*e)["op"], "insert");
  EXPECT_EQ((*e)["database"], "db1");
  EXPECT_EQ((*e)["collection"], "c");
  EXPECT_EQ((*e)["partition"], "p1");
  EXPECT_EQ((*e)["ts"], (uint64_t{1001} << 18) | 3);  // the latest row's
  EXPECT_EQ((*e)["time_ms"], 1001);
  EXPECT_EQ((*e)["position"], json({{"channel", "by-dev-rootcoord-dml_0"}, {"msg_id", "AQI="}}));
  EXPECT_EQ((*e)["fields"][1], json({{"name", "$meta"}, {"type", "JSON"}, {"dynamic", true}}));
  EXPECT_EQ((*e)["rows"], json::parse(R"([{"id":10,"$meta":{"k":1}},{"id":11,"$meta":{}}])"));
}

TEST(EnvelopeTest, InsertWithAShortColumnIsAnError) {
  auto req = TwoRowInsert();
  req.set_num_rows(3);
  EXPECT_FALSE(InsertEnvelope(req, std::nullopt).ok());
}

TEST(EnvelopeTest, DeleteInt64AndVarCharKeys) {
  msgpb::DeleteRequest req;
  req.set_collection_name("c");  // db "" is the default database
  req.add_timestamps(uint64_t{5} << 18);
  req.mutable_primary_keys()->mutable_int_id()->add_data(10);
  req.mutable_primary_keys()->mutable_int_id()->add_data(12);
  auto e = DeleteEnvelope(req, std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["op"], "delete");
  EXPECT_EQ((*e)["database"], "default");
  EXPECT_EQ((*e)["pk_type"], "Int64");
  EXPECT_EQ((*e)["primary_keys"], json({10, 12}));
  EXPECT_TRUE((*e)["position"].is_null());

  req.mutable_primary_keys()->mutable_str_id()->add_data("a");
  e = DeleteEnvelope(req, std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["pk_type"], "VarChar");
  EXPECT_EQ((*e)["primary_keys"], json({"a"}));

  msgpb::DeleteRequest old;  // keys only in the deprecated field
  old.add_int64_primary_keys(4);
  e = DeleteEnvelope(old, std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["primary_keys"], json({4}));
}

TEST(EnvelopeTest, CreateCollection) {
  schemapb::CollectionSchema schema;
  schema.set_description("d");
  schema.set_enable_dynamic_field(true);
  auto* pk = schema.add_fields();
  pk->set_name("id");
  pk->set_data_type(schemapb::VarChar);
  pk->set_is_primary_key(true);
  auto* ml = pk->add_type_params();
  ml->set_key("max_length");
  ml->set_value("64");
  auto* arr = schema.add_fields();
  arr->set_name("tags");
  arr->set_data_type(schemapb::Array);
  arr->set_element_type(schemapb::Int32);
  ::milvus::proto::milvus::CreateCollectionRequest req;
  req.set_collection_name("c");
  req.set_schema(schema.SerializeAsString());
  req.set_shards_num(2);
  req.set_consistency_level(::milvus::proto::common::Bounded);
  auto* ttl = req.add_properties();
  ttl->set_key("collection.ttl.seconds");
  ttl->set_value("60");
  auto e = CreateCollectionEnvelope("", req, uint64_t{7} << 18);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["op"], "create_collection");
  EXPECT_EQ((*e)["shards_num"], 2);
  EXPECT_EQ((*e)["consistency_level"], "Bounded");
  EXPECT_EQ((*e)["properties"], json({{"collection.ttl.seconds", "60"}}));
  EXPECT_EQ((*e)["schema"]["enable_dynamic_field"], true);
  EXPECT_EQ((*e)["schema"]["fields"][0],
            json::parse(R"({"name":"id","type":"VarChar","primary_key":true,"auto_id":false,
                            "partition_key":false,"params":{"max_length":"64"}})"));
  EXPECT_EQ((*e)["schema"]["fields"][1]["element_type"], "Int32");

  req.set_schema("\xff");
  EXPECT_FALSE(CreateCollectionEnvelope("", req, 1).ok());
}

}  // namespace
}  // namespace cdc::sink

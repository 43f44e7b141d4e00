#include "target/grpc_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "target/grpc_client.h"
#include "target/pk_pager.h"
#include "target/primary_key.h"
#include "unit/target/fake_milvus.h"

namespace cdc::target {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace mpb = ::milvus::proto::milvus;

ConnectOptions SourceOptions(const std::string& addr) {
  ConnectOptions o;
  o.uri = "http://" + addr;
  o.connect_timeout_s = 5;
  o.names = {"source", "sourceConfig.milvus"};
  return o;
}

class GrpcReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    addr_ = fake_.Start();
    auto r = ConnectGrpcReader(SourceOptions(addr_));
    ASSERT_TRUE(r.ok()) << r.status();
    reader_ = std::move(*r);
  }

  // Creates a collection (pk Int64 "id", vector "vec") through the writing client.
  void CreateCollection(const std::string& name) {
    ConnectOptions o = SourceOptions(addr_);
    auto c = ConnectGrpcClient(o);
    ASSERT_TRUE(c.ok()) << c.status();
    schemapb::CollectionSchema s;
    s.set_name(name);
    auto* pk = s.add_fields();
    pk->set_name("id");
    pk->set_fieldid(100);
    pk->set_data_type(schemapb::Int64);
    pk->set_is_primary_key(true);
    auto* vec = s.add_fields();
    vec->set_name("vec");
    vec->set_fieldid(101);
    vec->set_data_type(schemapb::FloatVector);
    mpb::CreateCollectionRequest req;
    req.set_collection_name(name);
    req.set_schema(s.SerializeAsString());
    req.set_shards_num(2);
    ASSERT_TRUE((*c)->CreateCollection("default", req, 1).ok());
    writer_ = std::move(*c);
  }

  cdc::testing::FakeMilvus fake_;
  std::string addr_;
  std::unique_ptr<GrpcReader> reader_;
  std::unique_ptr<GrpcClient> writer_;
};

TEST(GrpcReaderConnectTest, ErrorsNameTheSourceAndItsSettings) {
  ConnectOptions o = SourceOptions("127.0.0.1:1");
  o.connect_timeout_s = 1;
  auto r = ConnectGrpcReader(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("connect to milvus source 127.0.0.1:1"));
  EXPECT_THAT(r.status().message(), HasSubstr("check sourceConfig.milvus.uri"));
  o.uri = "ftp://x:1";
  r = ConnectGrpcReader(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("sourceConfig.milvus.uri"));
  o.uri = "https://x:1";
  o.ca_pem_path = "/nonexistent/ca.pem";
  r = ConnectGrpcReader(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("sourceConfig.milvus.dial_config.ca_pem_path"));
}

TEST_F(GrpcReaderTest, DescribesCollectionsWithSchemaPartitionsIndexesAndLoadState) {
  CreateCollection("books");
  EXPECT_EQ(reader_->Describe(), "milvus source " + addr_);
  auto t1 = reader_->AllocTimestamp();
  auto t2 = reader_->AllocTimestamp();
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_LT(*t1, *t2);
  auto names = reader_->ListCollections("default");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("books"));
  auto d = reader_->DescribeCollection("default", "books");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "books");
  ASSERT_NE(d->PrimaryKey(), nullptr);
  EXPECT_EQ(d->PrimaryKey()->name(), "id");
  EXPECT_EQ(d->schema.fields_size(), 2);
  EXPECT_EQ(d->vchannels.size(), 2u);

  auto missing = reader_->DescribeCollection("default", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("milvus source " + addr_));

  auto none = reader_->DescribeIndexes("default", "books");
  ASSERT_TRUE(none.ok()) << none.status();  // 700 "index not found": no index
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(reader_->DescribeIndexes("default", "nope").status().code(),
            StatusCode::kNotFound);  // 100: the collection is missing
  mpb::CreateIndexRequest ci;
  ci.set_collection_name("books");
  ci.set_field_name("vec");
  ci.set_index_name("vec_idx");
  auto* kv = ci.add_extra_params();
  kv->set_key("index_type");
  kv->set_value("FLAT");
  ASSERT_TRUE(writer_->CreateIndex("default", ci, 2).ok());
  auto idx = reader_->DescribeIndexes("default", "books");
  ASSERT_TRUE(idx.ok()) << idx.status();
  ASSERT_EQ(idx->size(), 1u);
  EXPECT_EQ((*idx)[0].index_name, "vec_idx");
  EXPECT_EQ((*idx)[0].field_name, "vec");
  EXPECT_EQ((*idx)[0].params.at("index_type"), "FLAT");

  auto parts = reader_->ShowPartitions("default", "books");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->size(), 1u);
  auto state = reader_->GetLoadState("default", "books", {});
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, commonpb::LoadStateNotLoad);
}

TEST_F(GrpcReaderTest, QueryAsksWhatItIsToldAndCountsRows) {
  mpb::QueryRequest seen;
  fake_.set_query_handler([&seen](const mpb::QueryRequest& req) {
    seen = req;
    mpb::QueryResults r;
    auto* f = r.add_fields_data();
    f->set_field_name(
        req.output_fields_size() == 1 && req.output_fields(0) == "count(*)" ? "count(*)" : "id");
    f->set_type(schemapb::Int64);
    for (int64_t v : {3, 4, 5}) f->mutable_scalars()->mutable_long_data()->add_data(v);
    if (f->field_name() == "count(*)")
      f->mutable_scalars()->mutable_long_data()->mutable_data()->Truncate(1);
    return r;
  });
  QueryRequest q;
  q.db = "db1";
  q.collection = "books";
  q.expr = "id > 2";
  q.output_fields = {"id"};
  q.partition_names = {"p1"};
  q.limit = 100;
  q.consistency = ReadConsistency::AtLeast(12345);
  auto r = reader_->Query(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_rows, 3);
  ASSERT_NE(r->Field("id"), nullptr);
  EXPECT_EQ(seen.expr(), "id > 2");
  EXPECT_EQ(seen.partition_names(0), "p1");
  EXPECT_EQ(seen.consistency_level(), commonpb::Customized);
  EXPECT_EQ(seen.guarantee_timestamp(), 12345u);
  EXPECT_FALSE(seen.use_default_consistency());
  ASSERT_EQ(seen.query_params_size(), 1);
  EXPECT_EQ(seen.query_params(0).key(), "limit");
  EXPECT_EQ(seen.query_params(0).value(), "100");
  EXPECT_EQ(fake_.CallsOf("Query").back().dbname, "db1");

  q.limit = kMaxQueryWindow + 1;
  EXPECT_EQ(reader_->Query(q).status().code(), StatusCode::kInvalidArgument);

  auto n = reader_->Count("db1", "books", "", {}, ReadConsistency::Strong());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(seen.consistency_level(), commonpb::Strong);
  EXPECT_EQ(seen.guarantee_timestamp(), 0u);
  EXPECT_EQ(seen.query_params_size(), 0);
}

TEST_F(GrpcReaderTest, NotLoadedIsFailedPrecondition) {
  cdc::testing::FakeMilvus::Failure f;
  f.milvus_code = 101;
  f.reason = "collection not loaded[collection=5]";
  fake_.FailNext("Query", 1, f);
  fake_.set_query_handler([](const mpb::QueryRequest&) { return mpb::QueryResults(); });
  QueryRequest q;
  q.collection = "books";
  q.expr = "id > 0";
  auto r = reader_->Query(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("not loaded"));
}

// A fake that answers `id > A && id <= B` with a limit the way Milvus does: the smallest keys.
mpb::QueryResults AnswerRange(const std::vector<int64_t>& keys, const mpb::QueryRequest& req,
                              bool reversed) {
  static const std::regex kAfter(R"(id > (-?\d+))"), kUpto(R"(id <= (-?\d+))");
  std::smatch m;
  int64_t after = INT64_MIN, upto = INT64_MAX, limit = INT64_MAX;
  if (std::regex_search(req.expr(), m, kAfter)) after = std::stoll(m[1]);
  if (std::regex_search(req.expr(), m, kUpto)) upto = std::stoll(m[1]);
  for (const auto& kv : req.query_params())
    if (kv.key() == "limit") limit = std::stoll(kv.value());
  mpb::QueryResults r;
  auto* f = r.add_fields_data();
  f->set_field_name("id");
  f->set_type(schemapb::Int64);
  auto* data = f->mutable_scalars()->mutable_long_data();
  for (int64_t k : keys) {
    if (k <= after || k > upto) continue;
    if (data->data_size() >= limit) break;
    data->add_data(k);
  }
  if (reversed) std::reverse(data->mutable_data()->begin(), data->mutable_data()->end());
  return r;
}

TEST_F(GrpcReaderTest, PkPagerPagesInKeyOrderWithinARange) {
  std::vector<int64_t> keys;
  for (int64_t k = -5; k < 40000; k += 1) keys.push_back(k);
  fake_.set_query_handler(
      [&keys](const mpb::QueryRequest& req) { return AnswerRange(keys, req, false); });
  PkPagerOptions o;
  o.collection = "books";
  o.pk_field = "id";
  PkPager pager(reader_.get(), o);
  std::vector<size_t> sizes;
  int64_t next = -5;
  while (!pager.done()) {
    auto page = pager.Next();
    ASSERT_TRUE(page.ok()) << page.status();
    sizes.push_back(page->keys.size());
    for (const auto& k : page->keys) EXPECT_EQ(std::get<int64_t>(k), next++);
  }
  EXPECT_THAT(sizes, ElementsAre(16384, 16384, 7237));
  EXPECT_EQ(std::get<int64_t>(*pager.cursor()), 39999);

  o.after = PrimaryKey(int64_t{100});
  o.upto = PrimaryKey(int64_t{150});
  o.page_size = 20;
  PkPager range(reader_.get(), o);
  std::vector<size_t> range_sizes;
  while (!range.done()) {
    auto page = range.Next();
    ASSERT_TRUE(page.ok()) << page.status();
    range_sizes.push_back(page->keys.size());
  }
  EXPECT_THAT(range_sizes, ElementsAre(20, 20, 10));
  EXPECT_EQ(fake_.CallsOf("Query").size(), 6u);
}

TEST_F(GrpcReaderTest, PkPagerStopsOnKeysOutOfOrder) {
  std::vector<int64_t> keys = {1, 2, 3, 4};
  fake_.set_query_handler(
      [&keys](const mpb::QueryRequest& req) { return AnswerRange(keys, req, true); });
  PkPagerOptions o;
  o.collection = "books";
  o.pk_field = "id";
  PkPager pager(reader_.get(), o);
  auto page = pager.Next();
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInternal);
  EXPECT_THAT(page.status().message(), HasSubstr("out of ascending order"));
}

TEST(PrimaryKeyTest, LiteralsAndExpressions) {
  EXPECT_EQ(KeyLiteral(PrimaryKey(int64_t{-7})), "-7");
  EXPECT_EQ(KeyLiteral(PrimaryKey(std::string("a\"b\\c\n"))), R"("a\"b\\c\x0a")");
  EXPECT_EQ(KeyText(PrimaryKey(std::string("a\"b"))), "a\"b");
  EXPECT_EQ(RangeExpr("id", std::nullopt, std::nullopt), "");
  EXPECT_EQ(RangeExpr("id", PrimaryKey(int64_t{1}), std::nullopt), "id > 1");
  EXPECT_EQ(RangeExpr("id", std::nullopt, PrimaryKey(int64_t{9})), "id <= 9");
  EXPECT_EQ(RangeExpr("pk", PrimaryKey(std::string("a")), PrimaryKey(std::string("b"))),
            R"(pk > "a" && pk <= "b")");
  EXPECT_EQ(InExpr("id", {PrimaryKey(int64_t{1}), PrimaryKey(int64_t{2})}), "id in [1, 2]");
  schemapb::FieldData f;
  f.set_type(schemapb::VarChar);
  f.mutable_scalars()->mutable_string_data()->add_data("x");
  auto keys = KeysOf(f);
  ASSERT_TRUE(keys.ok());
  EXPECT_THAT(*keys, ElementsAre(PrimaryKey(std::string("x"))));
  schemapb::FieldData bad;
  bad.set_field_name("score");
  bad.set_type(schemapb::Float);
  EXPECT_EQ(KeysOf(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdc::target

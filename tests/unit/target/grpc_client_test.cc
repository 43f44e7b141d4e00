#include "target/grpc_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "target/status_map.h"
#include "unit/target/fake_milvus.h"

namespace cdc::target {
namespace {

using ::testing::HasSubstr;
using testing_fake = ::cdc::testing::FakeMilvus;

class GrpcClientTest : public ::testing::Test {
 protected:
  void SetUp() override { addr_ = fake_.Start(); }

  std::unique_ptr<GrpcClient> Connect(std::string token = "", int attempts = 3) {
    ConnectOptions o;
    o.uri = "http://" + addr_;
    o.token = token;
    o.connect_timeout_s = 5;
    o.max_attempts = attempts;
    o.replicate_channel = testing_fake::kReplicateChannel;
    auto c = ConnectGrpcClient(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  testing_fake fake_;
  std::string addr_;
};

TEST_F(GrpcClientTest, VersionAndTokenAsBase64AuthorizationMetadata) {
  auto c = Connect("root:Milvus");
  auto v = c->GetVersion();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "v2.3.9-fake");
  auto calls = fake_.CallsOf("GetVersion");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].authorization, "cm9vdDpNaWx2dXM=");  // base64("root:Milvus")
  EXPECT_EQ(c->Describe(), "milvus target " + addr_);
}

TEST_F(GrpcClientTest, NoTokenSendsNoAuthorization) {
  auto c = Connect();
  ASSERT_TRUE(c->GetVersion().ok());
  EXPECT_EQ(fake_.CallsOf("GetVersion")[0].authorization, "");
}

TEST_F(GrpcClientTest, ReadinessProbeRefusesNormalInstanceAtOnce) {
  fake_.set_tt_msg_enabled(true);
  auto c = Connect();
  auto r = c->CheckReplicationReady();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("common.ttMsgEnabled: false"));
  EXPECT_THAT(r.status().message(), HasSubstr("1900"));
  EXPECT_THAT(r.status().message(), HasSubstr(addr_));
  EXPECT_EQ(fake_.CallsOf("ReplicateMessage").size(), 1u);  // not retried
}

TEST_F(GrpcClientTest, ReadinessProbeReturnsPositionOnReplicationTarget) {
  auto c = Connect();
  auto r = c->CheckReplicationReady();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->empty());
  EXPECT_TRUE(fake_.Replicated().empty());  // the probe writes nothing
}

TEST_F(GrpcClientTest, DdlCarriesReplicateInfoAndDatabase) {
  auto c = Connect();
  ASSERT_TRUE(c->CreateDatabase("db1", 11).ok());
  milvuspb::CreateCollectionRequest req;
  req.set_collection_name("c1");
  req.set_shards_num(2);
  ASSERT_TRUE(c->CreateCollection("db1", req, 42).ok());
  auto calls = fake_.CallsOf("CreateCollection");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].dbname, "db1");
  EXPECT_TRUE(calls[0].is_replicate);
  EXPECT_EQ(calls[0].replicate_ts, 42u);
  auto info = c->DescribeCollection("db1", "c1");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->vchannels.size(), 2u);
  EXPECT_EQ(info->pchannels.size(), 2u);
}

// Seen in the randomized e2e test after a kill -9: the replayed LoadCollection of a collection
// loaded and indexed since is refused by Milvus 2.3 with code 1100; it is loaded: done.
TEST_F(GrpcClientTest, ReplayedLoadOfACollectionIndexedSinceIsDone) {
  auto c = Connect();
  fake_.FailNext(
      "LoadCollection", 1,
      {grpc::StatusCode::OK, 1100,
       "can't change the index for loaded collection: invalid parameter[expected=map[102:"
       "1]][actual=map[100:2 102:1]]"});
  milvuspb::LoadCollectionRequest req;
  req.set_collection_name("c1");
  EXPECT_TRUE(c->LoadCollection("default", req, 5).ok());
  fake_.FailNext("LoadCollection", 1, {grpc::StatusCode::OK, 1100, "invalid parameter[x]"});
  EXPECT_FALSE(c->LoadCollection("default", req, 6).ok());
}

TEST_F(GrpcClientTest, ReplayedDdlIsSuccess) {
  auto c = Connect();
  milvuspb::CreateCollectionRequest req;
  req.set_collection_name("c1");
  ASSERT_TRUE(c->CreateCollection("default", req, 1).ok());
  ASSERT_TRUE(c->CreatePartition("default", "c1", "p1", 2).ok());
  EXPECT_TRUE(c->CreatePartition("default", "c1", "p1", 2).ok());  // already exists
  EXPECT_TRUE(c->CreateDatabase("default", 3).ok());               // already exists
  EXPECT_TRUE(c->DropPartition("default", "c1", "nope", 4).ok());  // not found
  EXPECT_TRUE(c->DropCollection("default", "gone", 5).ok());       // not found
  EXPECT_TRUE(c->DropDatabase("gone", 6).ok());                    // not found
}

TEST_F(GrpcClientTest, DescribeMissingCollectionIsNotFound) {
  auto c = Connect();
  auto r = c->DescribeCollection("default", "missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("DescribeCollection db=default collection=missing"));
}

TEST_F(GrpcClientTest, RetryableFailuresAreRetried) {
  auto c = Connect("", 3);
  fake_.FailNext("ListDatabases", 2, {grpc::StatusCode::OK, 2 | kMilvusRetryableFlag, "busy"});
  auto r = c->ListDatabases();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(fake_.CallsOf("ListDatabases").size(), 3u);
}

TEST_F(GrpcClientTest, RetriesAreBoundedAndReportTheTarget) {
  auto c = Connect("", 2);
  fake_.FailNext("ListDatabases", 5, {grpc::StatusCode::UNAVAILABLE, 0, "overloaded"});
  auto r = c->ListDatabases();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("milvus target " + addr_));
  EXPECT_EQ(fake_.CallsOf("ListDatabases").size(), 2u);
}

// A call without an answer is named, with since when, once it has waited long enough.
TEST_F(GrpcClientTest, WaitingNamesTheOldestCallWithoutAnswer) {
  auto c = Connect("", 1);
  EXPECT_EQ(c->Waiting(std::chrono::seconds(0)), "");
  fake_.FailNext("ListDatabases", 1, {.reason = "", .delay = std::chrono::milliseconds(1500)});
  std::thread slow([&] { EXPECT_TRUE(c->ListDatabases().ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(c->Waiting(std::chrono::seconds(5)), "");  // not that long yet
  const std::string waiting = c->Waiting(std::chrono::seconds(1));
  EXPECT_THAT(waiting, HasSubstr("milvus target " + addr_ + ": ListDatabases"));
  EXPECT_THAT(waiting, HasSubstr("(no answer since "));
  EXPECT_THAT(waiting, HasSubstr(" UTC)"));
  slow.join();
  EXPECT_EQ(c->Waiting(std::chrono::seconds(0)), "");  // answered
}

TEST_F(GrpcClientTest, NonRetryableFailureIsNotRetried) {
  auto c = Connect("", 3);
  fake_.FailNext("CreateIndex", 1, {grpc::StatusCode::OK, 1100, "invalid parameter"});
  milvuspb::CreateIndexRequest req;
  req.set_collection_name("c1");
  Status s = c->CreateIndex("default", req, 9);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_.CallsOf("CreateIndex").size(), 1u);
}

TEST(GrpcClientConnect, UnreachableTargetIsUnavailableNamingUri) {
  ConnectOptions o;
  o.uri = "http://127.0.0.1:1";
  o.connect_timeout_s = 1;
  auto c = ConnectGrpcClient(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(), HasSubstr("127.0.0.1:1"));
}

TEST(GrpcClientConnect, MissingTlsFileIsInvalidArgumentNamingKey) {
  ConnectOptions o;
  o.uri = "https://127.0.0.1:19530";
  o.server_pem_path = "/nonexistent/server.pem";
  auto c = ConnectGrpcClient(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("server_pem_path"));
}

TEST(GrpcClientConnect, HalfMutualTlsIsInvalidArgument) {
  ConnectOptions o;
  o.uri = "https://127.0.0.1:19530";
  o.client_pem_path = "/x.pem";
  auto c = ConnectGrpcClient(o);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("client_key_path"));
}

TEST(StatusMap, MilvusCodes) {
  ::milvus::proto::common::Status st;
  EXPECT_TRUE(FromMilvusStatus("x", st).ok());
  st.set_code(1 | kMilvusRetryableFlag);
  st.set_reason("service not ready");
  EXPECT_EQ(FromMilvusStatus("x", st).code(), StatusCode::kUnavailable);
  st.set_code(100);
  EXPECT_EQ(FromMilvusStatus("x", st).code(), StatusCode::kNotFound);
  st.set_code(500);  // a channel the datanode does not watch yet: wait, it is not gone
  st.set_reason("channel not found[channel=by-dev-rootcoord-dml_0_1v0]");
  EXPECT_EQ(FromMilvusStatus("x", st).code(), StatusCode::kUnavailable);
  st.set_reason("");
  st.set_code(0);
  st.set_error_code(::milvus::proto::common::CollectionNotExists);
  EXPECT_EQ(FromMilvusStatus("x", st).code(), StatusCode::kNotFound);
  st.set_error_code(::milvus::proto::common::UnexpectedError);
  st.set_reason("database already exist: d");
  EXPECT_EQ(FromMilvusStatus("x", st).code(), StatusCode::kAlreadyExists);
  st.set_code(1400);
  st.set_reason("not authenticated");
  Status s = FromMilvusStatus("milvus target h:1: GetVersion", st);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("check the token"));
}

}  // namespace
}  // namespace cdc::target

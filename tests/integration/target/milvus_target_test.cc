// target::GrpcClient against the real Milvus pair of scripts/e2e-env.sh: the target
// (ttMsgEnabled false) accepts replication, the source (a normal instance) is refused with the
// hint, replayed DDL is idempotent. Skips when CDC_TEST_MILVUS_TARGET is unset.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "replicate/wire_rewrite.h"
#include "target/grpc_client.h"

namespace cdc::target {
namespace {

using ::testing::HasSubstr;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A hybrid timestamp of now: a target with ttMsgEnabled false refuses DDL without one ("the
// cdc timestamp is not set in the request for the backup instance", code 1100).
uint64_t Now() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<uint64_t>(ms) << 18;
}

std::unique_ptr<GrpcClient> Connect(const std::string& addr, const std::string& prefix) {
  ConnectOptions o;
  o.uri = "http://" + addr;
  o.replicate_channel = prefix + "-replicate-msg";
  auto c = ConnectGrpcClient(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

// What milvus-cdc does after creating a collection: a time tick on each of its channels. The
// target's datanode sets its watch of a new channel up only after a tick there that is not
// older than the collection, and it sets watches up one at a time: a channel left silent would
// hold back every later collection's watch (and Flush) for 5 minutes.
void TickChannels(GrpcClient& c, const std::vector<std::string>& pchannels) {
  for (const auto& ch : pchannels) {
    const uint64_t ts = Now();
    milvuspb::ReplicateMessageRequest req;
    req.mutable_base()->mutable_replicateinfo()->set_isreplicate(true);
    req.set_channel_name(ch);
    req.set_begints(ts);
    req.set_endts(ts);
    req.add_msgs(replicate::MakeTimeTick(ts));
    for (auto* p : {req.add_startpositions(), req.add_endpositions()}) {
      p->set_channel_name(ch);
      p->set_timestamp(ts);
    }
    auto pos = c.ReplicateMessage(req);
    EXPECT_TRUE(pos.ok()) << ch << ": " << pos.status();
  }
}

TEST(MilvusTarget, ReadinessAndIdempotentDdl) {
  const std::string target = Env("CDC_TEST_MILVUS_TARGET");
  if (target.empty()) GTEST_SKIP() << "CDC_TEST_MILVUS_TARGET unset (scripts/e2e-env.sh up)";
  // Probe a channel that is not the target's own replicate channel (as the server does): a
  // probe of the target's own channel before its topic exists makes the target's Kafka client
  // remember "unknown partition" for minutes, which would break later users of that channel.
  auto c = Connect(target, "cdc-it-probe");
  ASSERT_NE(c, nullptr);
  auto v = c->GetVersion();
  ASSERT_TRUE(v.ok()) << v.status();
  auto ready = c->CheckReplicationReady();
  ASSERT_TRUE(ready.ok()) << ready.status();

  const std::string name = "it_target_" + std::to_string(std::random_device{}());
  milvuspb::CreateCollectionRequest req;
  req.set_collection_name(name);
  // schema: pk Int64 (id 100, primary) + FloatVector dim 4 (id 101), serialized by hand
  // through the generated types of schema.proto.
  ::milvus::proto::schema::CollectionSchema schema;
  schema.set_name(name);
  auto* pk = schema.add_fields();
  pk->set_fieldid(100);
  pk->set_name("id");
  pk->set_is_primary_key(true);
  pk->set_data_type(::milvus::proto::schema::Int64);
  auto* vec = schema.add_fields();
  vec->set_fieldid(101);
  vec->set_name("vec");
  vec->set_data_type(::milvus::proto::schema::FloatVector);
  auto* dim = vec->add_type_params();
  dim->set_key("dim");
  dim->set_value("4");
  req.set_schema(schema.SerializeAsString());
  req.set_shards_num(2);
  Status created = c->CreateCollection("default", req, Now());
  ASSERT_TRUE(created.ok()) << created;
  Status again = c->CreateCollection("default", req, Now());
  EXPECT_TRUE(again.ok()) << again;  // replayed: done
  auto info = c->DescribeCollection("default", name);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->vchannels.size(), 2u);
  ASSERT_EQ(info->pchannels.size(), 2u);
  // Flush is taken once the datanode watches both channels, which needs a tick on each.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a tick younger than the create
  TickChannels(*c, info->pchannels);
  milvuspb::FlushRequest flush;
  flush.add_collection_names(name);
  Status flushed;
  for (int i = 0; i < 60; ++i) {
    flushed = c->Flush("default", flush, Now());
    if (flushed.ok()) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    TickChannels(*c, info->pchannels);
  }
  EXPECT_TRUE(flushed.ok()) << flushed;
  EXPECT_TRUE(c->CreatePartition("default", name, "p1", Now()).ok());
  EXPECT_TRUE(c->CreatePartition("default", name, "p1", Now()).ok());  // replayed: done
  auto parts = c->ShowPartitions("default", name);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->size(), 2u);
  EXPECT_TRUE(c->DropPartition("default", name, "p1", Now()).ok());
  EXPECT_TRUE(c->DropPartition("default", name, "p1", Now()).ok());  // replayed: done
  EXPECT_TRUE(c->DropCollection("default", name, Now()).ok());
  EXPECT_TRUE(c->DropCollection("default", name, Now()).ok());  // replayed: done
  auto gone = c->DescribeCollection("default", name);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status();
}

TEST(MilvusTarget, NormalInstanceIsRefusedWithTheSetting) {
  const std::string source = Env("CDC_TEST_MILVUS_SOURCE");
  if (source.empty()) GTEST_SKIP() << "CDC_TEST_MILVUS_SOURCE unset (scripts/e2e-env.sh up)";
  auto c = Connect(source, Env("CDC_TEST_MILVUS_SOURCE_PREFIX"));
  ASSERT_NE(c, nullptr);
  auto ready = c->CheckReplicationReady();
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(ready.status().message(), HasSubstr("1900"));
  EXPECT_THAT(ready.status().message(), HasSubstr("common.ttMsgEnabled: false"));
}

}  // namespace
}  // namespace cdc::target

// target::ReadinessProbe (create's task::TargetProbe) against the recording FakeMilvus: the
// order of its checks, the parameters it takes from a task, and its errors.
#include "target/readiness_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/target/fake_milvus.h"

namespace cdc::target {
namespace {

using ::testing::HasSubstr;
using Fake = ::cdc::testing::FakeMilvus;
constexpr auto kTimeout = std::chrono::seconds(5);

// "127.0.0.1:PORT" where nothing listens any more (a FakeMilvus that stopped).
std::string DeadAddress() {
  Fake fake;
  std::string addr = fake.Start();
  fake.Stop();
  return addr;
}

class ReadinessProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { addr_ = fake_.Start(); }
  task::MilvusConnectParam Param() const {
    task::MilvusConnectParam p;
    p.uri = "http://" + addr_;
    return p;
  }
  Fake fake_;
  std::string addr_;
  ReadinessProbe probe_{Fake::kReplicateChannel};
};

TEST_F(ReadinessProbeTest, ChecksVersionThenReplicationWithTheToken) {
  auto p = Param();
  p.token = "root:Milvus";
  ASSERT_TRUE(probe_.CheckMilvus(p, kTimeout).ok());
  auto calls = fake_.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "GetVersion");
  EXPECT_EQ(calls[1].method, "ReplicateMessage");
  EXPECT_THAT(calls[1].request_text, HasSubstr(Fake::kReplicateChannel));
  EXPECT_TRUE(calls[1].is_replicate);
  EXPECT_EQ(calls[0].authorization, "cm9vdDpNaWx2dXM=");  // base64("root:Milvus")
  EXPECT_TRUE(fake_.Replicated().empty());                // the probe writes nothing
}

TEST_F(ReadinessProbeTest, DeprecatedHostPortAndUsernamePasswordAreUsed) {
  task::MilvusConnectParam legacy;
  legacy.host = "127.0.0.1";
  legacy.port = std::stoi(addr_.substr(addr_.rfind(':') + 1));
  legacy.username = "root";
  legacy.password = "Milvus";
  ASSERT_TRUE(probe_.CheckMilvus(legacy, kTimeout).ok());
  EXPECT_EQ(fake_.CallsOf("GetVersion").at(0).authorization, "cm9vdDpNaWx2dXM=");
}

TEST_F(ReadinessProbeTest, NormalInstanceIsRefusedWithTheSettingToChange) {
  fake_.set_tt_msg_enabled(true);
  Status s = probe_.CheckMilvus(Param(), kTimeout);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("milvus target " + addr_));
  EXPECT_THAT(s.message(), HasSubstr("common.ttMsgEnabled: false"));
}

TEST_F(ReadinessProbeTest, WrongTokenIsRefusedOnceNamingTheToken) {
  fake_.FailNext("GetVersion", 1,
                 {grpc::StatusCode::UNAUTHENTICATED, 0, "auth check failure, please check"});
  auto p = Param();
  p.token = "root:wrong";
  Status s = probe_.CheckMilvus(p, kTimeout);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("milvus target " + addr_ + ": GetVersion"));
  EXPECT_THAT(s.message(), HasSubstr("check the token in milvus_connect_param"));
  EXPECT_EQ(fake_.CallsOf("GetVersion").size(), 1u);  // create does not retry
  EXPECT_TRUE(fake_.CallsOf("ReplicateMessage").empty());
}

TEST_F(ReadinessProbeTest, ProbeOnAnotherChannelStillPasses) {
  // A target answers "empty msgs" on a channel that is not its own replicate channel: it got
  // past its replication check, which is what the probe asks.
  ReadinessProbe other("another-replicate-msg");
  EXPECT_TRUE(other.CheckMilvus(Param(), kTimeout).ok());
}

TEST(ReadinessProbeErrors, DeadTargetNamesItAndWhatToCheck) {
  ReadinessProbe probe("r");
  task::MilvusConnectParam p;
  const std::string dead = DeadAddress();
  p.uri = "http://" + dead;
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("milvus target " + dead));
  EXPECT_THAT(s.message(), HasSubstr("within 1s"));
  EXPECT_THAT(s.message(), HasSubstr("check milvus_connect_param.uri"));
}

TEST(ReadinessProbeErrors, BadUriAndFilesAreClientErrorsNamingTheKey) {
  ReadinessProbe probe("r");
  task::MilvusConnectParam p;
  p.uri = "ftp://h:1";
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("milvus_connect_param.uri"));

  p.uri = "https://127.0.0.1:1";
  p.dial_config.ca_pem_path = "/nonexistent/ca.pem";
  s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("dial_config.ca_pem_path=/nonexistent/ca.pem"));

  p.dial_config.ca_pem_path = "/etc/hostname";  // exists, but holds no certificate
  s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a PEM file"));
}

TEST(ReadinessProbeErrors, KafkaTargetGetsATcpProbe) {
  Fake listening;  // any TCP listener will do
  ReadinessProbe probe("r");
  task::KafkaConnectParam k;
  k.address = listening.Start() + ",127.0.0.1:1";  // the first bootstrap address is probed
  EXPECT_TRUE(probe.CheckKafka(k, std::chrono::seconds(2)).ok());
  k.address = DeadAddress();
  Status s = probe.CheckKafka(k, std::chrono::seconds(2));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("target kafka " + k.address));
  EXPECT_THAT(s.message(), HasSubstr("check kafka_connect_param.address"));
  k.address = "127.0.0.1:x";
  EXPECT_EQ(probe.CheckKafka(k, std::chrono::seconds(2)).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdc::target

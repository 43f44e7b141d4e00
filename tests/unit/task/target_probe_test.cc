#include "task/target_probe.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/api/grpc_target.h"

namespace cdc::task {
namespace {

using ::testing::HasSubstr;

// A port nothing listens on: bind, read the port, close.
int DeadPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(GrpcTargetProbeTest, ConnectsToAGrpcServer) {
  cdc::testing::GrpcTarget target;
  ASSERT_TRUE(target.ok());
  int port = target.port();
  GrpcTargetProbe probe;
  MilvusConnectParam p;
  p.uri = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(probe.CheckMilvus(p, std::chrono::seconds(5)).ok());
  MilvusConnectParam legacy;
  legacy.host = "127.0.0.1";
  legacy.port = port;
  EXPECT_TRUE(probe.CheckMilvus(legacy, std::chrono::seconds(5)).ok());
}

TEST(GrpcTargetProbeTest, RefusesDeadTargetNamingIt) {
  GrpcTargetProbe probe;
  MilvusConnectParam p;
  p.uri = "http://127.0.0.1:" + std::to_string(DeadPort());
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr(p.uri));
  EXPECT_THAT(std::string(s.message()), HasSubstr("within 1s"));
}

TEST(GrpcTargetProbeTest, MissingCertificateFileIsAClientError) {
  GrpcTargetProbe probe;
  MilvusConnectParam p;
  p.uri = "https://127.0.0.1:1";
  p.dial_config.ca_pem_path = "/nonexistent/ca.pem";
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("dial_config.ca_pem_path /nonexistent/ca.pem"));
}

TEST(GrpcTargetProbeTest, KafkaTcpProbe) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  GrpcTargetProbe probe;
  KafkaConnectParam k;
  k.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  EXPECT_TRUE(probe.CheckKafka(k, std::chrono::seconds(2)).ok());
  close(fd);
  k.address = "127.0.0.1:" + std::to_string(DeadPort());
  Status s = probe.CheckKafka(k, std::chrono::seconds(2));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr(k.address));
}

}  // namespace
}  // namespace cdc::task

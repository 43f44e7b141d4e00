// source::CreateBroker picks the queue as upstream does and names the config key it cannot use;
// a broker nobody answers for stays bounded.
#include "source/broker_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace cdc::source {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

TEST(BrokerFactory, PulsarWhenItsAddressIsSetElseKafka) {
  BrokerOptions o;
  o.kafka.brokers = "127.0.0.1:9092";
  auto kafka = CreateBroker(o);
  ASSERT_TRUE(kafka.ok()) << kafka.status();
  EXPECT_EQ((*kafka)->Describe(), "kafka 127.0.0.1:9092");

  o.pulsar.address = "pulsar://127.0.0.1:6650";
  auto pulsar = CreateBroker(o);
  ASSERT_TRUE(pulsar.ok()) << pulsar.status();
  EXPECT_EQ((*pulsar)->Describe(), "pulsar pulsar://127.0.0.1:6650");
}

TEST(BrokerFactory, ErrorsNameTheConfigKey) {
  BrokerOptions none;
  auto s = CreateBroker(none).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sourceConfig.pulsar.address"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("sourceConfig.kafka.address"));

  BrokerOptions bad_pulsar;
  bad_pulsar.pulsar.address = "pulsar://127.0.0.1:6650";
  bad_pulsar.pulsar.auth_plugin = "oauth2";
  s = CreateBroker(bad_pulsar).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sourceConfig.pulsar.authPlugin"));

  BrokerOptions bad_url;
  bad_url.pulsar.address = "127.0.0.1:6650";
  EXPECT_THAT(std::string(CreateBroker(bad_url).status().message()),
              HasSubstr("sourceConfig.pulsar.address"));

  BrokerOptions bad_kafka;
  bad_kafka.kafka.brokers = "127.0.0.1:9092";
  bad_kafka.kafka.config["no.such.key"] = "1";
  bad_kafka.kafka.config["sasl.password"] = "TopSecret";
  s = CreateBroker(bad_kafka).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sourceConfig.kafka"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no.such.key"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("TopSecret")));
}

TEST(BrokerFactory, UnusableBrokerFailsEveryTaskWithTheReason) {
  auto b = UnusableBroker(InvalidArgumentError("sourceConfig.kafka.address is empty"));
  EXPECT_THAT(b->Describe(), HasSubstr("sourceConfig.kafka.address"));
  ReaderOptions r;
  r.channel = "by-dev-rootcoord-dml_0";
  auto reader = b->OpenReader(r);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr("sourceConfig.kafka.address"));
  EXPECT_EQ(b->MessagesAfter(KafkaPosition("c", 1, 1), std::chrono::milliseconds(10)), -1);
  EXPECT_EQ(b->LatestPositions({"c"}, std::chrono::milliseconds(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BrokerFactory, ReadersAreNamedAfterTheirOwnerAndChannel) {
  EXPECT_EQ(SubscriptionName("task-1", "by-dev-rootcoord-dml_3"),
            "cdc-task-1-by-dev-rootcoord-dml_3");
  BrokerOptions o;
  o.kafka.brokers = "127.0.0.1:9092";
  auto b = CreateBroker(o);
  ASSERT_TRUE(b.ok());
  ReaderOptions r;
  r.channel = "by-dev-rootcoord-dml_3";
  auto reader = (*b)->OpenReader(r);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->channel(), "by-dev-rootcoord-dml_3");
}

// A TCP port that accepts connections (the kernel completes the handshake) and never answers,
// like a broker that hangs (SIGSTOP, a stuck JVM, a half-open network path).
class SilentPort {
 public:
  SilentPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 64), 0);
    socklen_t n = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
  }
  ~SilentPort() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(KafkaBroker, LagOfABrokerThatNeverAnswersIsUnknownWithinTheTimeout) {
  SilentPort port;
  BrokerOptions o;
  o.kafka.brokers = port.address();
  auto b = CreateBroker(o);
  ASSERT_TRUE(b.ok());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ((*b)->MessagesAfter(KafkaPosition("by-dev-rootcoord-dml_0", 3, 1),
                                std::chrono::milliseconds(300)),
            -1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

// Where nothing listens, or a peer never answers: LatestPositions fails within its timeout,
// naming the broker and a channel, and never answers with a made-up position.
TEST(Broker, LatestPositionsOfAnUnreachableBrokerFailWithinTheTimeout) {
  SilentPort silent;
  std::string dead;
  {
    SilentPort closed;  // a port that was free a moment ago and is closed again
    dead = closed.address();
  }
  for (const std::string& address : {silent.address(), dead}) {
    for (bool pulsar : {false, true}) {
      SCOPED_TRACE(address + (pulsar ? " pulsar" : " kafka"));
      BrokerOptions o;
      if (pulsar) {
        o.pulsar.address = "pulsar://" + address;
      } else {
        o.kafka.brokers = address;
      }
      auto b = CreateBroker(o);
      ASSERT_TRUE(b.ok()) << b.status();
      const auto t0 = std::chrono::steady_clock::now();
      auto p = (*b)->LatestPositions({"by-dev-rootcoord-dml_0", "by-dev-replicate-msg"},
                                     std::chrono::milliseconds(800));
      const auto took = std::chrono::steady_clock::now() - t0;
      ASSERT_FALSE(p.ok());
      std::printf("%s\n", std::string(p.status().message()).c_str());
      EXPECT_THAT(std::string(p.status().message()), HasSubstr(address));
      EXPECT_THAT(std::string(p.status().message()), HasSubstr("by-dev-"));
      EXPECT_LT(took, std::chrono::milliseconds(3000));
    }
  }
}

}  // namespace
}  // namespace cdc::source

// source::CreateBroker picks the queue as upstream does and names the config key it cannot use;
// a broker nobody answers for stays bounded.
#include "source/broker_factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cdc::source

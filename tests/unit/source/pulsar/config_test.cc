// sourceConfig.pulsar -> client options and topic names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "source/pulsar/pulsar_config.h"

namespace cdc::source {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PulsarConfig, TopicNames) {
  EXPECT_EQ(PulsarTopic("", "", "by-dev-rootcoord-dml_0"),
            "persistent://public/default/by-dev-rootcoord-dml_0");
  EXPECT_EQ(PulsarTopic("t1", "ns", "by-dev-replicate-msg"),
            "persistent://t1/ns/by-dev-replicate-msg");
}

TEST(PulsarConfig, TokenAuthAndSizes) {
  PulsarSourceSettings s;
  s.address = "pulsar://127.0.0.1:6650";
  s.auth_plugin = "token";
  s.auth_params = "token:eyJhbGciOi.secret.sig";
  s.max_message_size = "104857600";
  auto o = PulsarClientOptions(s);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->auth_method, "token");
  EXPECT_EQ(o->auth_data, "eyJhbGciOi.secret.sig");
  EXPECT_EQ(o->max_frame_size, 104857600u + pulsar::kFrameOverhead);

  s.auth_plugin = "org.apache.pulsar.client.impl.auth.AuthenticationToken";
  s.auth_params = "bare-token";
  ASSERT_TRUE(PulsarClientOptions(s).ok());
  EXPECT_EQ(PulsarClientOptions(s)->auth_data, "bare-token");

  s.auth_plugin = "tls";
  auto bad = PulsarClientOptions(s);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sourceConfig.pulsar.authPlugin"));

  s.auth_plugin = "token";
  s.auth_params = "user:secret-value";
  bad = PulsarClientOptions(s);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("secret-value")));

  s.auth_params = "token:x";
  s.max_message_size = "lots";
  bad = PulsarClientOptions(s);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("maxMessageSize"));

  s.max_message_size = "";
  s.address = "http://127.0.0.1:8080";
  bad = PulsarClientOptions(s);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sourceConfig.pulsar.address"));
}

}  // namespace
}  // namespace cdc::source

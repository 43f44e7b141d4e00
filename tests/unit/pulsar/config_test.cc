// sourceConfig.pulsar -> client options and topic names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "source/pulsar/pulsar_config.h"

namespace cdc::source::pulsar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PulsarConfig, MilvusTopicNames) {
  EXPECT_EQ(MilvusTopic("", "", "by-dev-rootcoord-dml_0"),
            "persistent://public/default/by-dev-rootcoord-dml_0");
  EXPECT_EQ(MilvusTopic("t1", "ns", "by-dev-replicate-msg"),
            "persistent://t1/ns/by-dev-replicate-msg");
}

TEST(PulsarConfig, ServiceUrls) {
  auto eps = ParseServiceUrl("pulsar+ssl://a.example:7000,b.example");
  ASSERT_TRUE(eps.ok()) << eps.status();
  ASSERT_EQ(eps->size(), 2u);
  EXPECT_TRUE((*eps)[0].tls);
  EXPECT_EQ((*eps)[0].port, 7000);
  EXPECT_EQ((*eps)[1].port, 6651);
  EXPECT_EQ(ParseServiceUrl("pulsar://[::1]:6650")->at(0).host, "::1");
  EXPECT_EQ(ParseServiceUrl("localhost:6650").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseServiceUrl("pulsar://h:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PulsarConfig, TokenAuthAndSizes) {
  PulsarSourceSettings s;
  s.address = "pulsar://127.0.0.1:6650";
  s.auth_plugin = "token";
  s.auth_params = "token:eyJhbGciOi.secret.sig";
  s.max_message_size = "104857600";
  auto o = ClientOptionsFromSettings(s);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->auth_method, "token");
  EXPECT_EQ(o->auth_data, "eyJhbGciOi.secret.sig");
  EXPECT_EQ(o->max_frame_size, 104857600u + kFrameOverhead);

  s.auth_plugin = "org.apache.pulsar.client.impl.auth.AuthenticationToken";
  s.auth_params = "bare-token";
  ASSERT_TRUE(ClientOptionsFromSettings(s).ok());
  EXPECT_EQ(ClientOptionsFromSettings(s)->auth_data, "bare-token");

  s.auth_plugin = "tls";
  auto bad = ClientOptionsFromSettings(s);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sourceConfig.pulsar.authPlugin"));

  s.auth_plugin = "token";
  s.auth_params = "user:secret-value";
  bad = ClientOptionsFromSettings(s);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("secret-value")));

  s.auth_params = "token:x";
  s.max_message_size = "lots";
  bad = ClientOptionsFromSettings(s);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("maxMessageSize"));

  s.max_message_size = "";
  s.address = "http://127.0.0.1:8080";
  bad = ClientOptionsFromSettings(s);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sourceConfig.pulsar.address"));
}

}  // namespace
}  // namespace cdc::source::pulsar

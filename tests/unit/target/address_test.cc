#include "target/address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc::target {
namespace {

using ::testing::HasSubstr;

Address Parse(const std::string& text) {
  auto a = ParseAddress(text, 19530, "milvus_connect_param.uri");
  EXPECT_TRUE(a.ok()) << text << ": " << a.status();
  return a.value_or(Address{});
}

TEST(ParseAddress, SchemesHostsAndPorts) {
  Address a = Parse("http://10.0.0.5:19531");
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 19531);
  EXPECT_FALSE(a.https);
  EXPECT_TRUE(Parse("https://milvus.example:443").https);
  EXPECT_TRUE(Parse("HTTPS://milvus.example").https);
  EXPECT_EQ(Parse("https://milvus.example").port, 19530);  // the default port
  EXPECT_EQ(Parse("tcp://h:1").HostPort(), "h:1");
  EXPECT_EQ(Parse("grpc://h:2").HostPort(), "h:2");
  EXPECT_EQ(Parse("h:3").HostPort(), "h:3");
  EXPECT_EQ(Parse("localhost").HostPort(), "localhost:19530");
  EXPECT_EQ(Parse(" http://h:4/ ").HostPort(), "h:4");
}

TEST(ParseAddress, PathsCredentialsAndIpv6AreHandled) {
  EXPECT_EQ(Parse("http://h:19530/db1?x=1").HostPort(), "h:19530");
  EXPECT_EQ(Parse("http://root:Milvus@h:5").HostPort(), "h:5");
  Address v6 = Parse("http://[::1]:6");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 6);
  EXPECT_EQ(v6.HostPort(), "[::1]:6");
  EXPECT_EQ(Parse("[fe80::1]").port, 19530);
}

TEST(ParseAddress, BadInputNamesTheFieldAndTheFix) {
  for (const std::string bad : {"", "http://", "http://:19530", "ftp://h:1", "h:port", "h:0",
                                "h:70000", "[::1", "[::1]x"}) {
    auto a = ParseAddress(bad, 19530, "milvus_connect_param.uri");
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(a.status().message(), HasSubstr("milvus_connect_param.uri=\"" + bad + "\""));
    EXPECT_THAT(a.status().message(), HasSubstr("use http://host:port"));
  }
  EXPECT_EQ(ParseAddress("k:9", 9092, "kafka_connect_param.address")->port, 9);
  EXPECT_EQ(ParseAddress("k", 9092, "kafka_connect_param.address")->port, 9092);
}

}  // namespace
}  // namespace cdc::target

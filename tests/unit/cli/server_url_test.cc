#include "cli/server_url.h"

#include <gtest/gtest.h>

namespace cdc::cli {
namespace {

TEST(ServerUrlTest, AcceptsTheUsualForms) {
  auto u = ServerUrl::Parse("http://127.0.0.1:8444");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->origin(), "http://127.0.0.1:8444");
  EXPECT_EQ(u->cdc_path(), "/cdc");
  EXPECT_FALSE(u->https());
  u = ServerUrl::Parse("cdc.example:9000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->display(), "http://cdc.example:9000/cdc");
  u = ServerUrl::Parse("https://cdc.example/proxy/cdc/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->https());
  EXPECT_EQ(u->origin(), "https://cdc.example:443");
  EXPECT_EQ(u->cdc_path(), "/proxy/cdc");
}

TEST(ServerUrlTest, RefusesWhatItCannotUse) {
  for (const char* bad : {"ftp://x:1", "http://x:0", "http://x:99999", "http://x:ab", ":8444"}) {
    auto u = ServerUrl::Parse(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.status().message().find("--server '"), std::string::npos);
  }
}

}  // namespace
}  // namespace cdc::cli

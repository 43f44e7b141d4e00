#include "api/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/crypto.h"

namespace cdc::api {
namespace {

using ::testing::HasSubstr;
using Clock = Authenticator::Clock;

std::unique_ptr<Authenticator> Make(int max_failures = 3) {
  AuthOptions o;
  o.admin_hashes = {crypto::Sha256Hex("admin-1")};
  o.read_hashes = {crypto::Sha256Hex("read-1")};
  o.max_failures_per_minute = max_failures;
  auto a = Authenticator::Create(o);
  EXPECT_TRUE(a.ok()) << a.status();
  return std::move(*a);
}

TEST(AuthenticatorTest, OffWithoutTokens) {
  auto a = Authenticator::Create({});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)->enabled());
  auto d = (*a)->Check("", "1.2.3.4");
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.role, Role::kAdmin);
}

TEST(AuthenticatorTest, RolesAndSchemes) {
  auto a = Make();
  EXPECT_TRUE(a->enabled());
  auto admin = a->Check("Bearer admin-1", "ip");
  EXPECT_TRUE(admin.ok);
  EXPECT_EQ(admin.role, Role::kAdmin);
  auto read = a->Check("bearer read-1", "ip");
  EXPECT_TRUE(read.ok);
  EXPECT_EQ(read.role, Role::kRead);
  for (const char* bad : {"", "Bearer", "Bearer ", "Basic admin-1", "Bearer admin-2"}) {
    auto d = a->Check(bad, "ip-" + std::string(bad));
    EXPECT_FALSE(d.ok) << bad;
    EXPECT_EQ(d.http_status, 401) << bad;
    EXPECT_EQ(d.reason, "unauthorized");
  }
}

TEST(AuthenticatorTest, FailuresBlockTheAddressForAMinute) {
  auto a = Make(3);
  auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a->Check("Bearer x", "10.0.0.1", t0).http_status, 401);
  auto blocked = a->Check("Bearer admin-1", "10.0.0.1", t0 + std::chrono::seconds(1));
  EXPECT_FALSE(blocked.ok);
  EXPECT_EQ(blocked.http_status, 429);
  EXPECT_EQ(blocked.retry_after_s, 59);
  EXPECT_THAT(blocked.message, HasSubstr("too many failed authentications from 10.0.0.1"));
  // Other addresses are not affected; the block ends after a minute.
  EXPECT_TRUE(a->Check("Bearer admin-1", "10.0.0.2", t0).ok);
  EXPECT_TRUE(a->Check("Bearer admin-1", "10.0.0.1", t0 + std::chrono::seconds(61)).ok);
}

TEST(AuthenticatorTest, FailuresSpreadOverMoreThanAMinuteDoNotBlock) {
  auto a = Make(3);
  auto t = Clock::now();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(a->Check("Bearer x", "10.0.0.1", t).http_status, 401);
    t += std::chrono::seconds(31);  // two failures per window at most
  }
  EXPECT_TRUE(a->Check("Bearer admin-1", "10.0.0.1", t).ok);
}

TEST(AuthenticatorTest, TrackedAddressesStayBounded) {
  auto a = Make(1000);
  auto t = Clock::now();
  for (size_t i = 0; i < Authenticator::kMaxTracked + 10; ++i) {
    a->Check("Bearer x", "ip" + std::to_string(i), t);
  }
  // Still answers; the table was pruned (not blocked entries dropped), so this is a 401.
  EXPECT_EQ(a->Check("Bearer x", "another", t).http_status, 401);
}

TEST(AuthenticatorTest, TokenFile) {
  auto dir = std::filesystem::temp_directory_path() / ("auth_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "tokens").string();
  std::ofstream(file) << "# tokens\n\nadmin " << crypto::Sha256Hex("a") << "  # ops\n"
                      << "read " << crypto::Sha256Hex("r") << "\n";
  AuthOptions o;
  o.token_file = file;
  auto a = Authenticator::Create(o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->Check("Bearer a", "ip").role, Role::kAdmin);
  EXPECT_EQ((*a)->Check("Bearer r", "ip").role, Role::kRead);

  std::ofstream(file) << "admin " << crypto::Sha256Hex("a") << "\nsuper abc\n";
  auto bad = Authenticator::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(file + " line 2: expected"));
  std::ofstream(file) << "# nothing\n";
  auto empty = Authenticator::Create(o);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("holds no token"));
  o.token_file = (dir / "missing").string();
  EXPECT_FALSE(Authenticator::Create(o).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdc::api

#include "source/credentials.h"

#include <gtest/gtest.h>

namespace cdc::source {
namespace {

const std::string kPrefix = "by-dev/meta/root-coord/credential/";

// Keys and values as a Milvus 2.3.5 source wrote them for: user u1 in role r1, Insert on every
// collection of database default and Search on collection c1 granted to r1 by root, and the
// built-in public grants.
std::vector<std::pair<std::string, std::string>> Written() {
  return {
      {kPrefix + "users/root", R"({"encrypted_password":"$2a$04$hash-of-root"})"},
      {kPrefix + "users/u1", R"({"encrypted_password":"$2a$04$hash-of-u1"})"},
      {kPrefix + "roles/admin", ""},
      {kPrefix + "roles/public", ""},
      {kPrefix + "roles/r1", ""},
      {kPrefix + "user-role-mapping/u1/r1", ""},
      {kPrefix + "grantee-privileges/r1/Collection/default.*", "id1"},
      {kPrefix + "grantee-privileges/r1/Collection/default.c1", "id2"},
      {kPrefix + "grantee-privileges/public/Global/*.*", "id3"},
      {kPrefix + "grantee-id/id1/PrivilegeInsert", "root"},
      {kPrefix + "grantee-id/id2/PrivilegeSearch", "alice"},
      {kPrefix + "grantee-id/id3/PrivilegeDescribeCollection", "root"},
      {kPrefix + "grantee-id/id3/PrivilegeShowCollections", "root"},
  };
}

TEST(ParseCredentialsTest, ReadsUsersRolesMembershipsAndGrantsInApiForm) {
  std::vector<std::string> bad;
  rbac::State s = ParseCredentials(kPrefix, Written(), &bad);
  EXPECT_TRUE(bad.empty());
  EXPECT_EQ(s.users, (std::set<std::string>{"root", "u1"}));
  EXPECT_EQ(s.roles, (std::set<std::string>{"admin", "public", "r1"}));
  EXPECT_EQ(s.members, (std::set<std::pair<std::string, std::string>>{{"u1", "r1"}}));
  const rbac::Grant insert{"r1", "Collection", "*", "default", "Insert"};
  const rbac::Grant search{"r1", "Collection", "c1", "default", "Search"};
  const rbac::Grant show{"public", "Global", "*", "*", "ShowCollections"};
  ASSERT_EQ(s.grants.size(), 4u);
  EXPECT_TRUE(s.grants.count(insert));
  EXPECT_TRUE(s.grants.count(search));
  EXPECT_TRUE(s.grants.count(show));
  EXPECT_EQ(s.grantors[search], "alice");
  EXPECT_EQ(s.grantors[insert], "root");
}

TEST(ParseCredentialsTest, NeverKeepsAPasswordHash) {
  rbac::State s = ParseCredentials(kPrefix, Written(), nullptr);
  for (const auto& u : s.users) EXPECT_EQ(u.find("$2a$"), std::string::npos);
  for (const auto& [g, who] : s.grantors) EXPECT_EQ(who.find("$2a$"), std::string::npos);
}

TEST(ParseCredentialsTest, GrantWithoutDatabaseIsTheDefaultDatabasesAndUnknownKeysAreNamed) {
  std::vector<std::string> bad;
  rbac::State s = ParseCredentials(
      kPrefix,
      {{kPrefix + "grantee-privileges/r1/Global/*", "old"},
       {kPrefix + "grantee-id/old/*", "root"},
       {kPrefix + "grantee-privileges/r2/Collection/default.c9", "revoked"},  // no privileges
       {kPrefix + "roles/", ""},
       {kPrefix + "something-new/x", "y"}},
      &bad);
  EXPECT_EQ(s.grants, (std::set<rbac::Grant>{{"r1", "Global", "*", "default", "*"}}));
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("roles/"), std::string::npos);
  EXPECT_NE(bad[1].find("something-new/x"), std::string::npos);
}

}  // namespace
}  // namespace cdc::source

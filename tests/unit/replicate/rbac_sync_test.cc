// RbacSync against the recording gRPC FakeMilvus through the real target::GrpcClient.
#include "replicate/rbac_sync.h"

#include <gtest/gtest.h>

#include "target/grpc_client.h"
#include "unit/target/fake_milvus.h"

namespace cdc::replicate {
namespace {

using Clock = std::chrono::steady_clock;

rbac::State Builtin() {
  rbac::State s;
  s.users = {"root"};
  s.roles = {"admin", "public"};
  return s;
}

class RbacSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target::ConnectOptions o;
    o.uri = "http://" + fake_.Start();
    o.connect_timeout_s = 5;
    o.max_attempts = 2;
    o.replicate_channel = testing::FakeMilvus::kReplicateChannel;
    auto c = target::ConnectGrpcClient(o);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }

  RbacOutcome Apply(const rbac::State& source) {
    auto out = sync_.Apply(client_.get(), source, Clock::now());
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : RbacOutcome();
  }

  testing::FakeMilvus fake_;
  std::unique_ptr<target::GrpcClient> client_;
  RbacSync sync_;
};

const rbac::Grant kInsert{"r1", "Collection", "*", "default", "Insert"};
const rbac::Grant kSearch{"r1", "Collection", "c1", "db1", "Search"};

TEST_F(RbacSyncTest, FirstSyncCreatesRolesGrantsAndMembershipsWithTheSourcesGrantor) {
  fake_.AddUser("u1");
  rbac::State src = Builtin();
  src.users = {"root", "u1"};
  src.roles.insert("r1");
  src.grants = {kInsert, kSearch};
  src.grantors[kSearch] = "alice";
  src.members = {{"u1", "r1"}};
  RbacOutcome out = Apply(src);
  EXPECT_EQ(out.applied, 4u);
  EXPECT_TRUE(out.user_missing.empty());
  EXPECT_TRUE(out.refused.empty());
  rbac::State t = fake_.Rbac();
  EXPECT_EQ(t.roles, (std::set<std::string>{"admin", "public", "r1"}));
  EXPECT_EQ(t.grants, (std::set<rbac::Grant>{kInsert, kSearch}));
  EXPECT_EQ(t.grantors[kSearch], "alice");  // no token: the source's grantor
  EXPECT_EQ(t.grantors[kInsert], "root");
  EXPECT_EQ(t.members, (std::set<std::pair<std::string, std::string>>{{"u1", "r1"}}));
  // Nothing changed: not due, and a second Apply makes no call that writes.
  EXPECT_FALSE(sync_.Due(src, Clock::now()));
  EXPECT_EQ(Apply(src).applied, 0u);
  EXPECT_TRUE(fake_.CallsOf("CreateRole").size() == 1);
}

TEST_F(RbacSyncTest, RevokesRemovalsAndDropsFollowTheSourceButTargetOnlyRolesStay) {
  fake_.AddUser("u1");
  fake_.AddRole("target_own");
  rbac::State src = Builtin();
  src.users = {"root", "u1"};
  src.roles = {"admin", "public", "r1", "r2"};
  src.grants = {kInsert, kSearch};
  src.members = {{"u1", "r1"}, {"u1", "r2"}};
  Apply(src);
  src.grants.erase(kSearch);
  src.members.erase({"u1", "r1"});
  src.roles.erase("r2");
  src.members.erase({"u1", "r2"});
  ASSERT_TRUE(sync_.Due(src, Clock::now()));
  RbacOutcome out = Apply(src);
  EXPECT_EQ(out.applied, 3u);  // revoke, remove, drop (r2's membership goes with it)
  EXPECT_TRUE(out.refused.empty()) << out.refused[0];
  rbac::State t = fake_.Rbac();
  EXPECT_EQ(t.roles, (std::set<std::string>{"admin", "public", "r1", "target_own"}));
  EXPECT_EQ(t.grants, (std::set<rbac::Grant>{kInsert}));
  EXPECT_TRUE(t.members.empty());
}

TEST_F(RbacSyncTest, MembershipOfAUserTheTargetLacksIsReportedAndFollowsOnceTheUserExists) {
  rbac::State src = Builtin();
  src.users = {"root", "only_on_source"};
  src.roles.insert("r1");
  src.members = {{"only_on_source", "r1"}};
  RbacOutcome out = Apply(src);
  ASSERT_EQ(out.user_missing.size(), 1u);
  EXPECT_EQ(out.user_missing[0].first, "only_on_source");
  EXPECT_TRUE(fake_.CallsOf("OperateUserRole").empty());
  const auto now = Clock::now();
  EXPECT_FALSE(sync_.Due(src, now, std::chrono::seconds(10)));
  EXPECT_TRUE(sync_.Due(src, now + std::chrono::seconds(11), std::chrono::seconds(10)));
  fake_.AddUser("only_on_source");
  out = Apply(src);
  EXPECT_TRUE(out.user_missing.empty());
  EXPECT_EQ(out.applied, 1u);
  EXPECT_TRUE(fake_.Rbac().members.count({"only_on_source", "r1"}));
}

TEST_F(RbacSyncTest, BuiltinRolesAreNeverCreatedOrDroppedButTheirGrantsFollow) {
  rbac::State src = Builtin();
  const rbac::Grant pub{"public", "Global", "*", "default", "DescribeCollection"};
  src.grants = {pub};
  Apply(src);
  EXPECT_TRUE(fake_.CallsOf("CreateRole").empty());
  EXPECT_TRUE(fake_.Rbac().grants.count(pub));
  rbac::State gone = src;
  gone.roles = {};
  gone.grants = {};
  Apply(gone);
  EXPECT_TRUE(fake_.CallsOf("DropRole").empty());
  EXPECT_EQ(fake_.Rbac().roles, (std::set<std::string>{"admin", "public"}));
  EXPECT_FALSE(fake_.Rbac().grants.count(pub));
}

TEST_F(RbacSyncTest, ARefusalIsReportedAndTheOtherChangesGoOnAnOutageIsAnError) {
  rbac::State src = Builtin();
  src.roles = {"admin", "public", "r1", "r2"};
  testing::FakeMilvus::Failure refuse;
  refuse.milvus_code = 1100;
  refuse.reason = "invalid role name";
  fake_.FailNext("CreateRole", 1, refuse);
  RbacOutcome out = Apply(src);
  ASSERT_EQ(out.refused.size(), 1u);
  EXPECT_NE(out.refused[0].find("create role r1"), std::string::npos);
  EXPECT_NE(out.refused[0].find("invalid role name"), std::string::npos);
  EXPECT_TRUE(fake_.Rbac().roles.count("r2"));

  src.roles.insert("r3");
  testing::FakeMilvus::Failure down;
  down.grpc_code = grpc::StatusCode::UNAVAILABLE;
  fake_.FailNext("SelectUser", 5, down);
  auto failed = sync_.Apply(client_.get(), src, Clock::now());
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(sync_.Due(src, Clock::now()));  // not applied: next time again
}

TEST_F(RbacSyncTest, SeenStateSurvivesARestartSoADropWhileDownIsReplayed) {
  rbac::State src = Builtin();
  src.roles.insert("r1");
  src.grants = {kInsert};
  Apply(src);
  const std::string json = sync_.Json();
  RbacSync restarted;
  ASSERT_TRUE(restarted.Restore(json).ok());
  rbac::State now = Builtin();  // r1 revoked and dropped on the source while the task was down
  auto out = restarted.Apply(client_.get(), now, Clock::now());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->refused.empty()) << out->refused[0];
  EXPECT_FALSE(fake_.Rbac().roles.count("r1"));
  EXPECT_FALSE(restarted.Restore("[1]").ok());
  EXPECT_TRUE(restarted.Restore("{}").ok());
}

TEST(PlanRbacTest, FirstSyncOnlyAdds) {
  rbac::State src = Builtin();
  rbac::State target = Builtin();
  target.roles.insert("theirs");
  target.grants.insert({"theirs", "Global", "*", "default", "*"});
  RbacPlan p = PlanRbac(src, src, target);
  EXPECT_EQ(p.size(), 0u);
}

}  // namespace
}  // namespace cdc::replicate

// ha::Plan: the ownership rules (balance, who starts and stops what, fencing decisions).
#include "ha/plan.h"

#include <gtest/gtest.h>

namespace cdc::ha {
namespace {

using std::chrono::seconds;
using V = std::vector<std::string>;

ClusterView Cluster(std::map<std::string, std::string> owners, std::set<std::string> wanted,
                    std::vector<std::string> ids = {"a", "b", "c"}) {
  ClusterView v;
  for (const auto& id : ids) v.servers[id + "#1"] = {id, id + "#1", false};
  v.owners = std::move(owners);
  v.wanted = std::move(wanted);
  return v;
}

LocalView Local(const std::string& id, std::set<std::string> running = {}) {
  LocalView l;
  l.id = id;
  l.token = id + "#1";
  l.lease_valid = true;
  l.running = std::move(running);
  l.now = seconds(1000);
  return l;
}

TEST(PlanTest, AFreeTaskGoesToTheLeastLoadedServerOnly) {
  // a owns two, b one, c none: c takes the free task, a and b leave it.
  auto v = Cluster({{"t1", "a#1"}, {"t2", "a#1"}, {"t3", "b#1"}}, {"t1", "t2", "t3", "t4"});
  EXPECT_EQ(Plan(v, Local("c")).acquire, V{"t4"});
  EXPECT_EQ(Plan(v, Local("c")).start, V{"t4"});
  EXPECT_TRUE(Plan(v, Local("b", {"t3"})).acquire.empty());
  EXPECT_TRUE(Plan(v, Local("a", {"t1", "t2"})).acquire.empty());
}

TEST(PlanTest, SeveralFreeTasksSpreadAcrossServers) {
  auto v = Cluster({}, {"t1", "t2", "t3", "t4"});
  // Ties go to the smallest id, and each choice counts for the next: a, b, c, a.
  EXPECT_EQ(Plan(v, Local("a")).acquire, (V{"t1", "t4"}));
  EXPECT_EQ(Plan(v, Local("b")).acquire, V{"t2"});
  EXPECT_EQ(Plan(v, Local("c")).acquire, V{"t3"});
}

TEST(PlanTest, DrainingServersGetNothingAndGiveEverythingAway) {
  auto v = Cluster({{"t1", "a#1"}}, {"t1", "t2"});
  v.servers["a#1"].draining = true;
  auto l = Local("a", {"t1"});
  l.draining = true;
  Actions a = Plan(v, l);
  EXPECT_EQ(a.stop, V{"t1"});
  EXPECT_EQ(a.release, V{"t1"});
  EXPECT_TRUE(a.acquire.empty());
  EXPECT_EQ(Plan(v, Local("b")).acquire, V{"t2"});  // b is least loaded among the others
}

TEST(PlanTest, WithoutAValidLeaseEverythingStopsAndNothingIsTaken) {
  auto v = Cluster({{"t1", "a#1"}}, {"t1", "t2"});
  auto l = Local("a", {"t1"});
  l.lease_valid = false;
  Actions a = Plan(v, l);
  EXPECT_EQ(a.stop, V{"t1"});
  EXPECT_TRUE(a.release.empty());  // its key goes with the lease (or is still ours: later)
  EXPECT_TRUE(a.acquire.empty());
  EXPECT_TRUE(a.start.empty());
}

TEST(PlanTest, APipelineOfATaskOwnedElsewhereStops) {
  // The frozen server wakes up: its lease was replaced ("a#2"), b owns t1 now.
  auto v = Cluster({{"t1", "b#1"}}, {"t1"});
  auto l = Local("a", {"t1"});
  l.token = "a#2";
  v.servers["a#2"] = {"a", "a#2", false};
  v.servers.erase("a#1");
  Actions a = Plan(v, l);
  EXPECT_EQ(a.stop, V{"t1"});
  EXPECT_TRUE(a.start.empty());
  EXPECT_TRUE(a.acquire.empty());
}

TEST(PlanTest, OwnedTasksStartAndPausedOnesAreReleased) {
  auto v = Cluster({{"t1", "a#1"}, {"t2", "a#1"}}, {"t1"});
  Actions a = Plan(v, Local("a", {"t2"}));
  EXPECT_EQ(a.start, V{"t1"});
  EXPECT_EQ(a.stop, V{"t2"});
  EXPECT_EQ(a.release, V{"t2"});
}

TEST(PlanTest, ARequestStoppedTaskIsNotRestartedUntilItsStateSaysSo) {
  auto v = Cluster({{"t1", "a#1"}}, {"t1"});
  auto l = Local("a");
  l.suppressed = {"t1"};
  EXPECT_TRUE(Plan(v, l).start.empty());
}

TEST(PlanTest, AnOverdueFreeTaskIsTakenByAnyServer) {
  // a is chosen but does not take it (slow or dying): after the grace, b takes it too.
  auto v = Cluster({}, {"t1"});
  auto l = Local("b");
  EXPECT_TRUE(Plan(v, l).acquire.empty());
  l.unowned_since["t1"] = l.now - seconds(2);
  EXPECT_TRUE(Plan(v, l).acquire.empty());
  l.unowned_since["t1"] = l.now - seconds(3);
  EXPECT_EQ(Plan(v, l).acquire, V{"t1"});
}

TEST(PlanTest, NothingIsTakenBeforeOurServerKeyIsVisible) {
  auto v = Cluster({}, {"t1"}, {"b"});
  EXPECT_TRUE(Plan(v, Local("a")).acquire.empty());
}

TEST(PlanTest, LiveOwnersKeepTheirTasks) {
  // No rebalancing: a holds all three, b is new and idle; b takes only new work.
  auto v = Cluster({{"t1", "a#1"}, {"t2", "a#1"}, {"t3", "a#1"}}, {"t1", "t2", "t3"}, {"a", "b"});
  Actions a = Plan(v, Local("b"));
  EXPECT_TRUE(a.acquire.empty());
  EXPECT_TRUE(a.stop.empty());
}

TEST(PlanTest, KeysAndTokens) {
  EXPECT_EQ(OwnerKey("cdc-by-dev", "t1"), "cdc-by-dev/ha/owner/t1");
  EXPECT_EQ(ServerKey("/cdc/", "h:8444"), "/cdc/ha/server/h:8444");
  EXPECT_EQ(MakeToken("h:8444", 0x1f), "h:8444#1f");
  EXPECT_EQ(TokenServer("h:8444#1f"), "h:8444");
}

}  // namespace
}  // namespace cdc::ha

// Partition loads followed from the source's load state (replicate/partition_loads.h).
#include "replicate/partition_loads.h"

#include <gtest/gtest.h>

namespace cdc::replicate {
namespace {

PartitionLoads::State ByPartition(std::set<int64_t> parts, int32_t replicas = 1) {
  return LoadInfo{true, replicas, std::move(parts)};
}
PartitionLoads::State Whole(std::set<int64_t> parts) {
  return LoadInfo{false, 1, std::move(parts)};
}

std::string Text(const std::vector<PartitionLoadChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += c.load ? "load" : "release";
    for (int64_t p : c.partitions) out += " " + std::to_string(p);
    if (c.load) out += " x" + std::to_string(c.replicas);
    out += ";";
  }
  return out;
}

TEST(PartitionLoads, PartitionLoadsAndReleasesBecomeRequestsCollectionLoadsDoNot) {
  PartitionLoads l;
  l.Baseline(7, std::nullopt);
  EXPECT_FALSE(l.Changed(7, std::nullopt));
  EXPECT_EQ(Text(l.Diff(7, ByPartition({1}, 2), 10)), "load 1 x2;");
  EXPECT_EQ(Text(l.Diff(7, ByPartition({1, 2}), 11)), "load 2 x1;");
  EXPECT_EQ(Text(l.Diff(7, ByPartition({2}), 12)), "release 1;");
  // Loaded whole (the replicate channel's LoadCollection does it): nothing doubled.
  EXPECT_EQ(Text(l.Diff(7, Whole({0, 1, 2}), 13)), "");
  // One partition released from a collection loaded whole: only etcd shows it.
  EXPECT_EQ(Text(l.Diff(7, Whole({0, 2}), 14)), "release 1;");
  // The whole collection released: released by partition too (etcd cannot tell the
  // channel's ReleaseCollection from the release of the last partition, which it lacks).
  EXPECT_EQ(Text(l.Diff(7, std::nullopt, 15)), "release 0 2;");
  // Loaded by partition, its last partition released: released by partition.
  EXPECT_EQ(Text(l.Diff(7, ByPartition({3}), 16)), "load 3 x1;");
  EXPECT_EQ(Text(l.Diff(7, std::nullopt, 17)), "release 3;");
  // Swapped between two reads: both.
  l.Diff(7, ByPartition({1}), 18);
  EXPECT_EQ(Text(l.Diff(7, ByPartition({2}), 19)), "release 1;load 2 x1;");
}

TEST(PartitionLoads, TheCheckpointHoldsOnlyWhatWasApplied) {
  PartitionLoads l;
  l.Baseline(7, ByPartition({1}));
  l.Diff(7, ByPartition({1, 2}), 10);
  // Not processed yet: a restart finds the change again.
  PartitionLoads restarted;
  ASSERT_TRUE(restarted.Restore(l.Json()).ok());
  EXPECT_TRUE(restarted.Known(7));
  EXPECT_EQ(Text(restarted.Diff(7, ByPartition({1, 2}), 20)), "load 2 x1;");
  // Processed: nothing to do after a restart.
  l.Applied(7, 10);
  PartitionLoads again;
  ASSERT_TRUE(again.Restore(l.Json()).ok());
  EXPECT_FALSE(again.Changed(7, ByPartition({1, 2})));
  // A collection not loaded is kept as such.
  l.Baseline(8, std::nullopt);
  ASSERT_TRUE(again.Restore(l.Json()).ok());
  EXPECT_TRUE(again.Known(8));
  EXPECT_FALSE(again.Changed(8, std::nullopt));
  EXPECT_FALSE(again.Restore("[]").ok());
  EXPECT_FALSE(again.Restore(R"({"x": null})").ok());
}

}  // namespace
}  // namespace cdc::replicate

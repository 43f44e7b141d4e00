// Partition loads followed from the source's load state (replicate/partition_loads.h).
#include "replicate/partition_loads.h"

#include <gtest/gtest.h>

namespace cdc::replicate {
namespace {

PartitionLoads::State ByPartition(std::set<int64_t> parts, int32_t replicas = 1) {
  return LoadInfo{true, replicas, std::move(parts)};
}

TEST(PartitionLoads, ChangesAreNotedAndFollowedTheCheckpointHoldsWhatWasApplied) {
  PartitionLoads l;
  l.Baseline(7, ByPartition({1}));
  EXPECT_FALSE(l.Changed(7, ByPartition({1})));
  EXPECT_TRUE(l.Changed(7, ByPartition({1, 2})));
  EXPECT_TRUE(l.followed().empty());
  l.Note(7, ByPartition({1, 2}), 10);
  EXPECT_FALSE(l.Changed(7, ByPartition({1, 2})));
  EXPECT_EQ(l.followed(), std::set<int64_t>{7});
  // A load or release on the replicate channel: the next read reconciles even when it reads
  // what was seen (the state may have changed and changed back in between).
  l.Touch(7);
  EXPECT_TRUE(l.Changed(7, ByPartition({1, 2})));
  l.Note(7, ByPartition({1, 2}), 10);
  EXPECT_FALSE(l.Changed(7, ByPartition({1, 2})));
  // Not processed yet: a restart finds the change again.
  PartitionLoads restarted;
  ASSERT_TRUE(restarted.Restore(l.Json()).ok());
  EXPECT_TRUE(restarted.Known(7));
  EXPECT_TRUE(restarted.Changed(7, ByPartition({1, 2})));
  // Processed: nothing changed after a restart, and the collection is still followed.
  l.Applied(7, 10);
  PartitionLoads again;
  ASSERT_TRUE(again.Restore(l.Json()).ok());
  EXPECT_FALSE(again.Changed(7, ByPartition({1, 2})));
  EXPECT_EQ(again.followed(), std::set<int64_t>{7});
  // Released and followed, or never followed: both kept as such.
  l.Note(7, std::nullopt, 11);
  l.Applied(7, 11);
  l.Baseline(8, std::nullopt);
  ASSERT_TRUE(again.Restore(l.Json()).ok());
  EXPECT_FALSE(again.Changed(7, std::nullopt));
  EXPECT_FALSE(again.Changed(8, std::nullopt));
  EXPECT_EQ(again.followed(), std::set<int64_t>{7});
  // The format before followed collections were recorded still reads.
  ASSERT_TRUE(
      again.Restore(R"({"9": null, "10": {"by_partition": true, "partitions": [3]}})").ok());
  EXPECT_FALSE(again.Changed(9, std::nullopt));
  EXPECT_FALSE(again.Changed(10, ByPartition({3})));
  EXPECT_TRUE(again.followed().empty());
  EXPECT_FALSE(again.Restore("[]").ok());
  EXPECT_FALSE(again.Restore(R"({"x": null})").ok());
}

TEST(PartitionLoads, AWantedLoadStateRoundTripsAndBadTextIsRefused) {
  WantedLoad w;
  w.db = "db1";
  w.collection = "c1";
  w.loaded = true;
  w.by_partition = true;
  w.replicas = 2;
  w.partitions = {"p1", "p2"};
  auto back = DecodeWantedLoad(EncodeWantedLoad(w));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->db, "db1");
  EXPECT_EQ(back->collection, "c1");
  EXPECT_TRUE(back->loaded);
  EXPECT_TRUE(back->by_partition);
  EXPECT_FALSE(back->partition_key);
  EXPECT_EQ(back->replicas, 2);
  EXPECT_EQ(back->partitions, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_FALSE(DecodeWantedLoad("not json").ok());
  EXPECT_FALSE(DecodeWantedLoad(R"({"db": "x"})").ok());
  EXPECT_FALSE(DecodeWantedLoad(R"({"collection": "c", "partitions": [1]})").ok());
}

}  // namespace
}  // namespace cdc::replicate

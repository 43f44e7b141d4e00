#include "verify/collection_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/verify/fake_reader.h"

namespace cdc::verify {
namespace {

using target::PrimaryKey;
using ::testing::ElementsAre;
using testing::FakeCollection;
using testing::FakeReader;
using testing::FakeRow;
using ::testing::HasSubstr;
using testing::MakeCollection;

PrimaryKey K(int64_t k) { return PrimaryKey(k); }

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.page_size = 100;
    options_.sample_rows = 20;
    options_.recheck_delay = std::chrono::milliseconds(1);
    options_.catch_up_timeout = std::chrono::milliseconds(1000);
    options_.settle_timeout = std::chrono::milliseconds(3000);
  }

  // The same collection with keys 0..rows-1 (spread over `partitions`) on both sides.
  void Both(const std::string& name, int64_t rows, std::vector<std::string> partitions = {},
            bool varchar = false) {
    FakeCollection c = MakeCollection(name, varchar);
    if (!partitions.empty()) c.partitions = partitions;
    for (int64_t i = 0; i < rows; ++i) {
      FakeRow r;
      r.partition = c.partitions[static_cast<size_t>(i) % c.partitions.size()];
      r.n = i * 7;
      r.vec[0] = static_cast<float>(i);
      r.meta = R"({"a":)" + std::to_string(i) + R"(,"b":"x"})";
      c.rows[varchar ? PrimaryKey("k\"" + std::to_string(1000 + i)) : K(i)] = r;
    }
    source_.collections[name] = c;
    target_.collections[name] = c;
  }

  CollectionResult Run(const std::string& name) {
    VerifyEnv env;
    env.source = &source_;
    env.target = &target_;
    env.applied_ts = [this]() -> Result<uint64_t> {
      if (!running_) return FailedPreconditionError("task t1 is not running");
      return applied_ ? applied_() : source_.ts.load();
    };
    env.sleep = [this](std::chrono::milliseconds d) {
      slept_ += d;
      return cancel_after_ < 0 || --cancel_after_ >= 0;
    };
    env.local_ts = [] { return uint64_t{5000}; };
    env.on_progress = [this](const VerifyProgress& p) { phases_.push_back(p.phase); };
    env.concurrent_reads = concurrent_;
    return CollectionVerifier(env, options_, "default", name, note_).Run();
  }

  FakeReader source_{"source"}, target_{"target"};
  VerifyOptions options_;
  std::function<uint64_t()> applied_;  // default: caught up with every source read
  bool running_ = true;
  bool concurrent_ = false;  // the fakes are changed by hooks: one thread
  int cancel_after_ = -1;
  std::chrono::milliseconds slept_{0};
  std::vector<std::string> phases_;
  std::string note_;
};

TEST_F(VerifierTest, EqualCollectionsAcrossPartitionsAndRanges) {
  Both("c1", 1000, {"_default", "p1"});
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kEqual) << r.message;
  EXPECT_TRUE(r.differences.empty());
  EXPECT_TRUE(r.keys.empty());
  EXPECT_EQ(r.keys_compared, 1000);
  EXPECT_EQ(r.ranges, 12);  // 500 keys per partition in pages of 100: 5 full + 1 empty top
  EXPECT_EQ(r.source_rows, 1000);
  EXPECT_EQ(r.target_rows, 1000);
  EXPECT_EQ(r.rows_sampled, 20);
  EXPECT_EQ(r.source_digest.size(), 64u);
  EXPECT_EQ(r.source_digest, r.target_digest);
  EXPECT_GT(r.read_ts, 0u);
  EXPECT_EQ(phases_.front(), "metadata");
  EXPECT_EQ(phases_.back(), "done");
  EXPECT_THAT(phases_, ::testing::Contains("keys"));
  EXPECT_THAT(phases_, ::testing::Contains("values"));
}

TEST_F(VerifierTest, ARowOnlyOnTheTargetIsNamedWithItsPartition) {
  Both("c1", 1000, {"_default", "p1"});
  FakeRow extra;
  extra.partition = "p1";
  target_.collections["c1"].rows[K(5000)] = extra;
  target_.collections["c1"].rows.erase(K(501));
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.keys.size(), 2u);
  EXPECT_EQ(r.keys[0].key, K(501));
  EXPECT_EQ(r.keys[0].kind, KeyDiffKind::kMissingOnTarget);
  EXPECT_EQ(r.keys[0].partition, "p1");
  EXPECT_EQ(r.keys[1].key, K(5000));
  EXPECT_EQ(r.keys[1].kind, KeyDiffKind::kExtraOnTarget);
  EXPECT_EQ(r.ranges_differing, 2);
  EXPECT_NE(r.source_digest, r.target_digest);
  // count(*) is equal (one row more, one less): the keys tell.
  EXPECT_EQ(r.source_rows, r.target_rows);
}

TEST_F(VerifierTest, FirstDifferingKeysInOrderUpToTheLimit) {
  Both("c1", 1000);
  for (int64_t k = 300; k < 400; ++k) target_.collections["c1"].rows.erase(K(k));
  options_.max_keys = 3;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.keys.size(), 3u);
  EXPECT_EQ(r.keys[0].key, K(300));
  EXPECT_EQ(r.keys[2].key, K(302));
  ASSERT_FALSE(r.differences.empty());
  EXPECT_EQ(r.differences.back().aspect, "row_count");
  EXPECT_EQ(r.differences.back().detail,
            "1000 on the source, 900 on the target, the same gap in 3 reads");
}

TEST_F(VerifierTest, AWriteBetweenTheTwoReadsIsNotADifference) {
  Both("c1", 300);
  // The source takes key 250 right after the verify read the range that holds it: the
  // target (read later) already has it; the re-check reads the source again and finds it.
  bool written = false;
  source_.before_query = [&](const target::QueryRequest& q) {
    if (!written && q.expr == "id > 199" && q.output_fields.empty()) {
      written = true;
      target_.collections["c1"].rows[K(250)];  // replicated right away
    }
  };
  source_.collections["c1"].rows.erase(K(250));
  target_.collections["c1"].rows.erase(K(250));
  bool added_to_source = false;
  target_.before_query = [&](const target::QueryRequest&) {
    if (written && !added_to_source) {
      added_to_source = true;
      source_.collections["c1"].rows[K(250)];
    }
  };
  auto r = Run("c1");
  EXPECT_TRUE(written);
  EXPECT_EQ(r.verdict, Verdict::kEqual) << r.message;
  EXPECT_EQ(r.ranges_differing, 0);
  EXPECT_EQ(r.ranges_unsettled, 0);
  EXPECT_GT(slept_.count(), 0);  // it waited before re-reading
}

TEST_F(VerifierTest, ARangeThatChangesInEveryReadIsUnsettled) {
  Both("c1", 300);
  // Every target read of the top range finds one key the source read before it did not have:
  // a writer appending keys faster than the verify reads.
  int64_t next = 10000;
  target_.before_query = [&](const target::QueryRequest& q) {
    if (q.expr == "id > 299" && q.output_fields.empty()) {
      source_.collections["c1"].rows[K(next)];
      target_.collections["c1"].rows[K(next)];
      ++next;
    }
  };
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kUnsettled);
  EXPECT_EQ(r.ranges_unsettled, 1);
  EXPECT_TRUE(r.keys.empty());
  EXPECT_THAT(r.message, HasSubstr("verify again when writes pause"));
}

TEST_F(VerifierTest, SampledValuesAreComparedByFieldJsonByValue) {
  Both("c1", 100);
  auto& t = target_.collections["c1"].rows;
  t[K(0)].meta = R"({"b":"x","a":0})";  // the same object, other key order: equal
  t[K(5)].n = -1;
  t[K(5)].meta = R"({"a":5,"b":"y"})";
  options_.sample_rows = 100;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0].key, K(5));
  EXPECT_EQ(r.keys[0].kind, KeyDiffKind::kValuesDiffer);
  EXPECT_EQ(r.keys[0].detail, "fields n, $meta");
  EXPECT_EQ(r.rows_sampled, 100);
}

TEST_F(VerifierTest, VarcharKeysWithQuotesArePagedAndCompared) {
  Both("s1", 250, {}, /*varchar=*/true);
  target_.collections["s1"].rows.erase(PrimaryKey("k\"1100"));
  auto r = Run("s1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0].key, PrimaryKey("k\"1100"));
  EXPECT_EQ(r.keys_compared, 250);
}

TEST_F(VerifierTest, RowsStoredTwiceShowInCountOnly) {
  Both("c1", 200);
  target_.collections["c1"].extra_count = 3;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  EXPECT_TRUE(r.keys.empty());
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].aspect, "row_count");
  EXPECT_THAT(r.differences[0].detail, HasSubstr("200 on the source, 203 on the target"));
  EXPECT_THAT(r.differences[0].detail, HasSubstr("while the keys are equal: rows stored twice"));
}

TEST_F(VerifierTest, ACountGapThatMovesIsUnsettled) {
  Both("c1", 200);
  int reads = 0;
  target_.before_query = [&](const target::QueryRequest& q) {
    if (q.output_fields == std::vector<std::string>{"count(*)"})
      target_.collections["c1"].extra_count = ++reads;
  };
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kUnsettled) << r.message;
  EXPECT_THAT(r.message, HasSubstr("count(*)"));
}

TEST_F(VerifierTest, MetadataDifferences) {
  Both("c1", 10, {"_default", "p1"});
  auto& t = target_.collections["c1"];
  t.partitions = {"_default"};
  t.indexes[0].params["params"] = R"({"nlist": 8})";
  t.desc.schema.mutable_fields(1)->set_data_type(target::schemapb::Int32);
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  std::vector<std::string> aspects;
  for (const auto& d : r.differences) aspects.push_back(d.aspect + ": " + d.detail);
  EXPECT_THAT(aspects, ::testing::Contains(
                           "schema: field 1 (n) data_type: Int64 on the source, Int32 on the "
                           "target"));
  EXPECT_THAT(aspects, ::testing::Contains("partitions: missing on the target: p1"));
  EXPECT_THAT(aspects, ::testing::Contains(HasSubstr("indexes: index vec_idx params")));
  // Index params are applied beside the data: waited for up to settle_timeout.
  EXPECT_GE(slept_.count(), 3000);
}

TEST_F(VerifierTest, IndexParamsAsJsonInOtherOrderAreEqual) {
  Both("c1", 10);
  source_.collections["c1"].indexes[0].params["params"] = R"({"nlist":8,"m":4})";
  target_.collections["c1"].indexes[0].params["params"] = R"({"m": 4, "nlist": 8})";
  EXPECT_EQ(Run("c1").verdict, Verdict::kEqual);
}

TEST_F(VerifierTest, ACollectionMissingOnOneSide) {
  Both("c1", 10);
  target_.collections.erase("c1");
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].aspect, "collection");
  EXPECT_EQ(r.differences[0].detail, "missing on the target");

  source_.collections.erase("c1");
  target_.collections["c1"] = MakeCollection("c1");
  r = Run("c1");
  EXPECT_EQ(r.differences[0].detail, "missing on the source, still on the target");

  target_.collections.erase("c1");
  r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_THAT(r.message, HasSubstr("neither on the source nor on the target"));
}

TEST_F(VerifierTest, NotLoadedOnTheSourceIsIncomplete) {
  Both("c1", 10);
  source_.collections["c1"].load = target::commonpb::LoadStateNotLoad;
  target_.collections["c1"].load = target::commonpb::LoadStateNotLoad;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kIncomplete);
  EXPECT_THAT(r.message, HasSubstr("NotLoad on the source"));
  EXPECT_THAT(r.message, HasSubstr("load it"));
  EXPECT_EQ(source_.queries, 0);
}

TEST_F(VerifierTest, ATaskThatStaysBehindIsAnErrorNamingTheLag) {
  Both("c1", 10);
  applied_ = [] { return uint64_t{10}; };
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_THAT(r.message, HasSubstr("the task is behind"));
  EXPECT_THAT(r.message, HasSubstr("verify again once it has caught up"));
  EXPECT_GE(slept_.count(), 1000);
  EXPECT_LE(slept_.count(), 1100);
}

TEST_F(VerifierTest, WaitsForTheTaskToApplyTheSourceRead) {
  Both("c1", 10);
  int polls = 0;
  applied_ = [&] { return ++polls < 5 ? uint64_t{0} : source_.ts.load(); };
  EXPECT_EQ(Run("c1").verdict, Verdict::kEqual);
  EXPECT_GE(slept_.count(), 400);  // 4 polls of 100 ms before the first read
}

TEST_F(VerifierTest, StoppedTaskOrCancelIsAnError) {
  Both("c1", 10);
  running_ = false;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_THAT(r.message, HasSubstr("not running"));
  running_ = true;
  applied_ = [] { return uint64_t{0}; };
  cancel_after_ = 2;
  r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_THAT(r.message, HasSubstr("cancelled"));
}

TEST_F(VerifierTest, LocalClockWhenTheSourceCannotAllocateTimestamps) {
  Both("c1", 10);
  source_.alloc_unimplemented = true;
  applied_ = [] { return uint64_t{5000}; };  // the local clock of the test
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kEqual) << r.message;
  EXPECT_EQ(r.read_ts, 5000u);
}

TEST_F(VerifierTest, NoteIsKept) {
  Both("c1", 1);
  note_ = "set aside: the target refused it";
  EXPECT_EQ(Run("c1").note, "set aside: the target refused it");
}

}  // namespace
}  // namespace cdc::verify

namespace cdc::verify {
namespace {

TEST_F(VerifierTest, BothSidesReadAtOnceOnTwoThreads) {
  concurrent_ = true;
  Both("c1", 1000, {"_default", "p1"});
  target_.collections["c1"].rows.erase(K(640));
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0].key, K(640));
  EXPECT_EQ(r.keys[0].partition, "_default");
  EXPECT_EQ(r.keys_compared, 1000);
}

}  // namespace
}  // namespace cdc::verify

namespace cdc::verify {
namespace {

TEST_F(VerifierTest, RangesBeyondTheRecheckLimitAreNotConfirmed) {
  Both("c1", 1000);
  target_.collections["c1"].rows.erase(K(50));
  target_.collections["c1"].rows.erase(K(650));
  options_.max_suspect_ranges = 1;
  auto r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);  // the first range, re-checked
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0].key, K(50));
  EXPECT_EQ(r.ranges_differing, 1);
  EXPECT_EQ(r.ranges_unsettled, 1);
  target_.collections["c1"].rows[K(50)] = source_.collections["c1"].rows[K(50)];
  r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kDiffers);  // the count differs the same way three times
  options_.max_suspect_ranges = 0;
  target_.collections["c1"].extra_count = 1;  // count(*) equal again
  r = Run("c1");
  EXPECT_EQ(r.verdict, Verdict::kUnsettled);
  EXPECT_THAT(r.message, HasSubstr("1 more differing key ranges were not re-checked"));
}

}  // namespace
}  // namespace cdc::verify

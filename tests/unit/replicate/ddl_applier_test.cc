#include "replicate/ddl_applier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
#include "replicate/partition_loads.h"
#include "target/grpc_client.h"
#include "unit/target/fake_milvus.h"

namespace cdc::replicate {
namespace {

namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;
using std::chrono::milliseconds;

bool WaitFor(const std::function<bool()>& done, milliseconds within = milliseconds(5000)) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

class DdlApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    addr_ = fake_.Start();
    fake_.AddCollection("default", "slow");
    fake_.AddCollection("default", "fast");
    target::ConnectOptions o;
    o.uri = "http://" + addr_;
    o.max_attempts = 1;
    o.connect_timeout_s = 5;
    o.replicate_channel = ::cdc::testing::FakeMilvus::kReplicateChannel;
    auto c = target::ConnectGrpcClient(o);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }
  void TearDown() override { fake_.Stop(); }

  static DdlRequest Request(int64_t id, const std::string& collection, int type,
                            const std::string& payload, uint64_t ts) {
    DdlRequest r;
    r.collection_id = id;
    r.db = "default";
    r.collection = collection;
    r.type = type;
    r.payload = payload;
    r.ts = ts;
    return r;
  }
  static DdlRequest Flush(int64_t id, const std::string& collection, uint64_t ts) {
    mpb::FlushRequest req;
    req.add_collection_names(collection);
    return Request(id, collection, cpb::Flush, req.SerializeAsString(), ts);
  }
  static DdlRequest Load(int64_t id, const std::string& collection, uint64_t ts) {
    mpb::LoadCollectionRequest req;
    req.set_collection_name(collection);
    return Request(id, collection, cpb::LoadCollection, req.SerializeAsString(), ts);
  }
  static DdlRequest Release(int64_t id, const std::string& collection, uint64_t ts) {
    mpb::ReleaseCollectionRequest req;
    req.set_collection_name(collection);
    return Request(id, collection, cpb::ReleaseCollection, req.SerializeAsString(), ts);
  }

  static DdlRequest CreateIndex(int64_t id, const std::string& collection, const std::string& index,
                                uint64_t ts) {
    mpb::CreateIndexRequest req;
    req.set_collection_name(collection);
    req.set_field_name("vec");
    req.set_index_name(index);
    return Request(id, collection, cpb::CreateIndex, req.SerializeAsString(), ts);
  }
  static DdlRequest DropIndex(int64_t id, const std::string& collection, const std::string& index,
                              uint64_t ts) {
    mpb::DropIndexRequest req;
    req.set_collection_name(collection);
    req.set_field_name("vec");
    req.set_index_name(index);
    return Request(id, collection, cpb::DropIndex, req.SerializeAsString(), ts);
  }

  ::cdc::testing::FakeMilvus fake_;
  std::string addr_;
  std::unique_ptr<target::GrpcClient> client_;
};

// A target that holds one collection's Flush for long (a Milvus 2.3 target can, for minutes)
// must not hold back the requests of other collections.
TEST_F(DdlApplierTest, ACallTheTargetHoldsBlocksOnlyItsOwnCollection) {
  fake_.FailNext("Flush", 1, {.delay = milliseconds(3000)});
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(1, true);
  applier.SetReady(2, true);
  applier.Add(Flush(1, "slow", 100));
  ASSERT_TRUE(WaitFor([&] { return fake_.CallsOf("Flush").size() == 1; }));
  applier.Add(Load(2, "fast", 101));
  applier.Add(Release(2, "fast", 102));
  EXPECT_TRUE(
      WaitFor([&] { return fake_.CallsOf("ReleaseCollection").size() == 1; }, milliseconds(2000)));
  EXPECT_EQ(fake_.CallsOf("LoadCollection").size(), 1u);
  EXPECT_EQ(applier.stats().applied, 2u) << "the slow Flush is still in flight";
  EXPECT_TRUE(WaitFor([&] { return applier.stats().applied == 3; }));
  applier.Stop();
}

// Workers end once nothing was queued for idle_exit (an idle task holds no worker thread), and a
// request after that starts one again.
TEST_F(DdlApplierTest, IdleWorkersEndAndARequestStartsOneAgain) {
  DdlApplier applier("t", client_.get(),
                     {.init_backoff = milliseconds(10), .idle_exit = milliseconds(100)});
  applier.SetReady(2, true);
  applier.Add(Load(2, "fast", 101));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 1; }));
  EXPECT_TRUE(WaitFor([&] { return applier.stats().workers == 0; }, milliseconds(2000)));
  for (uint64_t ts = 102; ts < 106; ++ts) {  // each after the worker of the one before ended
    applier.Add(ts % 2 == 0 ? Release(2, "fast", ts) : Load(2, "fast", ts));
    ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == ts - 100; })) << ts;
    EXPECT_TRUE(WaitFor([&] { return applier.stats().workers == 0; }, milliseconds(2000)));
  }
  applier.Add(Release(2, "fast", 106));  // while a worker may be ending: still applied
  applier.Add(Load(2, "fast", 107));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 7; }));
  applier.Stop();
  EXPECT_EQ(applier.stats().workers, 0u);
}

// One collection's requests stay in source order, one at a time, even with several workers.
TEST_F(DdlApplierTest, OneCollectionsRequestsStayInOrder) {
  fake_.FailNext("LoadCollection", 1, {.delay = milliseconds(500)});
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10), .workers = 4});
  applier.SetReady(2, true);
  applier.Add(Load(2, "fast", 101));
  applier.Add(Release(2, "fast", 102));
  applier.Add(Load(2, "fast", 103));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 3; }));
  std::vector<std::string> order;
  for (const auto& c : fake_.Calls())
    if (c.method == "LoadCollection" || c.method == "ReleaseCollection")
      order.push_back(c.method + "@" + std::to_string(c.replicate_ts));
  EXPECT_EQ(order, (std::vector<std::string>{"LoadCollection@101", "ReleaseCollection@102",
                                             "LoadCollection@103"}));
  applier.Stop();
}

// While a request waits for the target's answer, the task's reason says so.
TEST_F(DdlApplierTest, AnUnansweredCallIsNamedInTheReasons) {
  fake_.FailNext("Flush", 1, {.delay = milliseconds(6500)});
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(1, true);
  applier.Add(Flush(1, "slow", 100));
  ASSERT_TRUE(WaitFor([&] { return applier.Reasons().count(1) == 1; }, milliseconds(6000)));
  EXPECT_NE(applier.Reasons()[1].find("no answer yet"), std::string::npos) << applier.Reasons()[1];
  applier.Stop();
}

// After a restart the replicate channel is read again from the checkpoint: create A, drop A,
// create B, all applied before the kill, come again while the target holds B. Milvus refuses A
// (its field has another index); A is moot since its DropIndex waits behind it, so it is
// counted as superseded and B's queue goes on instead of retrying A forever.
TEST_F(DdlApplierTest, AReplayedCreateIndexDroppedLaterIsSupersededNotRetriedForever) {
  fake_.FailNext("CreateIndex", 1,
                 {.milvus_code = 65535,
                  .reason = "CreateIndex failed: at most one distinct index is allowed per field"});
  std::vector<std::string> skips;
  std::mutex mu;
  DdlApplier applier("t", client_.get(),
                     {.init_backoff = milliseconds(10),
                      .on_skip = [&](const std::string& k, const std::string& what) {
                        std::lock_guard l(mu);
                        skips.push_back(k + ": " + what);
                      }});
  applier.SetReady(2, true);
  applier.Add(CreateIndex(2, "fast", "a", 101));
  applier.Add(DropIndex(2, "fast", "a", 102));
  applier.Add(CreateIndex(2, "fast", "b", 103));
  applier.Add(Load(2, "fast", 104));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 3; })) << applier.stats().applied;
  EXPECT_EQ(applier.stats().superseded, 1u);
  EXPECT_EQ(fake_.CallsOf("CreateIndex").size(), 2u) << "A once (refused), B once";
  std::lock_guard l(mu);
  ASSERT_EQ(skips.size(), 1u);
  EXPECT_EQ(
      skips[0].rfind("index_create_superseded: CreateIndex of default.fast (source ts 101)", 0), 0u)
      << skips[0];
  EXPECT_NE(skips[0].find("at most one distinct index"), std::string::npos) << skips[0];
  applier.Stop();
}

// The same refusal with no DropIndex behind it is a real conflict: retried, and named.
TEST_F(DdlApplierTest, AConflictingCreateIndexWithNoLaterDropIsRetried) {
  fake_.FailNext("CreateIndex", 3,
                 {.milvus_code = 65535,
                  .reason = "CreateIndex failed: at most one distinct index is allowed per field"});
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(2, true);
  applier.Add(CreateIndex(2, "fast", "a", 101));
  applier.Add(Load(2, "fast", 102));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 2; }));
  EXPECT_EQ(applier.stats().superseded, 0u);
  EXPECT_EQ(fake_.CallsOf("CreateIndex").size(), 4u);
  applier.Stop();
}

std::set<std::string> LoadedPartitions(const ::cdc::testing::FakeMilvus& fake) {
  const auto* c = fake.FindCollection("default", "slow");
  return c == nullptr ? std::set<std::string>() : c->loaded_partitions;
}

// A 2.3 source records no partition load or release: the pipeline queues the load state it
// reads from the source's etcd, and the applier takes the target there from wherever the
// target is (e.g. released by the channel's ReleaseCollection between two reads, or by a
// replay after a crash), with only the calls needed.
TEST_F(DdlApplierTest, AReconcileTakesTheTargetsLoadStateToTheSourcesFromWhereverItIs) {
  for (const char* p : {"p1", "p2"})
    ASSERT_TRUE(client_->CreatePartition("default", "slow", p, 1).ok());
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(1, true);
  uint64_t ts = 100;
  auto reconcile = [&](WantedLoad w) {
    w.db = "default";
    w.collection = "slow";
    const uint64_t before = applier.stats().applied;
    applier.Add(Request(1, "slow", kReconcileLoad, EncodeWantedLoad(w), ++ts));
    return WaitFor([&] { return applier.stats().applied == before + 1; });
  };
  // Not loaded on the target, p1 loaded by partition on the source: LoadPartitions p1.
  ASSERT_TRUE(
      reconcile({.loaded = true, .by_partition = true, .replicas = 2, .partitions = {"p1"}}));
  EXPECT_EQ(LoadedPartitions(fake_), std::set<std::string>{"p1"});
  ASSERT_EQ(fake_.CallsOf("LoadPartitions").size(), 1u);
  EXPECT_NE(fake_.CallsOf("LoadPartitions")[0].request_text.find("replica_number: 2"),
            std::string::npos);
  // The same again: nothing to call.
  const size_t calls = fake_.Calls().size();
  ASSERT_TRUE(
      reconcile({.loaded = true, .by_partition = true, .replicas = 2, .partitions = {"p1"}}));
  for (size_t i = calls; i < fake_.Calls().size(); ++i)
    EXPECT_EQ(fake_.Calls()[i].method.rfind("Load", 0), std::string::npos)
        << fake_.Calls()[i].method;
  // p1 swapped for p2 between two reads: p2 loaded first, then p1 released.
  ASSERT_TRUE(reconcile({.loaded = true, .by_partition = true, .partitions = {"p2"}}));
  EXPECT_EQ(LoadedPartitions(fake_), std::set<std::string>{"p2"});
  // Loaded whole, one partition released since: LoadCollection, then that partition released.
  ASSERT_TRUE(applier.stats().applied > 0);
  ASSERT_TRUE(client_
                  ->ReleaseCollection(
                      "default",
                      [] {
                        mpb::ReleaseCollectionRequest r;
                        r.set_collection_name("slow");
                        return r;
                      }(),
                      1)
                  .ok());
  ASSERT_TRUE(reconcile({.loaded = true, .partitions = {"_default", "p2"}}));
  EXPECT_EQ(LoadedPartitions(fake_), (std::set<std::string>{"_default", "p2"}));
  EXPECT_EQ(fake_.CallsOf("LoadCollection").size(), 1u);
  // Not loaded on the source: released.
  ASSERT_TRUE(reconcile({}));
  EXPECT_FALSE(fake_.FindCollection("default", "slow")->loaded);
  EXPECT_EQ(applier.stats().reconciled, 4u);
  // A collection gone from the target: nothing to do.
  WantedLoad gone{.collection = "nowhere", .loaded = true};
  applier.SetReady(2, true);
  applier.Add(Request(2, "nowhere", kReconcileLoad, EncodeWantedLoad(gone), ++ts));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 6; }));
  EXPECT_EQ(applier.stats().reconciled, 4u);
  applier.Stop();
}

// A partition loaded on the source that the target does not have (dropped there, or its create
// still to come) is not passed over: the applier says so through on_skip (the task's reason and
// its `skipped` counter), and loads the partitions the target has.
TEST_F(DdlApplierTest, AReconcileNamesAWantedPartitionTheTargetDoesNotHave) {
  ASSERT_TRUE(client_->CreatePartition("default", "slow", "p1", 1).ok());
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> skips;
  DdlApplier applier("t", client_.get(),
                     {.init_backoff = milliseconds(10),
                      .on_skip = [&](const std::string& kind, const std::string& what) {
                        std::lock_guard l(mu);
                        skips.emplace_back(kind, what);
                      }});
  applier.SetReady(1, true);
  WantedLoad w{.db = "default",
               .collection = "slow",
               .loaded = true,
               .by_partition = true,
               .partitions = {"p1", "p9"}};
  applier.Add(Request(1, "slow", kReconcileLoad, EncodeWantedLoad(w), 100));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 1; }));
  applier.Stop();
  EXPECT_EQ(LoadedPartitions(fake_), std::set<std::string>{"p1"});
  std::lock_guard l(mu);
  ASSERT_EQ(skips.size(), 1u);
  EXPECT_EQ(skips[0].first, "load_of_partition_missing_on_target");
  EXPECT_THAT(skips[0].second, ::testing::HasSubstr("partitions [p9]"));
}

// A collection loaded on the target with other indexes than a load now needs (an index created
// after the load on the source and put before it by a replay) takes more partitions only after
// a release: the load is not retried forever.
TEST_F(DdlApplierTest, ALoadRefusedForOtherIndexesIsTakenAfterARelease) {
  ASSERT_TRUE(client_->CreatePartition("default", "slow", "p1", 1).ok());
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(1, true);
  mpb::LoadPartitionsRequest lp;
  lp.add_partition_names("_default");
  ASSERT_TRUE(client_
                  ->LoadPartitions(
                      "default",
                      [&] {
                        auto r = lp;
                        r.set_collection_name("slow");
                        return r;
                      }(),
                      1)
                  .ok());
  const ::cdc::testing::FakeMilvus::Failure refused{
      .milvus_code = 1100,
      .reason =
          "can't change the index for loaded partitions: invalid parameter[expected=map[100:1]]"
          "[actual=map[100:1 101:2]]"};
  fake_.FailNext("LoadPartitions", 1, refused);
  WantedLoad w{.db = "default",
               .collection = "slow",
               .loaded = true,
               .by_partition = true,
               .partitions = {"_default", "p1"}};
  applier.Add(Request(1, "slow", kReconcileLoad, EncodeWantedLoad(w), 100));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 1; }));
  EXPECT_EQ(LoadedPartitions(fake_), (std::set<std::string>{"_default", "p1"}));
  EXPECT_EQ(fake_.CallsOf("ReleaseCollection").size(), 1u);
  // The same for a LoadPartitions of the replicate channel.
  fake_.FailNext("LoadPartitions", 1, refused);
  mpb::LoadPartitionsRequest again;
  again.add_partition_names("p1");
  applier.Add(Request(1, "slow", cpb::LoadPartitions, again.SerializeAsString(), 101));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 2; }));
  EXPECT_EQ(fake_.CallsOf("ReleaseCollection").size(), 2u);
  EXPECT_TRUE(LoadedPartitions(fake_).count("p1"));
  applier.Stop();
}

// Milvus drops an index only of a collection not loaded: the source had it released when it
// took the DropIndex, even when the release (of its last partition: not on the channel) reaches
// the target later. The target's collection is released first instead of retrying forever.
TEST_F(DdlApplierTest, ADropIndexRefusedAsLoadedReleasesTheCollectionFirst) {
  fake_.FailNext(
      "DropIndex", 1,
      {.milvus_code = 65535,
       .reason = "index cannot be dropped, collection is loaded, please release it first"});
  DdlApplier applier("t", client_.get(), {.init_backoff = milliseconds(10)});
  applier.SetReady(2, true);
  applier.Add(Load(2, "fast", 100));
  applier.Add(DropIndex(2, "fast", "a", 101));
  ASSERT_TRUE(WaitFor([&] { return applier.stats().applied == 2; }));
  EXPECT_EQ(fake_.CallsOf("DropIndex").size(), 2u);
  ASSERT_EQ(fake_.CallsOf("ReleaseCollection").size(), 1u);
  EXPECT_EQ(fake_.CallsOf("ReleaseCollection")[0].replicate_ts, 101u);
  EXPECT_FALSE(fake_.FindCollection("default", "fast")->loaded);
  applier.Stop();
}

}  // namespace
}  // namespace cdc::replicate

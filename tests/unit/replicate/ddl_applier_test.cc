#include "replicate/ddl_applier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
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
                     {.init_backoff = milliseconds(10), .on_skip = [&](const std::string& k) {
                        std::lock_guard l(mu);
                        skips.push_back(k);
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
  EXPECT_EQ(skips, (std::vector<std::string>{"index_create_superseded"}));
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

}  // namespace
}  // namespace cdc::replicate

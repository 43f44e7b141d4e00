// ha::Coordinator against a real etcd (scripts/e2e-env.sh up etcd): two servers in one process,
// each with its own coordinator, etcd store and task manager, and a recording replicator in
// place of the pipelines. Who runs a task is read from MayWrite (the target-write gate).
#include "ha/coordinator.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include "etcd/client.h"
#include "gtest/gtest.h"
#include "meta/factory.h"
#include "meta/layout.h"
#include "unit/task/task_fakes.h"

namespace cdc::ha {
namespace {

using std::chrono::milliseconds;

std::string Etcd() {
  const char* v = std::getenv("CDC_TEST_ETCD");
  return v ? v : "";
}

struct Server {
  std::unique_ptr<Coordinator> ha;
  std::unique_ptr<meta::Store> store;
  task::RecordingReplicator inner;
  task::FakeProbe probe;
  std::unique_ptr<task::TaskManager> tasks;

  ~Server() {
    if (ha) ha->Close();
  }
  bool Runs(const std::string& id) { return ha->MayWrite(id).ok(); }
  Status Checkpoint(const std::string& id) {
    return store->PutPositions({{id, 1, "c", R"({"ch":{"Time":1}})", "{}", "{}"}});
  }
};

std::unique_ptr<Server> Start(const std::string& id, const std::string& root) {
  auto s = std::make_unique<Server>();
  CoordinatorOptions o;
  o.server_id = id;
  o.root_path = root;
  o.lease_ttl = milliseconds(2000);
  o.poll = milliseconds(200);
  o.drain_timeout = milliseconds(5000);
  o.plan.grace = milliseconds(1000);
  etcd::ClientOptions e;
  e.endpoints = {Etcd()};
  auto ha = Coordinator::Create(e, o);
  EXPECT_TRUE(ha.ok()) << ha.status();
  s->ha = std::move(*ha);
  meta::StoreOptions so;
  so.type = "etcd";
  so.root_path = root;
  so.etcd = e;
  so.etcd_fence = s->ha.get();
  auto store = meta::CreateStore(so);
  EXPECT_TRUE(store.ok()) << store.status();
  s->store = std::move(*store);
  s->ha->set_inner(&s->inner);
  task::ManagerOptions mo;
  mo.persist_reasons = false;
  s->tasks = std::make_unique<task::TaskManager>(s->store.get(), s->ha.get(), &s->probe, mo);
  EXPECT_TRUE(s->tasks->Recover().ok());
  s->ha->set_store(s->store.get());
  s->ha->set_manager(s->tasks.get());
  Status st = s->ha->Open();
  EXPECT_TRUE(st.ok()) << st;
  return s;
}

template <typename F>
bool Within(milliseconds limit, F done, milliseconds every = milliseconds(50)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

task::CreateRequest Req() {
  task::CreateRequest r;
  r.milvus.uri = "http://t:19530";
  r.collection_infos = {{"c1", {}, false}};
  return r;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Etcd().empty()) GTEST_SKIP() << "CDC_TEST_ETCD is not set (scripts/e2e-env.sh up etcd)";
    root_ = "cdc-ha-" + std::to_string(std::random_device()());
    a_ = Start("a", root_);
    b_ = Start("b", root_);
  }
  // The one server running `id` (fails unless exactly one does within 5 s).
  Server* Owner(const std::string& id) {
    Server* owner = nullptr;
    EXPECT_TRUE(Within(milliseconds(5000),
                       [&] {
                         owner = a_->Runs(id) == b_->Runs(id)
                                     ? nullptr
                                     : (a_->Runs(id) ? a_.get() : b_.get());
                         return owner != nullptr;
                       }))
        << "task " << id << " runs on no server or on both";
    return owner;
  }
  std::string root_;
  std::unique_ptr<Server> a_, b_;
};

TEST_F(CoordinatorTest, ATaskRunsOnOneServerAndOnlyItsOwnerMayCheckpoint) {
  auto id = a_->tasks->Create(Req());
  ASSERT_TRUE(id.ok()) << id.status();
  Server* owner = Owner(*id);
  ASSERT_NE(owner, nullptr);
  Server* other = owner == a_.get() ? b_.get() : a_.get();
  EXPECT_TRUE(owner->Checkpoint(*id).ok());
  Status refused = other->Checkpoint(*id);
  EXPECT_EQ(refused.code(), StatusCode::kAborted) << refused;
  // Both servers list the task with its owner.
  ASSERT_TRUE(Within(milliseconds(2000), [&] {
    auto got = other->tasks->Get(*id);
    return got.ok() && got->owner == owner->ha->server_id();
  }));
}

TEST_F(CoordinatorTest, WhenEtcdExpiresTheOwnersLeaseTheTaskMovesAndTheOldOwnerIsFenced) {
  auto id = b_->tasks->Create(Req());
  ASSERT_TRUE(id.ok()) << id.status();
  Server* owner = Owner(*id);
  ASSERT_NE(owner, nullptr);
  Server* other = owner == a_.get() ? b_.get() : a_.get();
  // The owner is cut off from etcd: no keep-alive reaches it, etcd expires the lease by itself.
  const auto t0 = std::chrono::steady_clock::now();
  owner->ha->set_keepalives_paused_for_tests(true);
  // Never both may write: checked every 5 ms until the other one runs the task.
  bool both = false;
  ASSERT_TRUE(Within(
      milliseconds(2000 + 5000),
      [&] {
        const bool old_may = owner->Runs(*id);
        const bool new_may = other->Runs(*id);
        both = both || (old_may && new_may);
        return new_may;
      },
      milliseconds(5)))
      << "no failover within TTL + 5 s";
  const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_FALSE(both) << "both servers could write to the target at once";
  EXPECT_FALSE(owner->Runs(*id));
  EXPECT_EQ(owner->Checkpoint(*id).code(), StatusCode::kAborted);
  EXPECT_TRUE(other->Checkpoint(*id).ok());
  // Back in touch with etcd: the old owner learns its lease is gone, gets a new one and goes on
  // serving, without taking the task back.
  owner->ha->set_keepalives_paused_for_tests(false);
  EXPECT_TRUE(Within(milliseconds(3000), [&] {
    return owner->ha->RenderMetrics().find("milvus_cdc_ha_lease_lost_total{server_id=\"" +
                                           owner->ha->server_id() + "\"} 1") != std::string::npos;
  }));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_NE(owner->ha->lease(), 0);
  EXPECT_FALSE(owner->Runs(*id));
  EXPECT_TRUE(other->Runs(*id));
  EXPECT_EQ(owner->Checkpoint(*id).code(), StatusCode::kAborted);
  std::printf("    failover after the owner was cut off (TTL 2 s): %lld ms\n",
              static_cast<long long>(took.count()));
}

TEST_F(CoordinatorTest, PauseResumeAndDeleteOnTheNonOwnerActOnTheOwner) {
  auto id = a_->tasks->Create(Req());
  ASSERT_TRUE(id.ok()) << id.status();
  Server* owner = Owner(*id);
  ASSERT_NE(owner, nullptr);
  Server* other = owner == a_.get() ? b_.get() : a_.get();
  ASSERT_TRUE(Within(milliseconds(2000), [&] { return other->tasks->Get(*id).ok(); }));
  ASSERT_TRUE(other->tasks->Pause(*id).ok());
  EXPECT_TRUE(Within(milliseconds(2000), [&] { return !a_->Runs(*id) && !b_->Runs(*id); }));
  ASSERT_TRUE(Within(milliseconds(2000), [&] {
    auto t = owner->tasks->Get(*id);
    return t.ok() && t->State() == task::TaskState::kPaused;
  }));
  ASSERT_TRUE(other->tasks->Resume(*id).ok());
  ASSERT_NE(Owner(*id), nullptr);
  Server* now = Owner(*id);
  Server* non = now == a_.get() ? b_.get() : a_.get();
  ASSERT_TRUE(non->tasks->Delete(*id, false).ok());
  EXPECT_TRUE(Within(milliseconds(2000), [&] { return !a_->Runs(*id) && !b_->Runs(*id); }));
  EXPECT_TRUE(Within(milliseconds(2000), [&] { return !now->tasks->Get(*id).ok(); }));
  // The former owner can neither checkpoint nor bring the deleted task back.
  EXPECT_EQ(now->Checkpoint(*id).code(), StatusCode::kAborted);
  EXPECT_EQ(now->store->PutTask({*id, R"({"TaskID":"x"})"}).code(), StatusCode::kAborted);
  auto listed = a_->store->ListPositions(*id);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(CoordinatorTest, DrainHandsTheTasksOverBeforeItReturns) {
  auto id1 = a_->tasks->Create(Req());
  ASSERT_TRUE(id1.ok()) << id1.status();
  auto r2 = Req();
  r2.collection_infos = {{"c2", {}, false}};
  auto id2 = a_->tasks->Create(r2);
  ASSERT_TRUE(id2.ok()) << id2.status();
  ASSERT_NE(Owner(*id1), nullptr);
  ASSERT_NE(Owner(*id2), nullptr);
  a_->ha->Drain();
  EXPECT_TRUE(b_->Runs(*id1) || Within(milliseconds(500), [&] { return b_->Runs(*id1); }));
  EXPECT_TRUE(b_->Runs(*id2) || Within(milliseconds(500), [&] { return b_->Runs(*id2); }));
  EXPECT_FALSE(a_->Runs(*id1));
  EXPECT_FALSE(a_->Runs(*id2));
}

}  // namespace
}  // namespace cdc::ha

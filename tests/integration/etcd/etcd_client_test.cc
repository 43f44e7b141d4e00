// etcd::Client against the shared test etcd (CDC_TEST_ETCD, from scripts/e2e-env.sh up etcd).
// Each test works under its own random key prefix.
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "etcd/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/etcd/wait_for.h"

namespace cdc::etcd {
namespace {

using ::cdc::testing::WaitFor;
using ::testing::HasSubstr;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ep = std::getenv("CDC_TEST_ETCD");
    if (ep == nullptr || *ep == '\0') {
      GTEST_SKIP() << "CDC_TEST_ETCD is not set; run `scripts/e2e-env.sh up etcd` and source "
                      ".cache/env/env.sh";
    }
    ClientOptions opts;
    opts.endpoints = {ep};
    auto c = Client::Connect(opts);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    prefix_ = "/cdc-test/" + std::to_string(std::random_device()()) + "/";
  }
  void TearDown() override {
    if (client_) (void)client_->Delete(prefix_, true);
  }
  std::unique_ptr<Client> client_;
  std::string prefix_;
};

TEST_F(EtcdClientTest, PutGetRangePrefixLimitKeysOnly) {
  ASSERT_TRUE(client_->Put(prefix_ + "a/1", "v1").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "a/2", "v2").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "a/3", "v3").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "b", "vb").ok());

  auto one = client_->Get(prefix_ + "a/2");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->value, "v2");
  EXPECT_EQ((*one)->version, 1);
  auto missing = client_->Get(prefix_ + "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto all = client_->Range(prefix_ + "a/", {.prefix = true});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->kvs.size(), 3u);
  EXPECT_EQ(all->kvs[0].key, prefix_ + "a/1");
  EXPECT_EQ(all->kvs[2].value, "v3");
  EXPECT_EQ(all->count, 3);

  auto limited = client_->Range(prefix_ + "a/", {.prefix = true, .limit = 2});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->kvs.size(), 2u);
  EXPECT_TRUE(limited->more);
  EXPECT_EQ(limited->count, 3);

  auto keys = client_->Range(prefix_, {.prefix = true, .keys_only = true});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->kvs.size(), 4u);
  EXPECT_EQ(keys->kvs[3].key, prefix_ + "b");
  EXPECT_EQ(keys->kvs[3].value, "");
}

TEST_F(EtcdClientTest, RangeAtOldRevisionAndDeletePrefix) {
  auto r1 = client_->Put(prefix_ + "k", "old");
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(client_->Put(prefix_ + "k", "new").ok());
  auto old = client_->Range(prefix_ + "k", {.revision = *r1});
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(old->kvs.size(), 1u);
  EXPECT_EQ(old->kvs[0].value, "old");

  ASSERT_TRUE(client_->Put(prefix_ + "k2", "x").ok());
  auto n = client_->Delete(prefix_ + "k", true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  auto left = client_->Range(prefix_, {.prefix = true});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->kvs.empty());
}

TEST_F(EtcdClientTest, TxnComparesValueVersionAndModRevision) {
  std::string k = prefix_ + "txn";
  // Create-if-absent: version == 0.
  auto t1 = client_->Txn({Compare::Version(k, Compare::Op::kEqual, 0)}, {TxnOp::Put(k, "one")},
                         {TxnOp::Get(k)});
  ASSERT_TRUE(t1.ok()) << t1.status();
  EXPECT_TRUE(t1->succeeded);
  auto t2 = client_->Txn({Compare::Version(k, Compare::Op::kEqual, 0)}, {TxnOp::Put(k, "two")},
                         {TxnOp::Get(k)});
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(t2->succeeded);
  ASSERT_EQ(t2->gets.size(), 1u);
  ASSERT_EQ(t2->gets[0].kvs.size(), 1u);
  EXPECT_EQ(t2->gets[0].kvs[0].value, "one");

  // Compare-and-swap on the value.
  auto t3 = client_->Txn({Compare::Value(k, Compare::Op::kEqual, "one")},
                         {TxnOp::Put(k, "three"), TxnOp::Put(prefix_ + "side", "s")});
  ASSERT_TRUE(t3.ok());
  EXPECT_TRUE(t3->succeeded);
  auto t4 = client_->Txn({Compare::Value(k, Compare::Op::kEqual, "one")}, {TxnOp::Put(k, "x")});
  ASSERT_TRUE(t4.ok());
  EXPECT_FALSE(t4->succeeded);

  // Optimistic update on mod_revision.
  auto cur = client_->Get(k);
  ASSERT_TRUE(cur.ok() && cur->has_value());
  int64_t rev = (*cur)->mod_revision;
  auto t5 =
      client_->Txn({Compare::ModRevision(k, Compare::Op::kEqual, rev)}, {TxnOp::Put(k, "four")});
  ASSERT_TRUE(t5.ok());
  EXPECT_TRUE(t5->succeeded);
  auto t6 =
      client_->Txn({Compare::ModRevision(k, Compare::Op::kEqual, rev)}, {TxnOp::Put(k, "five")});
  ASSERT_TRUE(t6.ok());
  EXPECT_FALSE(t6->succeeded);
  auto fin = client_->Get(k);
  ASSERT_TRUE(fin.ok() && fin->has_value());
  EXPECT_EQ((*fin)->value, "four");
  auto side = client_->Get(prefix_ + "side");
  ASSERT_TRUE(side.ok() && side->has_value());

  // Delete by prefix inside a transaction.
  auto t7 = client_->Txn({}, {TxnOp::Delete(prefix_, true)});
  ASSERT_TRUE(t7.ok());
  auto none = client_->Range(prefix_, {.prefix = true, .count_only = true});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->count, 0);
}

TEST_F(EtcdClientTest, LeaseExpiryDeletesKeyAndKeepAliveHoldsIt) {
  auto kept = client_->LeaseGrant(2);
  auto dropped = client_->LeaseGrant(2);
  ASSERT_TRUE(kept.ok() && dropped.ok()) << kept.status() << dropped.status();
  ASSERT_TRUE(client_->Put(prefix_ + "kept", "x", *kept).ok());
  ASSERT_TRUE(client_->Put(prefix_ + "dropped", "x", *dropped).ok());
  auto keeper = client_->KeepAlive(*kept, 2);
  // The un-kept lease expires within its TTL (+ etcd's granularity); bounded wait.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto g = client_->Get(prefix_ + "dropped");
        return g.ok() && !g->has_value();
      },
      std::chrono::seconds(15)));
  auto ttl = client_->LeaseTimeToLive(*dropped);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, -1);
  auto still = client_->Get(prefix_ + "kept");
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->has_value());
  EXPECT_TRUE(keeper->status().ok());
  keeper->Stop();
  ASSERT_TRUE(client_->LeaseRevoke(*kept).ok());
  auto gone = client_->Get(prefix_ + "kept");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto again = client_->LeaseKeepAliveOnce(*kept);
  ASSERT_TRUE(again.ok());
  EXPECT_LE(*again, 0);
}

TEST_F(EtcdClientTest, WatchDeliversPutsAndDeletesInOrderWithPrevKv) {
  std::mutex mu;
  std::vector<Event> seen;
  auto w = client_->Watch(prefix_, {.prefix = true, .prev_kv = true},
                          [&](const std::vector<Event>& evs, int64_t) {
                            std::lock_guard lock(mu);
                            seen.insert(seen.end(), evs.begin(), evs.end());
                          });
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(client_->Put(prefix_ + "x", "1").ok());
  ASSERT_TRUE(client_->Put(prefix_ + "x", "2").ok());
  ASSERT_TRUE(client_->Put("/outside" + prefix_, "ignored").ok());
  ASSERT_TRUE(client_->Delete(prefix_ + "x").ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return seen.size() >= 3;
  }));
  (*w)->Stop();
  (void)client_->Delete("/outside" + prefix_);
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, Event::Type::kPut);
  EXPECT_EQ(seen[0].kv.value, "1");
  EXPECT_FALSE(seen[0].prev_kv.has_value());
  EXPECT_EQ(seen[1].kv.value, "2");
  ASSERT_TRUE(seen[1].prev_kv.has_value());
  EXPECT_EQ(seen[1].prev_kv->value, "1");
  EXPECT_EQ(seen[2].type, Event::Type::kDelete);
  EXPECT_EQ(seen[2].kv.key, prefix_ + "x");
  ASSERT_TRUE(seen[2].prev_kv.has_value());
  EXPECT_EQ(seen[2].prev_kv->value, "2");
}

TEST_F(EtcdClientTest, WatchFromPastRevisionReplaysHistory) {
  auto r1 = client_->Put(prefix_ + "h", "a");
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(client_->Put(prefix_ + "h", "b").ok());
  std::mutex mu;
  std::vector<std::string> values;
  auto w = client_->Watch(prefix_ + "h", {.start_revision = *r1},
                          [&](const std::vector<Event>& evs, int64_t) {
                            std::lock_guard lock(mu);
                            for (const auto& e : evs) values.push_back(e.kv.value);
                          });
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return values.size() >= 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_THAT(values, ::testing::ElementsAre("a", "b"));
}

TEST_F(EtcdClientTest, FailsOverFromDeadEndpoint) {
  ClientOptions opts;
  opts.endpoints = {"127.0.0.1:1", std::getenv("CDC_TEST_ETCD")};
  auto c = Client::Connect(opts);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Put(prefix_ + "fo", "ok").ok());
  auto g = client_->Get(prefix_ + "fo");
  ASSERT_TRUE(g.ok() && g->has_value());
}

}  // namespace
}  // namespace cdc::etcd

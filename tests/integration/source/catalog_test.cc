// source::Catalog against a real etcd (CDC_TEST_ETCD), fed by the simulator's Milvus-format
// catalog keys: initial snapshot, then create/drop of database, collection and partition seen
// through the watch. Each test uses its own root path; every wait is bounded.
#include "source/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "tools/sim/catalog.h"

namespace cdc::source {
namespace {
using namespace std::chrono_literals;
using Kind = CatalogEvent::Kind;

class CatalogIt : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ep = std::getenv("CDC_TEST_ETCD");
    if (!ep) GTEST_SKIP() << "CDC_TEST_ETCD not set (scripts/e2e-env.sh up etcd)";
    etcd::ClientOptions o;
    o.endpoints = {ep};
    auto c = etcd::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
    options_.root_path = "cdc-it-" + std::to_string(getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name();
    layout_.meta_prefix = options_.MetaPrefix();
  }
  void TearDown() override {
    if (catalog_) catalog_->Stop();
    if (client_) (void)client_->Delete(options_.root_path + "/", true);
  }

  // Writes the pairs in one transaction (one revision), as Milvus does.
  void Write(const std::vector<sim::Kv>& kvs) {
    std::vector<etcd::TxnOp> ops;
    for (const auto& [k, v] : kvs) ops.push_back(etcd::TxnOp::Put(k, v));
    auto r = client_->Txn({}, ops);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  void StartCatalog() {
    auto c = Catalog::Start(client_.get(), options_, [this](const std::vector<CatalogEvent>& ev) {
      std::lock_guard<std::mutex> l(mu_);
      events_.insert(events_.end(), ev.begin(), ev.end());
    });
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = std::move(*c);
  }

  // Waits (bounded) until `n` events arrived; returns them.
  std::vector<CatalogEvent> WaitEvents(size_t n) {
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (events_.size() >= n) return events_;
      }
      std::this_thread::sleep_for(50ms);
    }
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }

  sim::CollectionSpec Coll(int64_t db_id, const std::string& name, int64_t id) {
    sim::CollectionSpec c;
    c.db_id = db_id;
    c.name = name;
    c.id = id;
    c.dim = 4;
    return c;
  }

  std::unique_ptr<etcd::Client> client_;
  CatalogOptions options_;
  sim::CatalogLayout layout_;
  std::unique_ptr<Catalog> catalog_;
  std::mutex mu_;
  std::vector<CatalogEvent> events_;
};

TEST_F(CatalogIt, SnapshotThenWatchCreateAndDrop) {
  const std::vector<std::string> pch = {"by-dev-rootcoord-dml_0"};
  Write({sim::DatabaseKv(layout_, 1, "default", 1)});
  auto a = Coll(1, "a", 100);
  Write(sim::CollectionKvs(layout_, a, pch, {7}, 101, 1000));
  StartCatalog();
  auto ev = WaitEvents(2);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, Kind::kDatabaseCreated);
  EXPECT_EQ(ev[1].kind, Kind::kCollectionCreated);
  EXPECT_EQ(ev[1].collection_name, "a");
  auto got = catalog_->FindCollection("default", "a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*DecodeKafkaMsgId(got->StartPositions(0).at(pch[0]).msgid()), 7);
  EXPECT_EQ(got->info.schema().fields_size(), 2);

  // A database created after the catalog started counts too.
  Write({sim::DatabaseKv(layout_, 2, "db2", 2)});
  auto b = Coll(2, "b", 200);
  // Milvus writes the collection in state Creating first, then flips it to Created.
  auto kvs = sim::CollectionKvs(layout_, b, pch, {9}, 201, 2000);
  auto creating = sim::CollectionInfoValue(b, pch, {9}, 2000);
  creating.set_state(milvus::proto::etcd::CollectionCreating);
  kvs[0].second = creating.SerializeAsString();
  Write(kvs);
  Write({sim::CollectionKvs(layout_, b, pch, {9}, 201, 2000)[0]});
  Write({sim::PartitionKv(layout_, 200, 202, "p1", 2100)});
  Write({sim::PartitionKv(layout_, 200, 202, "p1", 2100, milvus::proto::etcd::PartitionDropping)});
  Write({{layout_.Root() + "partitions/200/202", std::string("\xE2\x9B\xBC", 3)}});
  Write({sim::DropCollectionKv(layout_, b, pch, {9}, 2000)});
  Write({sim::DropDatabaseKv(layout_, 2)});
  ev = WaitEvents(8);
  std::vector<std::pair<Kind, std::string>> names;
  for (size_t i = 2; i < ev.size(); ++i) {
    names.push_back({ev[i].kind, ev[i].partition_id    ? ev[i].partition_name
                                 : ev[i].collection_id ? ev[i].collection_name
                                                       : ev[i].db_name});
  }
  EXPECT_EQ(names, (std::vector<std::pair<Kind, std::string>>{{Kind::kDatabaseCreated, "db2"},
                                                              {Kind::kCollectionCreated, "b"},
                                                              {Kind::kPartitionCreated, "p1"},
                                                              {Kind::kPartitionDropped, "p1"},
                                                              {Kind::kCollectionDropped, "b"},
                                                              {Kind::kDatabaseDropped, "db2"}}));
  EXPECT_EQ(ev[3].db_name, "db2");
  EXPECT_GT(ev[3].revision, ev[2].revision);
  EXPECT_FALSE(catalog_->FindCollection("db2", "b").has_value());
  EXPECT_EQ(catalog_->Databases().size(), 1u);
  EXPECT_EQ(catalog_->status().bad_keys, 0u);
  EXPECT_TRUE(catalog_->status().reason.empty());
}

TEST_F(CatalogIt, UndecodableKeyIsCountedNotFatal) {
  StartCatalog();
  Write({{layout_.Root() + "database/db-info/5", "\xff\xff"}});
  Write({sim::DatabaseKv(layout_, 6, "ok", 1)});
  auto ev = WaitEvents(2);  // implicit default + "ok"
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].db_name, "ok");
  auto st = catalog_->status();
  EXPECT_EQ(st.bad_keys, 1u);
  ASSERT_FALSE(st.errors.empty());
  EXPECT_NE(st.errors[0].find("db-info/5"), std::string::npos) << st.errors[0];
}

TEST_F(CatalogIt, UnreachableEtcdIsAnActionableError) {
  etcd::ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};
  o.dial_timeout = 500ms;
  o.call_timeout = 500ms;
  auto c = etcd::Client::Connect(o);
  if (!c.ok()) {
    EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
    return;
  }
  auto cat = Catalog::Start(c->get(), options_, nullptr);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("list source catalog"), std::string::npos) << cat.status();
}

}  // namespace
}  // namespace cdc::source

// CatalogState on the golden etcd captures of a real Milvus and on synthetic keys.
#include "tools/sim/catalog.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "golden_data.h"
#include "source/catalog_state.h"

namespace cdc::source {
namespace {
using Kind = CatalogEvent::Kind;
using nlohmann::json;
namespace etcdpb = milvus::proto::etcd;

json Load(const std::string& name) { return testdata::LoadGolden(name); }
std::string B64(const json& v) { return testdata::Unbase64(v); }

std::vector<KvChange> Snapshot(const std::string& file) {
  std::vector<KvChange> out;
  const json doc = Load(file);  // keep it alive: range-for does not extend a subobject's life
  for (const auto& kv : doc["kvs"]) {
    out.push_back({B64(kv["key"]), B64(kv["value"]), false, kv["mod_revision"].get<int64_t>()});
  }
  return out;
}

std::vector<std::pair<Kind, std::string>> Names(const std::vector<CatalogEvent>& events) {
  std::vector<std::pair<Kind, std::string>> out;
  for (const auto& e : events) {
    out.push_back({e.kind, e.partition_id    ? e.partition_name
                           : e.collection_id ? e.collection_name
                                             : e.db_name});
  }
  return out;
}

TEST(CatalogGolden, SnapshotBeforeDrops) {
  json m = Load("manifest.json");
  CatalogState st("by-dev/meta/");
  auto snap = Snapshot("etcd-before-drops.json");
  auto events = st.Reset(snap);
  EXPECT_EQ(Names(events),
            (std::vector<std::pair<Kind, std::string>>{{Kind::kDatabaseCreated, "default"},
                                                       {Kind::kDatabaseCreated, "golden_db"},
                                                       {Kind::kCollectionCreated, "golden_coll"}}));
  EXPECT_EQ(st.bad_keys(), 0u) << (st.errors().empty() ? "" : st.errors()[0]);
  auto c = st.FindCollection("golden_db", "golden_coll");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id(), m["collection_id"].get<int64_t>());
  EXPECT_FALSE(c->legacy_key);
  ASSERT_EQ(c->info.schema().fields_size(), 2);  // RowID/Timestamp left out
  EXPECT_EQ(c->info.schema().fields(0).name(), "id");
  EXPECT_TRUE(c->info.schema().fields(0).is_primary_key());
  EXPECT_EQ(c->info.schema().fields(1).type_params(0).value(), "8");
  EXPECT_EQ(c->info.virtual_channel_names(0), m["virtual_channels"][0].get<std::string>());
  EXPECT_EQ(c->info.shards_num(), 1);
  EXPECT_EQ(c->partitions.size(), 2u);
  ASSERT_NE(c->FindPartition("golden_part"), nullptr);
  EXPECT_EQ(c->FindPartition("golden"), nullptr);  // exact names only
  // The start position is the offset of the CreateCollection record (offset 0 in the capture).
  auto starts = c->StartPositions(c->info.create_time());
  ASSERT_EQ(starts.count("by-dev-rootcoord-dml_0"), 1u);
  EXPECT_EQ(*DecodeKafkaMsgId(starts["by-dev-rootcoord-dml_0"].msgid()), 0);
  EXPECT_FALSE(st.FindCollection("default", "golden_coll").has_value());
}

TEST(CatalogGolden, WatchEventsGiveCreatesAndDrops) {
  CatalogState st("by-dev/meta/");
  st.Reset({});  // the capture's watch starts on a fresh cluster
  std::vector<CatalogEvent> all;
  std::vector<KvChange> batch;
  auto flush = [&] {
    auto ev = st.Apply(batch);
    all.insert(all.end(), ev.begin(), ev.end());
    batch.clear();
  };
  const json doc = Load("etcd-events.json");
  for (const auto& e : doc["events"]) {
    int64_t rev = e["mod_revision"];
    if (!batch.empty() && batch.back().revision != rev) flush();
    batch.push_back({B64(e["key"]), B64(e["value"]), e["type"] == "DELETE", rev});
  }
  flush();
  EXPECT_EQ(Names(all),
            (std::vector<std::pair<Kind, std::string>>{{Kind::kDatabaseCreated, "golden_db"},
                                                       {Kind::kCollectionCreated, "golden_coll"},
                                                       {Kind::kPartitionCreated, "golden_part"},
                                                       {Kind::kPartitionDropped, "golden_part"},
                                                       {Kind::kCollectionDropped, "golden_coll"},
                                                       {Kind::kDatabaseDropped, "golden_db"}}));
  // Created only once its state flips from Creating to Created (rev 32), not at rev 28.
  EXPECT_EQ(all[1].revision, 32);
  EXPECT_EQ(all[1].db_name, "golden_db");
  EXPECT_EQ(st.bad_keys(), 0u);
}

TEST(CatalogGolden, FinalSnapshotHasOnlyDefault) {
  CatalogState st("by-dev/meta/");
  st.Reset(Snapshot("etcd-final.json"));
  auto dbs = st.Databases();
  ASSERT_EQ(dbs.size(), 1u);
  EXPECT_EQ(dbs[0].name, "default");
  EXPECT_TRUE(st.Collections().empty());
}

TEST(CatalogGolden, SimulatorWritesTheSameKeysAndBytes) {
  json m = Load("manifest.json");
  std::map<std::string, std::string> golden;
  for (const auto& kv : Snapshot("etcd-before-drops.json")) golden[kv.key] = kv.value;
  CatalogState st("by-dev/meta/");
  st.Reset(Snapshot("etcd-before-drops.json"));
  auto c = *st.FindCollection("golden_db", "golden_coll");
  const PartitionMeta& part = *c.FindPartition("golden_part");
  const PartitionMeta& def = *c.FindPartition("_default");
  sim::CollectionSpec spec;
  spec.name = "golden_coll";
  spec.id = c.id();
  spec.db_id = c.db_id;
  spec.dim = 8;
  sim::CatalogLayout layout;
  std::vector<sim::Kv> ours = sim::CollectionKvs(layout, spec, {"by-dev-rootcoord-dml_0"}, {0},
                                                 def.id, c.info.create_time());
  ours.push_back(sim::PartitionKv(layout, c.id(), part.id, part.name, part.created_ts));
  auto dbs = st.Databases();
  for (const auto& d : dbs) ours.push_back(sim::DatabaseKv(layout, d.id, d.name, d.created_time));
  ASSERT_EQ(ours.size(), 9u);  // collection, 4 fields, 2 partitions, 2 databases
  for (const auto& [k, v] : ours) {
    ASSERT_EQ(golden.count(k), 1u) << k;
    EXPECT_EQ(absl::BytesToHexString(golden[k]), absl::BytesToHexString(v)) << k;
  }
}

TEST(Catalog, LegacyKeysTombstonesAndBadKeys) {
  CatalogState st("r/meta/");
  sim::CollectionSpec c;
  c.name = "old";
  c.id = 5;
  etcdpb::CollectionInfo ci;
  ci.set_id(5);
  *ci.mutable_schema() = sim::MakeSchema(c);
  ci.add_partitionids(6);
  ci.add_partitionnames("_default");
  etcdpb::PartitionInfo p;
  p.set_partitionid(7);
  p.set_partitionname("p7");
  p.set_collection_id(5);
  auto ev = st.Apply({{"r/meta/root-coord/collection/5", ci.SerializeAsString(), false, 3},
                      {"r/meta/root-coord/partitions/5/7", p.SerializeAsString(), false, 3},
                      {"r/meta/snapshots/root-coord/collection/5_ts1", "junk", false, 3},
                      {"r/meta/root-coord/credential/users/root", "{}", false, 3}});
  EXPECT_EQ(Names(ev),
            (std::vector<std::pair<Kind, std::string>>{{Kind::kDatabaseCreated, "default"},
                                                       {Kind::kCollectionCreated, "old"}}));
  auto got = st.FindCollection("default", "old");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->legacy_key);
  EXPECT_EQ(got->partitions.size(), 2u);  // one from the value, one from its own key

  ev = st.Apply({{"r/meta/root-coord/partitions/5/7", "\xE2\x9B\xBC", false, 4}});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kPartitionDropped);
  EXPECT_EQ(ev[0].partition_name, "p7");
  EXPECT_EQ(ev[0].revision, 4);

  ev = st.Apply({{"r/meta/root-coord/partitions/x/7", "", false, 5},
                 {"r/meta/root-coord/database/db-info/2", "\xff\xff", false, 5}});
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(st.bad_keys(), 2u);
  ASSERT_EQ(st.errors().size(), 2u);
  EXPECT_NE(st.errors()[0].find("'r/meta/root-coord/partitions/x/7' (rev 5)"), std::string::npos)
      << st.errors()[0];
  EXPECT_NE(st.errors()[1].find("not a DatabaseInfo"), std::string::npos);

  ev = st.Apply({{"r/meta/root-coord/collection/5", "", true, 6}});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kCollectionDropped);
}

// Found by the catalog fuzz target: a value whose id is not the key's was listed by
// Collections() but not found by Collection(id) (the views disagreed). It is a bad key now.
TEST(Catalog, CollectionValueOfAnotherIdIsABadKey) {
  CatalogState st("r/meta/");
  etcdpb::CollectionInfo ci;
  ci.set_id(6);
  ci.mutable_schema()->set_name("c6");
  ci.set_state(etcdpb::CollectionCreated);
  auto ev = st.Apply(
      {{"r/meta/root-coord/database/collection-info/1/5", ci.SerializeAsString(), false, 3},
       {"r/meta/root-coord/collection/7", ci.SerializeAsString(), false, 3}});
  EXPECT_EQ(Names(ev),
            (std::vector<std::pair<Kind, std::string>>{{Kind::kDatabaseCreated, "default"}}));
  EXPECT_TRUE(st.Collections().empty());
  EXPECT_EQ(st.bad_keys(), 2u);
  ASSERT_EQ(st.errors().size(), 2u);
  EXPECT_EQ(st.errors()[0],
            "catalog key 'r/meta/root-coord/database/collection-info/1/5' (rev 3): value is the "
            "CollectionInfo of collection 6, not of 5");
  EXPECT_NE(st.errors()[1].find("collection 6, not of 7"), std::string::npos) << st.errors()[1];
  ci.set_id(5);
  ev = st.Apply(
      {{"r/meta/root-coord/database/collection-info/1/5", ci.SerializeAsString(), false, 4}});
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(st.Collection(5).has_value());
  EXPECT_EQ(st.Collection(5)->name(), "c6");
}

// Aliases are kept beside the collections (root-coord/database/aliases/{dbID}/{alias}, as a
// 2.3.5 source writes them: a tombstone when dropped, the collection id changed when altered).
TEST(Catalog, AliasesBelongToTheirLiveCollection) {
  CatalogState st("r/meta/");
  auto coll = [](int64_t id, const std::string& name) {
    etcdpb::CollectionInfo ci;
    ci.set_id(id);
    ci.mutable_schema()->set_name(name);
    return ci.SerializeAsString();
  };
  auto alias = [](const std::string& name, int64_t collection, etcdpb::AliasState state) {
    etcdpb::AliasInfo a;
    a.set_alias_name(name);
    a.set_collectionid(collection);
    a.set_state(state);
    a.set_db_id(1);
    return a.SerializeAsString();
  };
  const std::string key = "r/meta/root-coord/database/aliases/1/";
  st.Apply({{"r/meta/root-coord/database/collection-info/1/5", coll(5, "c5"), false, 2},
            {"r/meta/root-coord/database/collection-info/1/6", coll(6, "c6"), false, 2},
            {key + "b", alias("b", 5, etcdpb::AliasCreated), false, 3},
            {key + "a", alias("a", 5, etcdpb::AliasCreated), false, 3},
            {key + "x", alias("x", 6, etcdpb::AliasCreating), false, 3},
            {key + "gone", alias("gone", 99, etcdpb::AliasCreated), false, 3}});
  EXPECT_EQ(st.Collection(5)->aliases, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(st.Collection(6)->aliases.empty());  // not created yet

  st.Apply({{key + "b", "\xE2\x9B\xBC", false, 4},
            {key + "a", alias("a", 6, etcdpb::AliasCreated), false, 4}});
  EXPECT_TRUE(st.Collection(5)->aliases.empty());
  EXPECT_EQ(st.Collection(6)->aliases, (std::vector<std::string>{"a"}));
  st.Apply({{key + "nope", "\x01", false, 5}});
  EXPECT_EQ(st.bad_keys(), 1u);
}

}  // namespace
}  // namespace cdc::source

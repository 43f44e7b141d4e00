#include "source/catalog_state.h"

#include <climits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cdc::source {
namespace {
namespace etcdpb = milvus::proto::etcd;
using Kind = CatalogEvent::Kind;

constexpr std::string_view kTombstone("\xE2\x9B\xBC", 3);

bool ParseId(absl::string_view s, int64_t* out) { return absl::SimpleAtoi(s, out); }

bool DbLive(int state) {
  return state == etcdpb::DatabaseCreated || state == etcdpb::DatabaseUnknown;
}
}  // namespace

std::map<std::string, MsgPosition> CollectionMeta::StartPositions(uint64_t ts) const {
  std::map<std::string, MsgPosition> out;
  for (const auto& kd : info.start_positions()) {
    MsgPosition p;
    p.set_channel_name(kd.key());
    p.set_msgid(kd.data());
    p.set_timestamp(ts);
    out[kd.key()] = p;
  }
  return out;
}

const PartitionMeta* CollectionMeta::FindPartition(const std::string& name) const {
  for (const auto& [id, p] : partitions)
    if (p.name == name) return &p;
  return nullptr;
}

std::string DescribeEvent(const CatalogEvent& e) {
  static const char* kNames[] = {"database created",   "database dropped",  "collection created",
                                 "collection dropped", "partition created", "partition dropped"};
  std::string s =
      absl::StrCat(kNames[static_cast<int>(e.kind)], " db=", e.db_name, "(", e.db_id, ")");
  if (e.collection_id)
    absl::StrAppend(&s, " collection=", e.collection_name, "(", e.collection_id, ")");
  if (e.partition_id)
    absl::StrAppend(&s, " partition=", e.partition_name, "(", e.partition_id, ")");
  absl::StrAppend(&s, " rev=", e.revision);
  return s;
}

CatalogState::CatalogState(const std::string& meta_prefix) : root_(meta_prefix + "root-coord/") {}

void CatalogState::Error(std::string what) {
  ++bad_keys_;
  errors_.push_back(std::move(what));
  if (errors_.size() > 20) errors_.erase(errors_.begin());
}

void CatalogState::ApplyOne(const KvChange& c) {
  if (c.key.rfind(root_, 0) != 0) return;
  std::string_view rel = std::string_view(c.key).substr(root_.size());
  std::vector<absl::string_view> parts = absl::StrSplit(AbslView(rel), '/');
  const bool gone = c.deleted || std::string_view(c.value) == kTombstone;
  auto bad = [&](std::string_view why) {
    Error(absl::StrCat("catalog key '", c.key, "' (rev ", c.revision, "): ", AbslView(why)));
  };
  int64_t a = 0, b = 0;
  // The CollectionInfo of collection `b` (the key's id); false, recorded, if the value is not.
  // Views are keyed by the value's id, so a value of another collection cannot be used.
  auto parse_collection = [&](etcdpb::CollectionInfo* ci) {
    if (!ci->ParseFromString(c.value)) {
      bad("value is not a CollectionInfo");
      return false;
    }
    if (ci->id() != b) {
      bad(absl::StrCat("value is the CollectionInfo of collection ", ci->id(), ", not of ", b));
      return false;
    }
    return true;
  };
  if (parts.size() >= 1 && parts[0] == "database") {
    if (parts.size() == 3 && parts[1] == "db-info") {
      if (!ParseId(parts[2], &a)) return bad("database id is not a number");
      if (gone) return void(raw_.dbs.erase(a));
      etcdpb::DatabaseInfo db;
      if (!db.ParseFromString(c.value)) return bad("value is not a DatabaseInfo");
      raw_.dbs[a] = db;
      return;
    }
    if (parts.size() == 4 && parts[1] == "collection-info") {
      if (!ParseId(parts[2], &a) || !ParseId(parts[3], &b)) return bad("ids are not numbers");
      if (gone) {
        raw_.colls.erase(b);
        return;
      }
      etcdpb::CollectionInfo ci;
      if (!parse_collection(&ci)) return;
      raw_.colls[b] = {a, ci};
      raw_.revisions[b] = c.revision;
      raw_.legacy.erase(b);
      return;
    }
    if (parts.size() == 4 && parts[1] == "aliases") {
      if (!ParseId(parts[2], &a)) return bad("database id is not a number");
      return ApplyAlias(a, std::string(parts[3]), gone, c.value, bad);
    }
    return bad("unexpected form under root-coord/database/");
  }
  if (parts.size() == 2 && parts[0] == "aliases") {  // before databases: the default one
    return ApplyAlias(kDefaultDatabaseId, std::string(parts[1]), gone, c.value, bad);
  }
  if (parts[0] == "collection") {
    if (parts.size() != 2 || !ParseId(parts[1], &b)) return bad("expected collection/{id}");
    if (gone) {
      if (raw_.legacy.count(b)) raw_.colls.erase(b);
      raw_.legacy.erase(b);
      return;
    }
    etcdpb::CollectionInfo ci;
    if (!parse_collection(&ci)) return;
    if (raw_.colls.count(b) && !raw_.legacy.count(b)) return;  // the database key wins
    raw_.colls[b] = {ci.db_id() ? ci.db_id() : kDefaultDatabaseId, ci};
    raw_.revisions[b] = c.revision;
    raw_.legacy.insert(b);
    return;
  }
  if (parts[0] == "partitions" || parts[0] == "fields") {
    if (parts.size() != 3 || !ParseId(parts[1], &a) || !ParseId(parts[2], &b)) {
      return bad(absl::StrCat("expected ", parts[0], "/{collectionID}/{id}"));
    }
    if (parts[0] == "partitions") {
      if (gone) {
        raw_.parts[a].erase(b);
        return;
      }
      etcdpb::PartitionInfo p;
      if (!p.ParseFromString(c.value)) return bad("value is not a PartitionInfo");
      raw_.parts[a][b] = p;
    } else {
      if (gone) {
        raw_.fields[a].erase(b);
        return;
      }
      milvus::proto::schema::FieldSchema f;
      if (!f.ParseFromString(c.value)) return bad("value is not a FieldSchema");
      raw_.fields[a][b] = f;
    }
  }
  // Anything else under root-coord/ (credential/, ...) is not catalog data we use.
}

void CatalogState::ApplyAlias(int64_t db_id, const std::string& name, bool gone,
                              const std::string& value,
                              const std::function<void(std::string_view)>& bad) {
  const auto key = std::make_pair(db_id, name);
  if (gone) return void(raw_.aliases.erase(key));
  etcdpb::AliasInfo alias;
  if (!alias.ParseFromString(value)) return bad("value is not an AliasInfo");
  raw_.aliases[key] = alias;
}

CatalogState::Live CatalogState::Compute() const {
  Live live;
  for (const auto& [id, db] : raw_.dbs) {
    if (!DbLive(db.state())) continue;
    live.dbs[id] = {id, db.name(), db.state(), db.created_time()};
  }
  // Catalogs written before databases existed have no db-info keys: "default" is implicit.
  if (!raw_.dbs.count(kDefaultDatabaseId)) {
    live.dbs[kDefaultDatabaseId] = {kDefaultDatabaseId, kDefaultDatabaseName,
                                    etcdpb::DatabaseCreated, 0};
  }
  for (const auto& [id, dc] : raw_.colls) {
    const auto& [db_id, ci] = dc;
    auto db = live.dbs.find(db_id);
    if (ci.state() != etcdpb::CollectionCreated || db == live.dbs.end()) continue;
    CollectionMeta m;
    m.db_id = db_id;
    m.db_name = db->second.name;
    m.legacy_key = raw_.legacy.count(id) > 0;
    m.info = ci;
    if (auto r = raw_.revisions.find(id); r != raw_.revisions.end()) m.key_revision = r->second;
    if (auto f = raw_.fields.find(id); f != raw_.fields.end() && !f->second.empty()) {
      auto* schema = m.info.mutable_schema();
      schema->clear_fields();
      for (const auto& [fid, field] : f->second) {
        if (fid < 100) continue;  // RowID, Timestamp
        *schema->add_fields() = field;
        if (field.is_dynamic()) schema->set_enable_dynamic_field(true);
      }
    }
    if (auto p = raw_.parts.find(id); p != raw_.parts.end()) {
      for (const auto& [pid, pi] : p->second) {
        if (pi.state() != etcdpb::PartitionCreated) continue;
        m.partitions[pid] = {pid, pi.partitionname(), id, pi.partition_created_timestamp(),
                             pi.state()};
      }
    }
    // Old catalogs keep partitions inside the collection value.
    for (int i = 0; i < ci.partitionids_size() && i < ci.partitionnames_size(); ++i) {
      int64_t pid = ci.partitionids(i);
      if (m.partitions.count(pid)) continue;
      uint64_t ts =
          i < ci.partition_created_timestamps_size() ? ci.partition_created_timestamps(i) : 0;
      m.partitions[pid] = {pid, ci.partitionnames(i), id, ts, etcdpb::PartitionCreated};
    }
    live.colls[id] = std::move(m);
  }
  for (const auto& [key, alias] : raw_.aliases) {
    if (alias.state() != etcdpb::AliasCreated) continue;
    auto c = live.colls.find(alias.collectionid());
    if (c == live.colls.end() || c->second.db_id != key.first) continue;
    c->second.aliases.push_back(key.second);  // sorted: the map's order
  }
  return live;
}

std::vector<CatalogEvent> CatalogState::Diff(const Live& before, const Live& after,
                                             int64_t revision) {
  std::vector<CatalogEvent> creates, drops;
  auto db_event = [&](Kind k, const DatabaseMeta& d) {
    CatalogEvent e;
    e.kind = k;
    e.db_id = d.id;
    e.db_name = d.name;
    e.revision = revision;
    return e;
  };
  auto coll_event = [&](Kind k, const CollectionMeta& c) {
    CatalogEvent e;
    e.kind = k;
    e.db_id = c.db_id;
    e.db_name = c.db_name;
    e.collection_id = c.id();
    e.collection_name = c.name();
    e.ts = c.info.create_time();
    e.revision = revision;
    return e;
  };
  auto part_event = [&](Kind k, const CollectionMeta& c, const PartitionMeta& p) {
    CatalogEvent e = coll_event(k, c);
    e.partition_id = p.id;
    e.partition_name = p.name;
    e.ts = p.created_ts;
    return e;
  };
  for (const auto& [id, d] : after.dbs)
    if (!before.dbs.count(id)) creates.push_back(db_event(Kind::kDatabaseCreated, d));
  for (const auto& [id, c] : after.colls) {
    auto old = before.colls.find(id);
    if (old == before.colls.end()) {
      creates.push_back(coll_event(Kind::kCollectionCreated, c));
      continue;  // its partitions come with it
    }
    for (const auto& [pid, p] : c.partitions)
      if (!old->second.partitions.count(pid))
        creates.push_back(part_event(Kind::kPartitionCreated, c, p));
    for (const auto& [pid, p] : old->second.partitions)
      if (!c.partitions.count(pid)) drops.push_back(part_event(Kind::kPartitionDropped, c, p));
  }
  for (const auto& [id, c] : before.colls)
    if (!after.colls.count(id)) drops.push_back(coll_event(Kind::kCollectionDropped, c));
  for (const auto& [id, d] : before.dbs)
    if (!after.dbs.count(id)) drops.push_back(db_event(Kind::kDatabaseDropped, d));
  creates.insert(creates.end(), drops.begin(), drops.end());
  return creates;
}

std::vector<CatalogEvent> CatalogState::Apply(const std::vector<KvChange>& changes) {
  int64_t rev = 0;
  for (const auto& c : changes) {
    ApplyOne(c);
    rev = std::max(rev, c.revision);
  }
  Live next = Compute();
  auto events = Diff(live_, next, rev);
  Bury(live_, next);
  live_ = std::move(next);
  return events;
}

void CatalogState::Bury(const Live& before, const Live& after) {
  for (const auto& [id, c] : before.colls) {
    auto now = after.colls.find(id);
    for (const auto& [pid, p] : c.partitions)
      if (now == after.colls.end() || !now->second.partitions.count(pid))
        dropped_parts_[{id, pid}] = p;
    if (now != after.colls.end()) continue;
    if (!dropped_.count(id)) dropped_order_.push_back(id);
    dropped_[id] = c;
  }
  while (dropped_order_.size() > kMaxDropped) {
    const int64_t id = dropped_order_.front();
    dropped_order_.erase(dropped_order_.begin());
    dropped_.erase(id);
    dropped_parts_.erase(dropped_parts_.lower_bound({id, INT64_MIN}),
                         dropped_parts_.upper_bound({id, INT64_MAX}));
  }
}

std::optional<CollectionMeta> CatalogState::Dropped(int64_t id) const {
  auto it = dropped_.find(id);
  if (it == dropped_.end() || live_.colls.count(id)) return std::nullopt;
  return it->second;
}

std::optional<PartitionMeta> CatalogState::DroppedPartition(int64_t collection_id,
                                                            int64_t partition_id) const {
  auto it = dropped_parts_.find({collection_id, partition_id});
  if (it == dropped_parts_.end()) return std::nullopt;
  return it->second;
}

std::vector<CatalogEvent> CatalogState::Reset(const std::vector<KvChange>& snapshot) {
  raw_ = Raw();
  return Apply(snapshot);
}

std::vector<DatabaseMeta> CatalogState::Databases() const {
  std::vector<DatabaseMeta> out;
  for (const auto& [id, d] : live_.dbs) out.push_back(d);
  return out;
}

std::vector<CollectionMeta> CatalogState::Collections() const {
  std::vector<CollectionMeta> out;
  for (const auto& [id, c] : live_.colls) out.push_back(c);
  return out;
}

std::optional<CollectionMeta> CatalogState::Collection(int64_t id) const {
  auto it = live_.colls.find(id);
  if (it == live_.colls.end()) return std::nullopt;
  return it->second;
}

std::optional<CollectionMeta> CatalogState::FindCollection(const std::string& db,
                                                           const std::string& name) const {
  // Several entries may share a name briefly (drop + re-create): the newest create wins.
  const CollectionMeta* best = nullptr;
  for (const auto& [id, c] : live_.colls) {
    if (c.db_name != db || c.name() != name) continue;
    if (!best || c.info.create_time() > best->info.create_time()) best = &c;
  }
  if (!best) return std::nullopt;
  return *best;
}

}  // namespace cdc::source

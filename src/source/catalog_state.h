#pragma once
// CatalogState: the Milvus root-coord catalog rebuilt from etcd key/values, with no I/O.
//
// Keys (relative to "{rootPath}/{metaSubPath}/"):
//   root-coord/database/db-info/{dbID}                    etcd.DatabaseInfo
//   root-coord/database/collection-info/{dbID}/{collID}   etcd.CollectionInfo
//   root-coord/collection/{collID}                        etcd.CollectionInfo (pre-2.2.9,
//                                                         default database)
//   root-coord/partitions/{collID}/{partID}               etcd.PartitionInfo
//   root-coord/fields/{collID}/{fieldID}                  schema.FieldSchema
//   root-coord/database/aliases/{dbID}/{alias}            etcd.AliasInfo (and the legacy
//                                                         root-coord/aliases/{alias})
// Other root-coord keys (credentials, ...) and snapshots/ are ignored. A value of
// E2 9B BC is Milvus's tombstone and counts as a delete.
// A database is live in state Created (or unset); a collection/partition in state Created.
// Apply() takes one etcd revision's changes (or a whole snapshot) and returns what became
// live or stopped being live, creates before drops, parents before children for creates and
// children before parents for drops. Keys that do not decode are counted and described in
// errors(), never dropped silently.
// Not thread-safe (the Catalog serialises access).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "milvus/schema.pb.h"
#include "source/catalog_types.h"

namespace cdc::source {

struct KvChange {
  std::string key;  // full key, e.g. by-dev/meta/root-coord/partitions/1/2
  std::string value;
  bool deleted = false;
  int64_t revision = 0;
};

class CatalogState {
 public:
  // meta_prefix: "{rootPath}/{metaSubPath}/", e.g. "by-dev/meta/".
  explicit CatalogState(const std::string& meta_prefix);

  std::vector<CatalogEvent> Apply(const std::vector<KvChange>& changes);
  // Replaces everything with a fresh listing (after a compaction or reconnect) and returns
  // the differences from the previous state as events.
  std::vector<CatalogEvent> Reset(const std::vector<KvChange>& snapshot);

  std::vector<DatabaseMeta> Databases() const;                 // live ones
  std::vector<CollectionMeta> Collections() const;             // live ones, all databases
  std::optional<CollectionMeta> Collection(int64_t id) const;  // live only
  std::optional<CollectionMeta> FindCollection(const std::string& db,
                                               const std::string& name) const;
  // The last live state of a collection that was dropped since this state was built (the most
  // recent kMaxDropped drops are kept), with the partitions it had then.
  std::optional<CollectionMeta> Dropped(int64_t id) const;
  // A partition dropped from a live collection (or with it), as it was when live.
  std::optional<PartitionMeta> DroppedPartition(int64_t collection_id, int64_t partition_id) const;

  static constexpr size_t kMaxDropped = 4096;

  uint64_t bad_keys() const { return bad_keys_; }
  const std::vector<std::string>& errors() const { return errors_; }  // last 20
  const std::string& root_prefix() const { return root_; }

 private:
  struct Raw {
    std::map<int64_t, milvus::proto::etcd::DatabaseInfo> dbs;
    std::map<int64_t, std::pair<int64_t, milvus::proto::etcd::CollectionInfo>> colls;  // db
    std::set<int64_t> legacy;
    std::map<int64_t, std::map<int64_t, milvus::proto::etcd::PartitionInfo>> parts;
    std::map<int64_t, std::map<int64_t, milvus::proto::schema::FieldSchema>> fields;
    std::map<std::pair<int64_t, std::string>, milvus::proto::etcd::AliasInfo> aliases;  // db
    std::map<int64_t, int64_t> revisions;  // collection id -> etcd revision of its last write
  };
  struct Live {
    std::map<int64_t, DatabaseMeta> dbs;
    std::map<int64_t, CollectionMeta> colls;
  };

  void ApplyOne(const KvChange& c);
  void ApplyAlias(int64_t db_id, const std::string& name, bool gone, const std::string& value,
                  const std::function<void(std::string_view)>& bad);
  void Error(std::string what);
  // Keeps what stopped being live between `before` and `after` in the graveyard.
  void Bury(const Live& before, const Live& after);
  Live Compute() const;
  static std::vector<CatalogEvent> Diff(const Live& before, const Live& after, int64_t revision);

  std::string root_;  // meta_prefix + "root-coord/"
  Raw raw_;
  Live live_;
  std::map<int64_t, CollectionMeta> dropped_;  // by collection id
  std::map<std::pair<int64_t, int64_t>, PartitionMeta> dropped_parts_;
  std::vector<int64_t> dropped_order_;  // oldest first, bounds dropped_
  uint64_t bad_keys_ = 0;
  std::vector<std::string> errors_;
};

}  // namespace cdc::source

#pragma once
// replicate::CatalogView: what the pipeline needs to know about the source Milvus's meta
// (databases, collections, partitions). The production implementation adapts
// source::Catalog (etcd); tests use an in-memory one.
//
// Threading: called from the pipeline's own thread only; implementations need not lock
// unless they are shared. Errors: kUnavailable when etcd cannot be reached (the pipeline
// retries); a missing collection is std::nullopt, not an error.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/hybrid_time.h"
#include "common/rbac.h"
#include "common/status.h"

namespace cdc::replicate {

struct PartitionMeta {
  int64_t id = 0;
  std::string name;
  uint64_t create_ts = 0;
  bool dropped = false;  // only in GetPartition answers: dropped on the source since
};

struct CollectionMeta {
  int64_t id = 0;
  int64_t db_id = 0;
  std::string db_name;  // "default" for the default database
  std::string name;
  // Serialized schema.CollectionSchema with the user fields (id >= 100), as the source keeps
  // it: a dynamic-field collection has enable_dynamic_field and its hidden `$meta` field.
  std::string schema;
  int32_t shards_num = 0;
  int consistency_level = 0;  // common.ConsistencyLevel
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<std::string> aliases;  // its live aliases (same database), sorted
  // Grows with every write of the collection's own catalog key (0 when unknown): a 2.3.5
  // AlterCollection rewrites it without the new properties, which only the source's proxy
  // knows then.
  int64_t revision = 0;
  std::vector<std::string> vchannels;                // shard order
  std::vector<std::string> pchannels;                // pchannels[i] carries vchannels[i]
  std::map<std::string, std::string> start_msg_ids;  // pchannel -> MQ msg id of the create
  uint64_t create_ts = 0;
  std::vector<PartitionMeta> partitions;  // live ones
  // Only in GetCollection answers: the collection was dropped on the source since; this is
  // what it was while it lived.
  bool dropped = false;
};

// A collection's load state on the source (its query coordinator's keys in etcd).
struct LoadInfo {
  bool by_partition = false;  // loaded with load(partition_names=...)
  int32_t replicas = 1;
  std::set<int64_t> partitions;  // partitions loading or loaded, whatever the load type
  bool operator==(const LoadInfo&) const = default;
};

class CatalogView {
 public:
  virtual ~CatalogView() = default;
  // After this returns OK, the answers below include every change committed to the source
  // catalog before the call (see source::Catalog::Sync). The pipeline calls it after reading
  // the time tick it is about to release, so that no message or request at ts <= that tick is
  // decided with a view that misses a collection, partition or database created before it.
  virtual Status Sync() = 0;
  // Grows whenever the view changes (an etcd revision); cheap.
  virtual int64_t Revision() = 0;
  // Calls `fn` (on another thread; it must only wake the caller) whenever Revision() may have
  // grown; nullptr stops that. Default: never (the caller polls Revision()).
  virtual void OnChange(const std::function<void()>& /*fn*/) {}
  // Every collection in state Created, in every database.
  virtual Result<std::vector<CollectionMeta>> ListCollections() = 0;
  // One collection by id (any database); a dropped one with `dropped` set while the view still
  // remembers it; nullopt if unknown.
  virtual Result<std::optional<CollectionMeta>> GetCollection(int64_t id) = 0;
  // One partition of a collection by id, live or (with `dropped`) remembered as dropped.
  virtual Result<std::optional<PartitionMeta>> GetPartition(int64_t collection_id,
                                                            int64_t partition_id) = 0;
  // Load states of every collection the source keeps one of (absent: not loaded), read now,
  // not through the watch. Unimplemented when the view has none (then partition loads are not
  // followed).
  virtual Result<std::map<int64_t, LoadInfo>> LoadStates() {
    return UnimplementedError("this catalog view keeps no load state");
  }
  // The source's users (names), roles, memberships and grants, read now, not through the
  // watch. Unimplemented when the view has none.
  virtual Result<rbac::State> Rbac() {
    return UnimplementedError("this catalog view keeps no RBAC");
  }
  // The source's time now as a hybrid ts: Milvus's hybrid ts carry its wall clock, so ours
  // (NTP-synced clocks agree).
  virtual uint64_t SourceNow() { return MsToHybrid(NowMs()); }
};

}  // namespace cdc::replicate

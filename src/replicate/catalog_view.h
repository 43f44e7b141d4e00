#pragma once
// replicate::CatalogView: what the pipeline needs to know about the source Milvus's meta
// (databases, collections, partitions). The production implementation adapts
// source::Catalog (etcd); tests use an in-memory one.
//
// Threading: called from the pipeline's own thread only; implementations need not lock
// unless they are shared. Errors: kUnavailable when etcd cannot be reached (the pipeline
// retries); a missing or dropped collection is std::nullopt, not an error.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cdc::replicate {

struct PartitionMeta {
  int64_t id = 0;
  std::string name;
  uint64_t create_ts = 0;
};

struct CollectionMeta {
  int64_t id = 0;
  int64_t db_id = 0;
  std::string db_name;  // "default" for the default database
  std::string name;
  std::string schema;  // serialized schema.CollectionSchema with the user fields (id >= 100)
  int32_t shards_num = 0;
  int consistency_level = 0;  // common.ConsistencyLevel
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<std::string> vchannels;                // shard order
  std::vector<std::string> pchannels;                // pchannels[i] carries vchannels[i]
  std::map<std::string, std::string> start_msg_ids;  // pchannel -> MQ msg id of the create
  uint64_t create_ts = 0;
  std::vector<PartitionMeta> partitions;
};

class CatalogView {
 public:
  virtual ~CatalogView() = default;
  // Every collection in state Created, in every database.
  virtual Result<std::vector<CollectionMeta>> ListCollections() = 0;
  // One collection by id (any database); nullopt if unknown or dropped.
  virtual Result<std::optional<CollectionMeta>> GetCollection(int64_t id) = 0;
};

}  // namespace cdc::replicate

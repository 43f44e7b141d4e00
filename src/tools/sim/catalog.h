#pragma once
// Milvus-format catalog keys and values (root-coord layout under {root}/{meta}/), as a real
// Milvus 2.3 writes them (compared with the golden capture in source_unit_test). Pure:
// returns key/value pairs; the caller writes them to etcd (see catalog_writer.h).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "milvus/etcd_meta.pb.h"
#include "tools/sim/messages.h"

namespace cdc::sim {

using Kv = std::pair<std::string, std::string>;

struct CatalogLayout {
  std::string meta_prefix = "by-dev/meta/";  // "{rootPath}/{metaSubPath}/"
  std::string Root() const { return meta_prefix + "root-coord/"; }
};

// db-info/{id} in state Created.
Kv DatabaseKv(const CatalogLayout& l, int64_t id, const std::string& name, uint64_t created_ns);
// A collection as CreateCollection leaves it: collection-info (state Created, channels,
// start positions = the Kafka offsets of its CreateCollection messages), its fields
// (user fields and the RowID/Timestamp system fields) and its `_default` partition.
std::vector<Kv> CollectionKvs(const CatalogLayout& l, const CollectionSpec& c,
                              const std::vector<std::string>& pchannels,
                              const std::vector<int64_t>& start_offsets,
                              int64_t default_partition_id, uint64_t create_ts);
milvus::proto::etcd::CollectionInfo CollectionInfoValue(const CollectionSpec& c,
                                                        const std::vector<std::string>& pchannels,
                                                        const std::vector<int64_t>& start_offsets,
                                                        uint64_t create_ts);
Kv PartitionKv(const CatalogLayout& l, int64_t collection_id, int64_t partition_id,
               const std::string& name, uint64_t create_ts, int state = 0);
// Drops as Milvus writes them: collection-info / partition rewritten in state Dropping; a
// database key replaced by the tombstone E2 9B BC.
Kv DropCollectionKv(const CatalogLayout& l, const CollectionSpec& c,
                    const std::vector<std::string>& pchannels,
                    const std::vector<int64_t>& start_offsets, uint64_t create_ts);
Kv DropDatabaseKv(const CatalogLayout& l, int64_t id);

}  // namespace cdc::sim

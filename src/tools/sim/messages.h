#pragma once
// Builders for Milvus 2.3-format stream messages, as the source simulator writes them:
// the fields real Milvus fills (proxy for Insert/Delete, rootcoord for ticks and DDL), in
// the same protobuf types, so the serialized bytes decode exactly like a real cluster's.
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"

namespace cdc::sim {

struct CollectionSpec {
  std::string db_name = "default";
  int64_t db_id = 1;
  std::string name;
  int64_t id = 0;
  int dim = 128;  // float vector dimension
  int shards = 1;
  std::string pk_field = "pk";       // int64 primary key, fieldID 100
  std::string vector_field = "vec";  // float vector, fieldID 101
  bool dynamic_field = false;
};

// Collection schema as Milvus stores it: fields 100 (pk Int64) and 101 (FloatVector dim).
milvus::proto::schema::CollectionSchema MakeSchema(const CollectionSpec& c);

// Insert of `rows` rows with pk = first_pk.., vector values derived from the pk.
milvus::proto::msg::InsertRequest MakeInsert(const CollectionSpec& c, int64_t partition_id,
                                             const std::string& partition_name,
                                             const std::string& vchannel, uint64_t ts,
                                             int64_t msg_id, int64_t first_pk, int rows,
                                             int64_t segment_id = 1);
milvus::proto::msg::DeleteRequest MakeDelete(const CollectionSpec& c, int64_t partition_id,
                                             const std::string& partition_name,
                                             const std::string& vchannel, uint64_t ts,
                                             int64_t msg_id, const std::vector<int64_t>& pks);
milvus::proto::msg::TimeTickMsg MakeTimeTick(uint64_t ts, int64_t source_id = 1);
milvus::proto::msg::CreateCollectionRequest MakeCreateCollection(
    const CollectionSpec& c, const std::vector<std::string>& vchannels,
    const std::vector<std::string>& pchannels, int64_t default_partition_id, uint64_t ts);
milvus::proto::msg::DropCollectionRequest MakeDropCollection(const CollectionSpec& c, uint64_t ts);
milvus::proto::msg::CreatePartitionRequest MakeCreatePartition(const CollectionSpec& c,
                                                               int64_t partition_id,
                                                               const std::string& name,
                                                               uint64_t ts);
milvus::proto::msg::DropPartitionRequest MakeDropPartition(const CollectionSpec& c,
                                                           int64_t partition_id,
                                                           const std::string& name, uint64_t ts);

// Hybrid timestamp: physical milliseconds << 18 | logical.
inline uint64_t ComposeTs(uint64_t physical_ms, uint64_t logical = 0) {
  return (physical_ms << 18) | logical;
}

}  // namespace cdc::sim

#pragma once
// Builders for Milvus 2.3-format stream messages, as the source simulator writes them. Each
// sets exactly the fields a real Milvus 2.3.5 sets (proven against the golden captures in
// tests/data/golden: unit test source_golden_test), so the bytes decode like a real cluster's.
// Go and C++ order oneof fields differently, so serialized bytes can differ in field order
// for messages with oneofs (FieldData, IDs); they are equal once parsed.
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "common/hybrid_time.h"
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
  std::string pk_field = "id";       // int64 primary key, fieldID 100
  std::string vector_field = "vec";  // float vector, fieldID 101
  bool dynamic_field = false;
};

// User fields only (pk 100, vector 101), as the catalog's fields/ keys hold them.
milvus::proto::schema::CollectionSchema MakeSchema(const CollectionSpec& c);
// As CreateCollection carries it: user fields, then the system fields RowID (0) and
// Timestamp (1).
milvus::proto::schema::CollectionSchema MakeSchemaWithSystemFields(const CollectionSpec& c);

struct InsertSpec {
  int64_t partition_id = 0;
  std::string partition_name = "_default";
  std::string vchannel;
  uint64_t ts = 0;
  int64_t msg_id = 0;
  int64_t first_pk = 1;  // rows get pk first_pk, first_pk+1, ...
  int rows = 1;
  int64_t segment_id = 1;
  int64_t first_row_id = 0;  // 0: same as first_pk
};

// Vector of row pk = `dim` times float(pk), as in the golden scenario.
milvus::proto::msg::InsertRequest MakeInsert(const CollectionSpec& c, const InsertSpec& s);
// Milvus 2.3 deletes name no partition (partitionID -1) and timestamp every key.
milvus::proto::msg::DeleteRequest MakeDelete(const CollectionSpec& c, const std::string& vchannel,
                                             uint64_t ts, int64_t msg_id,
                                             const std::vector<int64_t>& pks);
milvus::proto::msg::TimeTickMsg MakeTimeTick(uint64_t ts, int64_t source_id = 1);
milvus::proto::msg::CreateCollectionRequest MakeCreateCollection(
    const CollectionSpec& c, const std::vector<std::string>& vchannels,
    const std::vector<std::string>& pchannels, int64_t default_partition_id, uint64_t ts);
milvus::proto::msg::DropCollectionRequest MakeDropCollection(const CollectionSpec& c, uint64_t ts);
// Milvus 2.3.5 writes no CreatePartition to the DML channel (partitions come from etcd); the
// builder exists for tests of readers that must accept one.
milvus::proto::msg::CreatePartitionRequest MakeCreatePartition(const CollectionSpec& c,
                                                               int64_t partition_id,
                                                               const std::string& name,
                                                               uint64_t ts);
milvus::proto::msg::DropPartitionRequest MakeDropPartition(const CollectionSpec& c,
                                                           int64_t partition_id,
                                                           const std::string& name, uint64_t ts);

// Hybrid timestamp of a millisecond (common/hybrid_time.h).
inline uint64_t ComposeTs(uint64_t physical_ms, uint64_t logical = 0) {
  return MsToHybrid(static_cast<int64_t>(physical_ms), logical);
}

}  // namespace cdc::sim

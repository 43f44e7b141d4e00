#pragma once
// Rows read from a source collection by query, turned into the replicated Insert (and Delete)
// messages a target takes, routed as the source routes them: the shard (vchannel) a primary
// key hashes to, and for a partition-key collection the partition its key hashes to. Used by
// initial sync's query way (replicate/initial_sync.h).
//
// Milvus 2.3's routing (pkg/util/typeutil, proxy insert/upsert): an int64 key hashes with
// 32-bit murmur3 (seed 0) of its 8 little-endian bytes, top bit cleared; a varchar key with
// CRC-32 (IEEE) of its first 100 bytes. The shard is hash % number of shards, indexing the
// collection's vchannels in their stored order; a partition key picks `_default_{hash %
// num_partitions}` the same way. Rows that hash elsewhere than the source put them would be
// missed by the deletes that follow (they are routed by the source's own hashing).
// Pure functions, thread-safe.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"

namespace cdc::replicate {

uint32_t Murmur3Hash32(std::string_view data, uint32_t seed = 0);
// Milvus' hash of a primary or partition key.
uint32_t HashInt64Key(int64_t key);
uint32_t HashStringKey(std::string_view key);

// Where a group of copied rows goes on the target.
struct RowGroup {
  int shard = 0;              // index into the source collection's vchannels (stored order)
  std::string partition;      // source partition name
  std::vector<int64_t> rows;  // row indexes in the query answer
};

// Groups the rows of a query answer by shard and partition. `pk` is the primary-key column;
// `partition_key` the partition-key column (nullptr if none: then every row goes to
// `partition`); `key_partitions` the number of `_default_N` partitions of a partition-key
// collection.
Result<std::vector<RowGroup>> GroupRows(const milvus::proto::schema::FieldData& pk,
                                        const milvus::proto::schema::FieldData* partition_key,
                                        int64_t num_rows, int num_shards, int64_t key_partitions,
                                        const std::string& partition);

// The values of `rows` of `column`, in that order (any scalar or vector type, the dynamic
// field included).
Result<milvus::proto::schema::FieldData> SelectRows(const milvus::proto::schema::FieldData& column,
                                                    const std::vector<int64_t>& rows);

// The primary keys of `rows` as msg.DeleteRequest wants them.
Result<milvus::proto::schema::IDs> SelectKeys(const milvus::proto::schema::FieldData& pk,
                                              const std::vector<int64_t>& rows);

// Where one group of copied rows lands on the target.
struct CopyDestination {
  std::string db, collection, partition;  // names (as on the target)
  int64_t collection_id = 0;              // target ids
  int64_t partition_id = 0;
  std::string vchannel;  // target vchannel of the group's shard
};

// A serialized msg.InsertRequest of `rows` of `columns` (a query answer) into `to`, every row
// stamped `ts`, message id `msg_id`, column-based, no segment (the target assigns one).
Result<std::string> CopyInsert(const CopyDestination& to,
                               const std::vector<milvus::proto::schema::FieldData>& columns,
                               const std::vector<int64_t>& rows, uint64_t ts, int64_t msg_id);
// A serialized msg.DeleteRequest of the keys of `rows` in `pk` from `to`, every key at `ts`.
Result<std::string> CopyDelete(const CopyDestination& to,
                               const milvus::proto::schema::FieldData& pk,
                               const std::vector<int64_t>& rows, uint64_t ts, int64_t msg_id);
// The Delete that makes a replayed source Insert (serialized msg.InsertRequest) an upsert: its
// keys, each at its row's timestamp, on the same shard, collection and partition (source
// form, rewritten like the Insert). Milvus deletes the rows older than a delete's timestamp,
// so the Insert's own rows stay and any earlier copy of the keys goes.
Result<std::string> DeleteOfInsert(std::string_view insert_payload, int64_t pk_field_id);

// Message ids of copied rows: above any id a Milvus allocator hands out (bit 62), unique per
// copy timestamp, kind (0 delete, 1 insert) and group of the page (< 2048; one per shard and
// partition): a Milvus consumer drops a message whose id it saw in the same tick window.
int64_t CopyMsgId(uint64_t ts, int kind, int group);

}  // namespace cdc::replicate

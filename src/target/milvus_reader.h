#pragma once
// target::MilvusReader: what milvus-cdc reads from a Milvus proxy (2.3+): collections with
// their schema, partitions, indexes, load state, and rows by query. Verify reads the source's
// proxy and a task's target through it; initial sync reads the source's rows through it.
//
// Facts it builds on (Milvus 2.3.5, checked on the test servers, tests/e2e/test_verify.py and
// docs/verify.md):
// - A query reads at its own begin ts (the proxy's TSO when the request arrives). 2.3 has no
//   time travel: travel_timestamp, a guarantee_timestamp in the past and the "iterator"
//   parameter all still read at the begin ts. guarantee_timestamp only makes the server wait
//   until it has consumed its channels up to that ts (a ts in the future waits; used on a
//   replication target, whose channels advance only with the replicated time ticks).
// - With a limit, a query answers the rows with the smallest primary keys that match, in
//   ascending key order (each segment walks its pk-ordered offset map, the proxy merges by
//   smallest key; pymilvus' QueryIterator pages on this). offset + limit is at most
//   quotaAndLimits.limits.maxQueryResultWindow (16384 by default): kMaxQueryWindow.
// - An empty expr needs a limit ("empty expression should be used with limit").
// - count(*) is a query with output_fields ["count(*)"] (any expr, no limit); it answers one
//   Int64 column "count(*)". It counts rows as stored: two rows with one key (e.g. the same
//   insert applied twice) count twice, where a query by key answers one.
// - Output "*" answers every field: vectors, and a dynamic collection's JSON field `$meta`
//   (FieldData is_dynamic, type JSON) holding the whole dynamic object of each row; asking for
//   one dynamic key also answers the whole `$meta` on 2.3.5.
// - Reads need the collection (or the partitions read) loaded: FailedPrecondition otherwise.
// - AllocTimestamp answers a ts of the Milvus' TSO, newer than the begin ts of every request it
//   received before: asked right after a query, it bounds the ts that query read at from above.
//
// Threading: implementations are safe to call from several threads at once.
// Errors: kNotFound for a missing database/collection, kFailedPrecondition for a collection
// that is not loaded, kUnavailable / kDeadlineExceeded when a retry can help (the
// implementation has already retried a few times), kInvalidArgument for a bad request (e.g.
// an expression Milvus cannot parse). Messages name the Milvus, the call and the object.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "milvus/common.pb.h"
#include "milvus/schema.pb.h"
#include "target/client.h"

namespace cdc::target {

namespace commonpb = ::milvus::proto::common;
namespace schemapb = ::milvus::proto::schema;

// The most rows one query may answer (offset + limit): Milvus' maxQueryResultWindow default.
inline constexpr int64_t kMaxQueryWindow = 16384;

// A collection as DescribeCollection answers it.
struct CollectionDescription {
  int64_t id = 0;
  std::string db_name;
  std::string name;
  schemapb::CollectionSchema schema;
  int32_t shards_num = 0;
  commonpb::ConsistencyLevel consistency_level = commonpb::Strong;
  std::map<std::string, std::string> properties;
  int64_t num_partitions = 0;  // partition-key collections
  uint64_t created_ts = 0;
  std::vector<std::string> vchannels;
  std::vector<std::string> pchannels;

  // The primary key field, or nullptr (a 2.3 collection always has one).
  const schemapb::FieldSchema* PrimaryKey() const;
};

// One index as DescribeIndex answers it.
struct IndexInfo {
  std::string index_name;
  std::string field_name;
  int64_t index_id = 0;
  // index_type, metric_type, params (a JSON text), and whatever else the index was made with.
  std::map<std::string, std::string> params;
  commonpb::IndexState state = commonpb::IndexStateNone;
  int64_t indexed_rows = 0;
  int64_t total_rows = 0;
  int64_t pending_index_rows = 0;
};

// How current a read must be.
struct ReadConsistency {
  enum class Level {
    kStrong,       // everything written before the request arrived
    kGuaranteeTs,  // everything up to guarantee_ts (waits until the server consumed that far)
    kEventually,   // whatever the server has consumed
  };
  Level level = Level::kStrong;
  uint64_t guarantee_ts = 0;  // hybrid ts, for kGuaranteeTs

  static ReadConsistency Strong() { return {}; }
  static ReadConsistency AtLeast(uint64_t ts) { return {Level::kGuaranteeTs, ts}; }
  static ReadConsistency Eventually() { return {Level::kEventually, 0}; }
};

struct QueryRequest {
  std::string db;
  std::string collection;
  std::string expr;  // "" = every row (then a limit is required)
  // Field names; "*" = every field; empty = the primary key only.
  std::vector<std::string> output_fields;
  std::vector<std::string> partition_names;  // empty = every partition
  int64_t limit = 0;                         // 0 = none, else 1..kMaxQueryWindow
  ReadConsistency consistency;
};

// Columns of a query answer; every column has num_rows values.
struct QueryResult {
  std::vector<schemapb::FieldData> fields;
  int64_t num_rows = 0;

  // The column named `name`, or nullptr.
  const schemapb::FieldData* Field(const std::string& name) const;
};

class MilvusReader {
 public:
  virtual ~MilvusReader() = default;

  // "milvus source H:P" / "milvus target H:P", for messages.
  virtual std::string Describe() const = 0;

  // A ts from the Milvus' TSO (hybrid: ms << 18 | logical), newer than the begin ts of every
  // request answered before. Unimplemented from a Milvus without the call.
  virtual Result<uint64_t> AllocTimestamp() = 0;
  virtual Result<std::vector<std::string>> ListDatabases() = 0;
  virtual Result<std::vector<std::string>> ListCollections(const std::string& db) = 0;
  virtual Result<CollectionDescription> DescribeCollection(const std::string& db,
                                                           const std::string& collection) = 0;
  virtual Result<std::vector<PartitionInfo>> ShowPartitions(const std::string& db,
                                                            const std::string& collection) = 0;
  // Every index of the collection; empty when it has none.
  virtual Result<std::vector<IndexInfo>> DescribeIndexes(const std::string& db,
                                                         const std::string& collection) = 0;
  // The collection's load state, or that of `partitions` when not empty.
  virtual Result<commonpb::LoadState> GetLoadState(const std::string& db,
                                                   const std::string& collection,
                                                   const std::vector<std::string>& partitions) = 0;
  virtual Result<QueryResult> Query(const QueryRequest& req) = 0;
  // count(*) of the rows matching `expr` ("" = all) in `partitions` (empty = all).
  virtual Result<int64_t> Count(const std::string& db, const std::string& collection,
                                const std::string& expr, const std::vector<std::string>& partitions,
                                ReadConsistency consistency) = 0;
};

}  // namespace cdc::target

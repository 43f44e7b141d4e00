#pragma once
// FakeReader: an in-memory target::MilvusReader for unit tests of verify: one database,
// collections with rows {key, partition, n (Int64), vec (FloatVector dim 2), $meta (JSON)} and
// just the queries verify makes (key ranges and `in` lists from target/primary_key.h, "" with
// a limit, count(*)). Queries answer the smallest keys first, as Milvus does with a limit.
// Tests change the data between calls through before_query. Calls from several threads are
// safe as long as nothing changes the collections meanwhile.
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "target/primary_key.h"

namespace cdc::verify::testing {

struct FakeRow {
  std::string partition = "_default";
  int64_t n = 0;
  float vec[2] = {0, 0};
  std::string meta = "{}";
};

struct FakeCollection {
  target::CollectionDescription desc;
  std::vector<std::string> partitions = {"_default"};
  std::vector<target::IndexInfo> indexes;
  target::commonpb::LoadState load = target::commonpb::LoadStateLoaded;
  std::map<target::PrimaryKey, FakeRow> rows;
  int64_t extra_count = 0;  // count(*) answers this many rows more (rows stored twice)
};

// A collection `name` with key field "id" (Int64) or "pk" (VarChar), n, vec and a dynamic field.
FakeCollection MakeCollection(const std::string& name, bool varchar_key = false);

class FakeReader final : public target::MilvusReader {
 public:
  explicit FakeReader(std::string name) : name_(std::move(name)) {}

  std::map<std::string, FakeCollection> collections;
  // Called before every Query (after the call is counted), e.g. to write "concurrently".
  std::function<void(const target::QueryRequest&)> before_query;
  std::atomic<int> queries{0};
  std::atomic<uint64_t> ts{1000};  // AllocTimestamp's last answer
  bool alloc_unimplemented = false;

  std::string Describe() const override { return "fake " + name_; }
  Result<uint64_t> AllocTimestamp() override;
  Result<std::vector<std::string>> ListDatabases() override;
  Result<std::vector<std::string>> ListCollections(const std::string& db) override;
  Result<target::CollectionDescription> DescribeCollection(const std::string& db,
                                                           const std::string& c) override;
  Result<std::vector<target::PartitionInfo>> ShowPartitions(const std::string& db,
                                                            const std::string& c) override;
  Result<std::vector<target::IndexInfo>> DescribeIndexes(const std::string& db,
                                                         const std::string& c) override;
  Result<target::commonpb::LoadState> GetLoadState(
      const std::string& db, const std::string& c,
      const std::vector<std::string>& partitions) override;
  Result<target::QueryResult> Query(const target::QueryRequest& req) override;
  Result<int64_t> Count(const std::string& db, const std::string& c, const std::string& expr,
                        const std::vector<std::string>& partitions,
                        target::ReadConsistency consistency) override;

 private:
  Result<FakeCollection*> Find(const std::string& c);
  std::string name_;
};

}  // namespace cdc::verify::testing

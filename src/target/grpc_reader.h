#pragma once
// target::GrpcReader: target::MilvusReader over the Milvus gRPC API, on its own
// target::GrpcConnection (deadlines, token, retries, messages: target/grpc_connection.h).
// Read-only: it never writes to the Milvus it reads. Thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "target/connect_options.h"
#include "target/milvus_reader.h"

namespace cdc::target {

class GrpcConnection;

class GrpcReader final : public MilvusReader {
 public:
  explicit GrpcReader(std::shared_ptr<GrpcConnection> conn);
  ~GrpcReader() override;

  // Makes in-flight retries give up early (used on shutdown). Thread-safe.
  void Cancel();

  std::string Describe() const override;
  Result<uint64_t> AllocTimestamp() override;
  Result<std::vector<std::string>> ListDatabases() override;
  Result<std::vector<std::string>> ListCollections(const std::string& db) override;
  Result<CollectionDescription> DescribeCollection(const std::string& db,
                                                   const std::string& collection) override;
  Result<std::vector<PartitionInfo>> ShowPartitions(const std::string& db,
                                                    const std::string& collection) override;
  Result<std::vector<IndexInfo>> DescribeIndexes(const std::string& db,
                                                 const std::string& collection) override;
  Result<commonpb::LoadState> GetLoadState(const std::string& db, const std::string& collection,
                                           const std::vector<std::string>& partitions) override;
  Result<QueryResult> Query(const QueryRequest& req) override;
  Result<int64_t> Count(const std::string& db, const std::string& collection,
                        const std::string& expr, const std::vector<std::string>& partitions,
                        ReadConsistency consistency) override;

 private:
  std::shared_ptr<GrpcConnection> conn_;
};

// Validates `opts` (InvalidArgument naming the key), opens the channel and waits up to
// connect_timeout_s for it (Unavailable naming the address otherwise).
Result<std::unique_ptr<GrpcReader>> ConnectGrpcReader(const ConnectOptions& opts);

}  // namespace cdc::target

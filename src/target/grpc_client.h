#pragma once
// target::GrpcClient: target::Client over the Milvus gRPC API (MilvusService).
//
// Owns one target::GrpcConnection (target/grpc_connection.h): every call carries a deadline
// (rpc_timeout_s), the `authorization` metadata (base64 of the token, as Milvus expects for
// both `user:password` and API keys) and, for per-database calls, the `dbname` metadata.
// Retryable failures are retried up to max_attempts times with exponential backoff (200 ms
// doubling, at most 2 s) before the error is returned. Thread-safe.
#include <memory>
#include <string>

#include "target/client.h"
#include "target/connect_options.h"

namespace cdc::target {

class GrpcClient;

// Validates `opts` (InvalidArgument naming the key), reads the TLS files, opens the channel and
// waits up to connect_timeout_s for it (Unavailable naming the uri otherwise).
Result<std::unique_ptr<GrpcClient>> ConnectGrpcClient(const ConnectOptions& opts);

class GrpcClient final : public Client {
 public:
  struct Impl;
  explicit GrpcClient(std::unique_ptr<Impl> impl);
  ~GrpcClient() override;

  // Makes in-flight retries give up early (used on shutdown). Thread-safe.
  void Cancel();

  std::string Describe() const override;
  std::string Waiting(std::chrono::seconds at_least) const override;
  Result<std::string> GetVersion() override;
  Result<std::string> CheckReplicationReady() override;
  Result<std::string> ReplicateMessage(const milvuspb::ReplicateMessageRequest& req) override;
  Result<CollectionInfo> DescribeCollection(const std::string& db,
                                            const std::string& collection) override;
  Result<std::vector<PartitionInfo>> ShowPartitions(const std::string& db,
                                                    const std::string& collection) override;
  Result<std::vector<std::string>> ListDatabases() override;
  Result<::milvus::proto::common::LoadState> GetLoadState(
      const std::string& db, const std::string& collection,
      const std::vector<std::string>& partitions) override;
  Status CreateCollection(const std::string& db, milvuspb::CreateCollectionRequest req,
                          uint64_t replicate_ts) override;
  Status DropCollection(const std::string& db, const std::string& collection,
                        uint64_t replicate_ts) override;
  Status CreatePartition(const std::string& db, const std::string& collection,
                         const std::string& partition, uint64_t replicate_ts) override;
  Status DropPartition(const std::string& db, const std::string& collection,
                       const std::string& partition, uint64_t replicate_ts) override;
  Status CreateIndex(const std::string& db, milvuspb::CreateIndexRequest req,
                     uint64_t replicate_ts) override;
  Status DropIndex(const std::string& db, milvuspb::DropIndexRequest req,
                   uint64_t replicate_ts) override;
  Status LoadCollection(const std::string& db, milvuspb::LoadCollectionRequest req,
                        uint64_t replicate_ts) override;
  Status ReleaseCollection(const std::string& db, milvuspb::ReleaseCollectionRequest req,
                           uint64_t replicate_ts) override;
  Status LoadPartitions(const std::string& db, milvuspb::LoadPartitionsRequest req,
                        uint64_t replicate_ts) override;
  Status ReleasePartitions(const std::string& db, milvuspb::ReleasePartitionsRequest req,
                           uint64_t replicate_ts) override;
  Status Flush(const std::string& db, milvuspb::FlushRequest req, uint64_t replicate_ts) override;
  Status AlterCollection(const std::string& db, const std::string& collection,
                         const std::vector<std::pair<std::string, std::string>>& props,
                         uint64_t replicate_ts) override;
  Status RenameCollection(const std::string& db, const std::string& from, const std::string& to,
                          uint64_t replicate_ts) override;
  Status CreateAlias(const std::string& db, const std::string& collection, const std::string& alias,
                     uint64_t replicate_ts) override;
  Status AlterAlias(const std::string& db, const std::string& collection, const std::string& alias,
                    uint64_t replicate_ts) override;
  Status DropAlias(const std::string& db, const std::string& alias, uint64_t replicate_ts) override;
  Status CreateDatabase(const std::string& db, uint64_t replicate_ts) override;
  Status DropDatabase(const std::string& db, uint64_t replicate_ts) override;
  Result<rbac::State> SelectRbac(const std::set<std::string>& grant_dbs) override;
  Status CreateRole(const std::string& role) override;
  Status DropRole(const std::string& role) override;
  Status OperateUserRole(const std::string& user, const std::string& role, bool add) override;
  Status OperatePrivilege(const rbac::Grant& g, bool grant, const std::string& grantor) override;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdc::target

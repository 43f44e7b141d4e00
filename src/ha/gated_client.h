#pragma once
// ha::GatedClient: a target::Client that asks "may I write for this task?" before every call
// that changes the target (ReplicateMessage, DDL, the replication check) and refuses with
// kAborted (retryable: the pipeline keeps its round and does not checkpoint it) when the
// answer is no. Reads (Describe*, Show*, List*, GetVersion) pass. See docs/high-availability.md
// for what the check does and does not cover (a call already on the wire).
//
// Ownership: owns the wrapped client. Threads: as the wrapped client; `may_write` must be
// thread-safe.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "target/client.h"

namespace cdc::ha {

class GatedClient final : public target::Client {
 public:
  // `may_write` returns OK or why this server must not write for the task now.
  GatedClient(std::unique_ptr<target::Client> inner, std::function<Status()> may_write)
      : inner_(std::move(inner)), may_write_(std::move(may_write)) {}

  std::string Describe() const override { return inner_->Describe(); }
  std::string Waiting(std::chrono::seconds at_least) const override {
    return inner_->Waiting(at_least);
  }
  Result<std::string> GetVersion() override { return inner_->GetVersion(); }
  Result<std::string> CheckReplicationReady() override;
  bool PositionPerMessage() const override { return inner_->PositionPerMessage(); }
  Result<std::string> ReplicateMessage(
      const target::milvuspb::ReplicateMessageRequest& req) override;
  Result<target::CollectionInfo> DescribeCollection(const std::string& db,
                                                    const std::string& collection) override {
    return inner_->DescribeCollection(db, collection);
  }
  Result<std::vector<target::PartitionInfo>> ShowPartitions(
      const std::string& db, const std::string& collection) override {
    return inner_->ShowPartitions(db, collection);
  }
  Result<std::vector<std::string>> ListDatabases() override { return inner_->ListDatabases(); }
  Result<::milvus::proto::common::LoadState> GetLoadState(
      const std::string& db, const std::string& collection,
      const std::vector<std::string>& partitions) override {
    return inner_->GetLoadState(db, collection, partitions);
  }
  Status CreateCollection(const std::string& db, target::milvuspb::CreateCollectionRequest req,
                          uint64_t replicate_ts) override;
  Status DropCollection(const std::string& db, const std::string& collection,
                        uint64_t replicate_ts) override;
  Status CreatePartition(const std::string& db, const std::string& collection,
                         const std::string& partition, uint64_t replicate_ts) override;
  Status DropPartition(const std::string& db, const std::string& collection,
                       const std::string& partition, uint64_t replicate_ts) override;
  Status CreateIndex(const std::string& db, target::milvuspb::CreateIndexRequest req,
                     uint64_t replicate_ts) override;
  Status DropIndex(const std::string& db, target::milvuspb::DropIndexRequest req,
                   uint64_t replicate_ts) override;
  Status LoadCollection(const std::string& db, target::milvuspb::LoadCollectionRequest req,
                        uint64_t replicate_ts) override;
  Status ReleaseCollection(const std::string& db, target::milvuspb::ReleaseCollectionRequest req,
                           uint64_t replicate_ts) override;
  Status LoadPartitions(const std::string& db, target::milvuspb::LoadPartitionsRequest req,
                        uint64_t replicate_ts) override;
  Status ReleasePartitions(const std::string& db, target::milvuspb::ReleasePartitionsRequest req,
                           uint64_t replicate_ts) override;
  Status Flush(const std::string& db, target::milvuspb::FlushRequest req,
               uint64_t replicate_ts) override;
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
  Result<rbac::State> SelectRbac(const std::set<std::string>& grant_dbs) override {
    return inner_->SelectRbac(grant_dbs);
  }
  Status CreateRole(const std::string& role) override;
  Status DropRole(const std::string& role) override;
  Status OperateUserRole(const std::string& user, const std::string& role, bool add) override;
  Status OperatePrivilege(const rbac::Grant& g, bool grant, const std::string& grantor) override;

 private:
  std::unique_ptr<target::Client> inner_;
  std::function<Status()> may_write_;
};

}  // namespace cdc::ha

#include "ha/gated_client.h"

namespace cdc::ha {

Result<std::string> GatedClient::CheckReplicationReady() {
  RETURN_IF_ERROR(may_write_());
  return inner_->CheckReplicationReady();
}

Result<std::string> GatedClient::ReplicateMessage(
    const target::milvuspb::ReplicateMessageRequest& req) {
  RETURN_IF_ERROR(may_write_());
  return inner_->ReplicateMessage(req);
}

Status GatedClient::CreateCollection(const std::string& db,
                                     target::milvuspb::CreateCollectionRequest req,
                                     uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreateCollection(db, std::move(req), replicate_ts);
}

Status GatedClient::DropCollection(const std::string& db, const std::string& collection,
                                   uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropCollection(db, collection, replicate_ts);
}

Status GatedClient::CreatePartition(const std::string& db, const std::string& collection,
                                    const std::string& partition, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreatePartition(db, collection, partition, replicate_ts);
}

Status GatedClient::DropPartition(const std::string& db, const std::string& collection,
                                  const std::string& partition, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropPartition(db, collection, partition, replicate_ts);
}

Status GatedClient::CreateIndex(const std::string& db, target::milvuspb::CreateIndexRequest req,
                                uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreateIndex(db, std::move(req), replicate_ts);
}

Status GatedClient::DropIndex(const std::string& db, target::milvuspb::DropIndexRequest req,
                              uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropIndex(db, std::move(req), replicate_ts);
}

Status GatedClient::LoadCollection(const std::string& db,
                                   target::milvuspb::LoadCollectionRequest req,
                                   uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->LoadCollection(db, std::move(req), replicate_ts);
}

Status GatedClient::ReleaseCollection(const std::string& db,
                                      target::milvuspb::ReleaseCollectionRequest req,
                                      uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->ReleaseCollection(db, std::move(req), replicate_ts);
}

Status GatedClient::LoadPartitions(const std::string& db,
                                   target::milvuspb::LoadPartitionsRequest req,
                                   uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->LoadPartitions(db, std::move(req), replicate_ts);
}

Status GatedClient::ReleasePartitions(const std::string& db,
                                      target::milvuspb::ReleasePartitionsRequest req,
                                      uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->ReleasePartitions(db, std::move(req), replicate_ts);
}

Status GatedClient::Flush(const std::string& db, target::milvuspb::FlushRequest req,
                          uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->Flush(db, std::move(req), replicate_ts);
}

Status GatedClient::AlterCollection(const std::string& db, const std::string& collection,
                                    const std::vector<std::pair<std::string, std::string>>& props,
                                    uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->AlterCollection(db, collection, props, replicate_ts);
}

Status GatedClient::RenameCollection(const std::string& db, const std::string& from,
                                     const std::string& to, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->RenameCollection(db, from, to, replicate_ts);
}

Status GatedClient::CreateAlias(const std::string& db, const std::string& collection,
                                const std::string& alias, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreateAlias(db, collection, alias, replicate_ts);
}

Status GatedClient::AlterAlias(const std::string& db, const std::string& collection,
                               const std::string& alias, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->AlterAlias(db, collection, alias, replicate_ts);
}

Status GatedClient::DropAlias(const std::string& db, const std::string& alias,
                              uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropAlias(db, alias, replicate_ts);
}

Status GatedClient::CreateDatabase(const std::string& db, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreateDatabase(db, replicate_ts);
}

Status GatedClient::DropDatabase(const std::string& db, uint64_t replicate_ts) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropDatabase(db, replicate_ts);
}

Status GatedClient::CreateRole(const std::string& role) {
  RETURN_IF_ERROR(may_write_());
  return inner_->CreateRole(role);
}

Status GatedClient::DropRole(const std::string& role) {
  RETURN_IF_ERROR(may_write_());
  return inner_->DropRole(role);
}

Status GatedClient::OperateUserRole(const std::string& user, const std::string& role, bool add) {
  RETURN_IF_ERROR(may_write_());
  return inner_->OperateUserRole(user, role, add);
}

Status GatedClient::OperatePrivilege(const rbac::Grant& g, bool grant, const std::string& grantor) {
  RETURN_IF_ERROR(may_write_());
  return inner_->OperatePrivilege(g, grant, grantor);
}

}  // namespace cdc::ha

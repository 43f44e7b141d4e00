#pragma once
// FakeMilvus: an in-process gRPC MilvusService that records every call, for unit tests of
// target::GrpcClient and fast pipeline tests. It is not proof of behaviour against Milvus: the
// integration and e2e tests use a real target.
//
// Holds databases, collections (with vchannels `fake-dml_{i}_{id}v{i}` on pchannels
// `fake-dml_{i}`), partitions, indexes and load state; queries are answered by a handler the
// test sets. ReplicateMessage answers 1900 while
// tt_msg_enabled is true (a normal instance). Failures can be injected per call name.
// Thread-safe (gRPC calls arrive on server threads).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/rbac.h"
#include "milvus/milvus.grpc.pb.h"

namespace cdc::testing {

class FakeMilvus final : public ::milvus::proto::milvus::MilvusService::Service {
 public:
  struct Call {
    std::string method;
    std::string dbname;         // `dbname` metadata
    std::string authorization;  // `authorization` metadata
    std::string request_text;   // DebugString of the request
    uint64_t replicate_ts = 0;  // base.replicateInfo.msgTimestamp
    bool is_replicate = false;  // base.replicateInfo.isReplicate
  };
  struct Failure {
    grpc::StatusCode grpc_code = grpc::StatusCode::OK;  // non-OK: fail at the gRPC layer
    int milvus_code = 0;                                // else: this Milvus status code
    std::string reason;
    // Answers only after this long (other calls go on meanwhile); with an OK code and no Milvus
    // code the call then succeeds: a slow target.
    std::chrono::milliseconds delay{0};
  };
  struct Collection {
    int64_t id = 0;
    int32_t shards = 1;
    std::vector<std::string> vchannels, pchannels;
    std::map<std::string, int64_t> partitions;
    bool loaded = false;
    std::set<std::string> loaded_partitions;  // LoadCollection loads every partition
    std::string schema;                       // serialized CollectionSchema as received
    std::map<std::string, ::milvus::proto::milvus::CreateIndexRequest> indexes;  // by index name
    std::map<std::string, std::string> properties;
  };
  using QueryHandler = std::function<::milvus::proto::milvus::QueryResults(
      const ::milvus::proto::milvus::QueryRequest&)>;

  FakeMilvus();
  ~FakeMilvus() override;

  // Starts listening on 127.0.0.1 (free port), plain text or with `creds` (e.g.
  // grpc::SslServerCredentials). Returns "127.0.0.1:PORT".
  std::string Start();
  std::string Start(const std::shared_ptr<grpc::ServerCredentials>& creds);
  void Stop();
  std::string Address() const { return address_; }

  void set_tt_msg_enabled(bool v);
  // Answers Query calls (none: every query fails with code 65535).
  void set_query_handler(QueryHandler h);
  // AllocTimestamp answers `ts`, then counts up from it.
  void set_next_timestamp(uint64_t ts);
  // The next `times` calls of `method` fail with `f`.
  void FailNext(const std::string& method, int times, Failure f);

  std::vector<Call> Calls() const;
  std::vector<Call> CallsOf(const std::string& method) const;
  std::vector<::milvus::proto::milvus::ReplicateMessageRequest> Replicated() const;
  bool HasDatabase(const std::string& db) const;
  const Collection* FindCollection(const std::string& db, const std::string& name) const;
  // Alias -> collection name, of database `db`.
  std::map<std::string, std::string> Aliases(const std::string& db) const;
  // As a user would on the target itself (a one-shard collection with no schema).
  void AddCollection(const std::string& db, const std::string& name);
  void AddAlias(const std::string& db, const std::string& collection, const std::string& alias);

  // Users, roles, memberships and grants: starts as a 2.3 Milvus does (user root, roles admin
  // and public); SelectGrant answers as 2.3.5 (one database's grants and those of database
  // "*") and DropRole refuses a role with grants, as 2.3.5. OperatePrivilege needs an
  // `authorization` metadata (as 2.3.5: the grantor is its user) and records that user as the
  // grantor.
  rbac::State Rbac() const;
  void AddUser(const std::string& user);
  void AddRole(const std::string& role);

  static constexpr char kReplicateChannel[] = "fake-replicate-msg";

#define FAKE_RPC(Name, Req, Resp)                                                                  \
  grpc::Status Name(grpc::ServerContext* ctx, const ::milvus::proto::milvus::Req* req, Resp* resp) \
      override;
  FAKE_RPC(GetVersion, GetVersionRequest, ::milvus::proto::milvus::GetVersionResponse)
  FAKE_RPC(ReplicateMessage, ReplicateMessageRequest,
           ::milvus::proto::milvus::ReplicateMessageResponse)
  FAKE_RPC(CreateCollection, CreateCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropCollection, DropCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(AlterCollection, AlterCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(RenameCollection, RenameCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(CreateAlias, CreateAliasRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropAlias, DropAliasRequest, ::milvus::proto::common::Status)
  FAKE_RPC(AlterAlias, AlterAliasRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DescribeCollection, DescribeCollectionRequest,
           ::milvus::proto::milvus::DescribeCollectionResponse)
  FAKE_RPC(CreatePartition, CreatePartitionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropPartition, DropPartitionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(ShowPartitions, ShowPartitionsRequest, ::milvus::proto::milvus::ShowPartitionsResponse)
  FAKE_RPC(CreateIndex, CreateIndexRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropIndex, DropIndexRequest, ::milvus::proto::common::Status)
  FAKE_RPC(LoadCollection, LoadCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(ReleaseCollection, ReleaseCollectionRequest, ::milvus::proto::common::Status)
  FAKE_RPC(LoadPartitions, LoadPartitionsRequest, ::milvus::proto::common::Status)
  FAKE_RPC(ReleasePartitions, ReleasePartitionsRequest, ::milvus::proto::common::Status)
  FAKE_RPC(Flush, FlushRequest, ::milvus::proto::milvus::FlushResponse)
  FAKE_RPC(CreateDatabase, CreateDatabaseRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropDatabase, DropDatabaseRequest, ::milvus::proto::common::Status)
  FAKE_RPC(ListDatabases, ListDatabasesRequest, ::milvus::proto::milvus::ListDatabasesResponse)
  FAKE_RPC(ShowCollections, ShowCollectionsRequest,
           ::milvus::proto::milvus::ShowCollectionsResponse)
  FAKE_RPC(DescribeIndex, DescribeIndexRequest, ::milvus::proto::milvus::DescribeIndexResponse)
  FAKE_RPC(GetLoadState, GetLoadStateRequest, ::milvus::proto::milvus::GetLoadStateResponse)
  FAKE_RPC(Query, QueryRequest, ::milvus::proto::milvus::QueryResults)
  FAKE_RPC(AllocTimestamp, AllocTimestampRequest, ::milvus::proto::milvus::AllocTimestampResponse)
  FAKE_RPC(CreateRole, CreateRoleRequest, ::milvus::proto::common::Status)
  FAKE_RPC(DropRole, DropRoleRequest, ::milvus::proto::common::Status)
  FAKE_RPC(OperateUserRole, OperateUserRoleRequest, ::milvus::proto::common::Status)
  FAKE_RPC(SelectRole, SelectRoleRequest, ::milvus::proto::milvus::SelectRoleResponse)
  FAKE_RPC(SelectUser, SelectUserRequest, ::milvus::proto::milvus::SelectUserResponse)
  FAKE_RPC(OperatePrivilege, OperatePrivilegeRequest, ::milvus::proto::common::Status)
  FAKE_RPC(SelectGrant, SelectGrantRequest, ::milvus::proto::milvus::SelectGrantResponse)
#undef FAKE_RPC

 private:
  // Records the call; returns true (and fills `st`/`gs`) if a failure was injected. An injected
  // delay is waited with `held` unlocked.
  template <typename Req>
  bool Begin(const char* method, grpc::ServerContext* ctx, const Req& req,
             ::milvus::proto::common::Status* st, grpc::Status* gs,
             std::unique_lock<std::mutex>* held);
  std::string Db(grpc::ServerContext* ctx, const std::string& req_db) const;

  mutable std::mutex mu_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  bool tt_msg_enabled_ = false;
  int64_t next_id_ = 1000;
  std::map<std::string, std::vector<Failure>> failures_;
  std::vector<Call> calls_;
  std::vector<::milvus::proto::milvus::ReplicateMessageRequest> replicated_;
  std::map<std::string, int64_t> channel_offsets_;
  std::set<std::string> databases_{"default"};
  std::map<std::string, Collection> collections_;  // key db + "/" + name
  std::map<std::string, std::string> aliases_;     // key db + "/" + alias -> collection name
  QueryHandler query_handler_;
  rbac::State rbac_;
  uint64_t last_ts_ = uint64_t{1} << 40;  // AllocTimestamp
};

}  // namespace cdc::testing

#pragma once
// target::Client: the calls milvus-cdc makes on a target Milvus (2.3.2+, with
// common.ttMsgEnabled=false).
//
// Data goes through ReplicateMessage (one call per pack, to a target physical channel). DDL
// goes through the ordinary MilvusService calls with MsgBase.replicateInfo = {isReplicate:
// true, msgTimestamp: replicate_ts}, in database `db` (request db_name and `dbname` metadata).
// Replaying DDL is idempotent: a create of something that exists and a drop/release of
// something that is gone return OK.
//
// Threading: implementations are safe to call from several threads at once.
// Errors: kUnavailable / kDeadlineExceeded / kResourceExhausted when a retry can help (the
// implementation has already retried a few times), kNotFound for Describe* of a missing
// object, kFailedPrecondition when the target refuses replication (ttMsgEnabled true),
// kUnauthenticated / kPermissionDenied for a bad token, kInvalidArgument for bad requests.
// Messages name the target, the call and the object.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/rbac.h"
#include "common/status.h"
#include "milvus/milvus.pb.h"

namespace cdc::target {

namespace milvuspb = ::milvus::proto::milvus;

struct CollectionInfo {
  int64_t id = 0;
  std::string name;
  std::string db_name;
  int32_t shards_num = 0;
  std::vector<std::string> vchannels;  // as returned by the target, shard order
  std::vector<std::string> pchannels;  // pchannels[i] carries vchannels[i]
  uint64_t created_ts = 0;
  std::vector<std::string> aliases;                             // as the target has them
  std::vector<std::pair<std::string, std::string>> properties;  // key, value
};

struct PartitionInfo {
  std::string name;
  int64_t id = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  // "milvus target <uri>", for messages.
  virtual std::string Describe() const = 0;
  // The oldest call still waiting for its answer after `at_least`: "<Describe()>: <call>
  // <object> (no answer since HH:MM:SS UTC)", or "" (none; also for clients that do not
  // track their calls). Any thread.
  virtual std::string Waiting(std::chrono::seconds /*at_least*/) const { return ""; }

  // The target's version string, e.g. "v2.3.9"; also proves the connection and the token.
  virtual Result<std::string> GetVersion() = 0;

  // Proves the target accepts replication: ReplicateMessage on its own replicate channel
  // answers with a position (empty when Milvus answered past its replication check without
  // one, e.g. while that channel's topic does not exist yet). A normal instance
  // (ttMsgEnabled true) gives kFailedPrecondition with a message saying to set
  // common.ttMsgEnabled: false; transport and auth errors are returned as they are.
  virtual Result<std::string> CheckReplicationReady() = 0;

  // True for a sink that needs each message's source position: ReplicateMessage then gets
  // startpositions[i] = where msgs[i] was read on the source (channel, msgID, timestamp);
  // a Milvus target gets one start and one end position per pack.
  virtual bool PositionPerMessage() const { return false; }
  // Sends one pack; returns the position (base64 message id) the target produced last.
  virtual Result<std::string> ReplicateMessage(const milvuspb::ReplicateMessageRequest& req) = 0;

  virtual Result<CollectionInfo> DescribeCollection(const std::string& db,
                                                    const std::string& collection) = 0;
  virtual Result<std::vector<PartitionInfo>> ShowPartitions(const std::string& db,
                                                            const std::string& collection) = 0;
  virtual Result<std::vector<std::string>> ListDatabases() = 0;
  // The load state of a collection, or with `partitions` of those partitions together
  // (GetLoadState). A target that keeps no load state answers kUnimplemented (the default).
  virtual Result<::milvus::proto::common::LoadState> GetLoadState(
      const std::string& db, const std::string& collection,
      const std::vector<std::string>& partitions) {
    (void)db;
    (void)collection;
    (void)partitions;
    return UnimplementedError(Describe() + ": no load state");
  }

  virtual Status CreateCollection(const std::string& db, milvuspb::CreateCollectionRequest req,
                                  uint64_t replicate_ts) = 0;
  virtual Status DropCollection(const std::string& db, const std::string& collection,
                                uint64_t replicate_ts) = 0;
  virtual Status CreatePartition(const std::string& db, const std::string& collection,
                                 const std::string& partition, uint64_t replicate_ts) = 0;
  virtual Status DropPartition(const std::string& db, const std::string& collection,
                               const std::string& partition, uint64_t replicate_ts) = 0;
  virtual Status CreateIndex(const std::string& db, milvuspb::CreateIndexRequest req,
                             uint64_t replicate_ts) = 0;
  virtual Status DropIndex(const std::string& db, milvuspb::DropIndexRequest req,
                           uint64_t replicate_ts) = 0;
  virtual Status LoadCollection(const std::string& db, milvuspb::LoadCollectionRequest req,
                                uint64_t replicate_ts) = 0;
  virtual Status ReleaseCollection(const std::string& db, milvuspb::ReleaseCollectionRequest req,
                                   uint64_t replicate_ts) = 0;
  virtual Status LoadPartitions(const std::string& db, milvuspb::LoadPartitionsRequest req,
                                uint64_t replicate_ts) = 0;
  virtual Status ReleasePartitions(const std::string& db, milvuspb::ReleasePartitionsRequest req,
                                   uint64_t replicate_ts) = 0;
  virtual Status Flush(const std::string& db, milvuspb::FlushRequest req,
                       uint64_t replicate_ts) = 0;
  // Sets the given properties (others stay as they are: a 2.3 target cannot remove one).
  virtual Status AlterCollection(const std::string& db, const std::string& collection,
                                 const std::vector<std::pair<std::string, std::string>>& props,
                                 uint64_t replicate_ts) = 0;
  virtual Status RenameCollection(const std::string& db, const std::string& from,
                                  const std::string& to, uint64_t replicate_ts) = 0;
  // An alias create of one that exists gives kAlreadyExists (it may name another collection:
  // AlterAlias moves it); a drop of one that is gone is OK.
  virtual Status CreateAlias(const std::string& db, const std::string& collection,
                             const std::string& alias, uint64_t replicate_ts) = 0;
  virtual Status AlterAlias(const std::string& db, const std::string& collection,
                            const std::string& alias, uint64_t replicate_ts) = 0;
  virtual Status DropAlias(const std::string& db, const std::string& alias,
                           uint64_t replicate_ts) = 0;
  virtual Status CreateDatabase(const std::string& db, uint64_t replicate_ts) = 0;
  virtual Status DropDatabase(const std::string& db, uint64_t replicate_ts) = 0;

  // Users, roles and grants (replicate/rbac_sync.h). A 2.3 target takes them as ordinary
  // calls (they are not replicate-channel requests); the defaults answer kUnimplemented.
  // SelectRbac: user names, roles, memberships, and every role's grants in the databases
  // `grant_dbs` (and those of database "*", which hold in all): a 2.3.5 SelectGrant answers one
  // database's grants plus those of "*", and for "*" only the latter.
  virtual Result<rbac::State> SelectRbac(const std::set<std::string>& grant_dbs) {
    (void)grant_dbs;
    return UnimplementedError(Describe() + ": no RBAC");
  }
  // A create of a role that exists and a drop of one that is gone are OK.
  virtual Status CreateRole(const std::string& role) { return Unsupported("CreateRole", role); }
  virtual Status DropRole(const std::string& role) { return Unsupported("DropRole", role); }
  virtual Status OperateUserRole(const std::string& user, const std::string& role, bool add) {
    return Unsupported("OperateUserRole", user + "/" + role);
  }
  // Grants (or revokes) `g`. Milvus records the calling user as the grantor; without a token
  // the call names `grantor` (a target without authorization needs a user name and does not
  // check it), with one the token's user grants.
  virtual Status OperatePrivilege(const rbac::Grant& g, bool grant, const std::string& grantor) {
    (void)grantor;
    return Unsupported(grant ? "grant" : "revoke", g.Describe());
  }

 private:
  Status Unsupported(const std::string& call, const std::string& object) const {
    return UnimplementedError(Describe() + ": " + call + " " + object + " is not supported");
  }
};

}  // namespace cdc::target

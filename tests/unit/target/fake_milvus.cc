#include "unit/target/fake_milvus.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "milvus/schema.pb.h"

namespace cdc::testing {
namespace mpb = ::milvus::proto::milvus;
namespace cpb = ::milvus::proto::common;

namespace {
std::string Meta(grpc::ServerContext* ctx, const char* key) {
  auto it = ctx->client_metadata().find(key);
  if (it == ctx->client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}
void Fail(cpb::Status* st, int code, const std::string& reason) {
  st->set_code(code);
  st->set_error_code(cpb::UnexpectedError);
  st->set_reason(reason);
}
}  // namespace

FakeMilvus::FakeMilvus() {
  rbac_.users = {"root"};
  rbac_.roles = {"admin", "public"};
}
FakeMilvus::~FakeMilvus() { Stop(); }

std::string FakeMilvus::Start() { return Start(grpc::InsecureServerCredentials()); }

std::string FakeMilvus::Start(const std::shared_ptr<grpc::ServerCredentials>& creds) {
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", creds, &port);
  b.RegisterService(this);
  server_ = b.BuildAndStart();
  address_ = "127.0.0.1:" + std::to_string(port);
  return address_;
}

void FakeMilvus::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server_.reset();
  }
}

void FakeMilvus::set_tt_msg_enabled(bool v) {
  std::lock_guard l(mu_);
  tt_msg_enabled_ = v;
}

void FakeMilvus::set_query_handler(QueryHandler h) {
  std::lock_guard l(mu_);
  query_handler_ = std::move(h);
}

void FakeMilvus::set_next_timestamp(uint64_t ts) {
  std::lock_guard l(mu_);
  last_ts_ = ts - 1;
}

void FakeMilvus::FailNext(const std::string& method, int times, Failure f) {
  std::lock_guard l(mu_);
  for (int i = 0; i < times; ++i) failures_[method].push_back(f);
}

std::vector<FakeMilvus::Call> FakeMilvus::Calls() const {
  std::lock_guard l(mu_);
  return calls_;
}

std::vector<FakeMilvus::Call> FakeMilvus::CallsOf(const std::string& method) const {
  std::lock_guard l(mu_);
  std::vector<Call> out;
  for (const auto& c : calls_)
    if (c.method == method) out.push_back(c);
  return out;
}

std::vector<mpb::ReplicateMessageRequest> FakeMilvus::Replicated() const {
  std::lock_guard l(mu_);
  return replicated_;
}

bool FakeMilvus::HasDatabase(const std::string& db) const {
  std::lock_guard l(mu_);
  return databases_.count(db) > 0;
}

const FakeMilvus::Collection* FakeMilvus::FindCollection(const std::string& db,
                                                         const std::string& name) const {
  std::lock_guard l(mu_);
  auto it = collections_.find(db + "/" + name);
  return it == collections_.end() ? nullptr : &it->second;
}

std::string FakeMilvus::Db(grpc::ServerContext* ctx, const std::string& req_db) const {
  if (!req_db.empty()) return req_db;
  std::string md = Meta(ctx, "dbname");
  return md.empty() ? "default" : md;
}

template <typename Req>
bool FakeMilvus::Begin(const char* method, grpc::ServerContext* ctx, const Req& req,
                       cpb::Status* st, grpc::Status* gs, std::unique_lock<std::mutex>* held) {
  Call c{method, Meta(ctx, "dbname"), Meta(ctx, "authorization"), req.DebugString()};
  if constexpr (requires { req.base(); }) {
    c.replicate_ts = req.base().replicateinfo().msgtimestamp();
    c.is_replicate = req.base().replicateinfo().isreplicate();
  }
  calls_.push_back(std::move(c));
  auto it = failures_.find(method);
  if (it == failures_.end() || it->second.empty()) return false;
  Failure f = it->second.front();
  it->second.erase(it->second.begin());
  if (f.delay.count() > 0) {
    held->unlock();
    std::this_thread::sleep_for(f.delay);
    held->lock();
  }
  if (f.grpc_code == grpc::StatusCode::OK && f.milvus_code == 0) return false;
  if (f.grpc_code != grpc::StatusCode::OK) {
    *gs = grpc::Status(f.grpc_code, f.reason);
  } else {
    Fail(st, f.milvus_code, f.reason);
  }
  return true;
}

#define BEGIN(Name, status_ptr)       \
  std::unique_lock l(mu_);            \
  grpc::Status gs = grpc::Status::OK; \
  if (Begin(Name, ctx, *req, status_ptr, &gs, &l)) return gs;

grpc::Status FakeMilvus::GetVersion(grpc::ServerContext* ctx, const mpb::GetVersionRequest* req,
                                    mpb::GetVersionResponse* resp) {
  BEGIN("GetVersion", resp->mutable_status());
  resp->set_version("v2.3.9-fake");
  return gs;
}

grpc::Status FakeMilvus::ReplicateMessage(grpc::ServerContext* ctx,
                                          const mpb::ReplicateMessageRequest* req,
                                          mpb::ReplicateMessageResponse* resp) {
  BEGIN("ReplicateMessage", resp->mutable_status());
  if (tt_msg_enabled_) {
    Fail(resp->mutable_status(), 1900, "deny to use the replicate message in the normal instance");
    return gs;
  }
  if (req->channel_name().empty()) {
    Fail(resp->mutable_status(), 1100, "invalid parameter[expected=channel name]");
    return gs;
  }
  if (req->channel_name() == kReplicateChannel) {
    resp->set_position("cHJvYmU=");
    return gs;
  }
  replicated_.push_back(*req);
  int64_t off = ++channel_offsets_[req->channel_name()];
  resp->set_position(req->channel_name() + "@" + std::to_string(off));
  return gs;
}

grpc::Status FakeMilvus::CreateCollection(grpc::ServerContext* ctx,
                                          const mpb::CreateCollectionRequest* req,
                                          cpb::Status* resp) {
  BEGIN("CreateCollection", resp);
  std::string db = Db(ctx, req->db_name());
  if (!databases_.count(db)) {
    Fail(resp, 800, "database not found[database=" + db + "]");
    return gs;
  }
  auto key = db + "/" + req->collection_name();
  if (collections_.count(key)) return gs;  // same as Milvus: idempotent for equal params
  ::milvus::proto::schema::CollectionSchema schema;
  if (!schema.ParseFromString(req->schema())) {
    Fail(resp, 1100, "invalid parameter[expected=a CollectionSchema]");
    return gs;
  }
  for (const auto& f : schema.fields()) {
    if (f.is_dynamic()) {  // as Milvus 2.3's proxy answers
      Fail(resp, 65535, "cannot explicitly set a field as a dynamic field");
      return gs;
    }
  }
  Collection c;
  c.id = next_id_;
  next_id_ += 10;
  c.shards = req->shards_num() > 0 ? req->shards_num() : 1;
  for (const auto& kv : req->properties()) c.properties[kv.key()] = kv.value();
  for (int i = 0; i < c.shards; ++i) {
    c.pchannels.push_back("fake-dml_" + std::to_string(i));
    c.vchannels.push_back(c.pchannels.back() + "_" + std::to_string(c.id) + "v" +
                          std::to_string(i));
  }
  c.partitions["_default"] = c.id + 1;
  c.schema = req->schema();
  collections_[key] = c;
  return gs;
}

grpc::Status FakeMilvus::DropCollection(grpc::ServerContext* ctx,
                                        const mpb::DropCollectionRequest* req, cpb::Status* resp) {
  BEGIN("DropCollection", resp);
  if (!collections_.erase(Db(ctx, req->db_name()) + "/" + req->collection_name()))
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
  return gs;
}

grpc::Status FakeMilvus::DescribeCollection(grpc::ServerContext* ctx,
                                            const mpb::DescribeCollectionRequest* req,
                                            mpb::DescribeCollectionResponse* resp) {
  BEGIN("DescribeCollection", resp->mutable_status());
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp->mutable_status(), 100,
         "can't find collection collection not found[collection=" + req->collection_name() + "]");
    return gs;
  }
  resp->set_collectionid(it->second.id);
  resp->set_collection_name(req->collection_name());
  resp->mutable_schema()->ParseFromString(it->second.schema);
  resp->set_shards_num(it->second.shards);
  for (const auto& v : it->second.vchannels) resp->add_virtual_channel_names(v);
  for (const auto& p : it->second.pchannels) resp->add_physical_channel_names(p);
  const std::string db = Db(ctx, req->db_name());
  for (const auto& [key, coll] : aliases_)
    if (coll == req->collection_name() && key.rfind(db + "/", 0) == 0)
      resp->add_aliases(key.substr(db.size() + 1));
  for (const auto& [k, v] : it->second.properties) {
    auto* kv = resp->add_properties();
    kv->set_key(k);
    kv->set_value(v);
  }
  return gs;
}

grpc::Status FakeMilvus::AlterCollection(grpc::ServerContext* ctx,
                                         const mpb::AlterCollectionRequest* req,
                                         cpb::Status* resp) {
  BEGIN("AlterCollection", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
    return gs;
  }
  for (const auto& kv : req->properties()) it->second.properties[kv.key()] = kv.value();
  return gs;
}

grpc::Status FakeMilvus::RenameCollection(grpc::ServerContext* ctx,
                                          const mpb::RenameCollectionRequest* req,
                                          cpb::Status* resp) {
  BEGIN("RenameCollection", resp);
  const std::string db = Db(ctx, req->db_name());
  auto it = collections_.find(db + "/" + req->oldname());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found[collection=" + req->oldname() + "]");
  } else if (collections_.count(db + "/" + req->newname())) {
    Fail(resp, 65535, "duplicated new collection name " + req->newname());
  } else {
    collections_[db + "/" + req->newname()] = it->second;
    collections_.erase(it);
    for (auto& [_, coll] : aliases_)
      if (coll == req->oldname()) coll = req->newname();
  }
  return gs;
}

grpc::Status FakeMilvus::CreateAlias(grpc::ServerContext* ctx, const mpb::CreateAliasRequest* req,
                                     cpb::Status* resp) {
  BEGIN("CreateAlias", resp);
  const std::string db = Db(ctx, req->db_name());
  if (!collections_.count(db + "/" + req->collection_name())) {
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
  } else if (aliases_.count(db + "/" + req->alias())) {
    Fail(resp, 65535, "alias already exists: " + req->alias());
  } else {
    aliases_[db + "/" + req->alias()] = req->collection_name();
  }
  return gs;
}

grpc::Status FakeMilvus::AlterAlias(grpc::ServerContext* ctx, const mpb::AlterAliasRequest* req,
                                    cpb::Status* resp) {
  BEGIN("AlterAlias", resp);
  const std::string db = Db(ctx, req->db_name());
  if (!aliases_.count(db + "/" + req->alias())) {
    Fail(resp, 1600, "alias not found[alias=" + req->alias() + "]");
  } else {
    aliases_[db + "/" + req->alias()] = req->collection_name();
  }
  return gs;
}

grpc::Status FakeMilvus::DropAlias(grpc::ServerContext* ctx, const mpb::DropAliasRequest* req,
                                   cpb::Status* resp) {
  BEGIN("DropAlias", resp);
  if (!aliases_.erase(Db(ctx, req->db_name()) + "/" + req->alias()))
    Fail(resp, 1600, "alias not found[alias=" + req->alias() + "]");
  return gs;
}

std::map<std::string, std::string> FakeMilvus::Aliases(const std::string& db) const {
  std::lock_guard l(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [key, coll] : aliases_)
    if (key.rfind(db + "/", 0) == 0) out[key.substr(db.size() + 1)] = coll;
  return out;
}

void FakeMilvus::AddCollection(const std::string& db, const std::string& name) {
  std::lock_guard l(mu_);
  Collection c;
  c.id = next_id_;
  next_id_ += 10;
  c.pchannels = {"fake-dml_0"};
  c.vchannels = {"fake-dml_0_" + std::to_string(c.id) + "v0"};
  c.partitions["_default"] = c.id + 1;
  collections_[db + "/" + name] = c;
}

void FakeMilvus::AddAlias(const std::string& db, const std::string& collection,
                          const std::string& alias) {
  std::lock_guard l(mu_);
  aliases_[db + "/" + alias] = collection;
}

grpc::Status FakeMilvus::CreatePartition(grpc::ServerContext* ctx,
                                         const mpb::CreatePartitionRequest* req,
                                         cpb::Status* resp) {
  BEGIN("CreatePartition", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
  } else if (it->second.partitions.count(req->partition_name())) {
    Fail(resp, 65535, "partition already exists: " + req->partition_name());
  } else {
    it->second.partitions[req->partition_name()] = next_id_++;
  }
  return gs;
}

grpc::Status FakeMilvus::DropPartition(grpc::ServerContext* ctx,
                                       const mpb::DropPartitionRequest* req, cpb::Status* resp) {
  BEGIN("DropPartition", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end() || !it->second.partitions.erase(req->partition_name()))
    Fail(resp, 200, "partition not found[partition=" + req->partition_name() + "]");
  return gs;
}

grpc::Status FakeMilvus::ShowPartitions(grpc::ServerContext* ctx,
                                        const mpb::ShowPartitionsRequest* req,
                                        mpb::ShowPartitionsResponse* resp) {
  BEGIN("ShowPartitions", resp->mutable_status());
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp->mutable_status(), 100, "collection not found");
    return gs;
  }
  for (const auto& [name, id] : it->second.partitions) {
    resp->add_partition_names(name);
    resp->add_partitionids(id);
  }
  return gs;
}

#define SIMPLE_RPC(Name, Req)                                                  \
  grpc::Status FakeMilvus::Name(grpc::ServerContext* ctx, const mpb::Req* req, \
                                cpb::Status* resp) {                           \
    BEGIN(#Name, resp);                                                        \
    return gs;                                                                 \
  }
SIMPLE_RPC(DropIndex, DropIndexRequest)
#undef SIMPLE_RPC

grpc::Status FakeMilvus::LoadPartitions(grpc::ServerContext* ctx,
                                        const mpb::LoadPartitionsRequest* req, cpb::Status* resp) {
  BEGIN("LoadPartitions", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found");
  } else {
    for (const auto& p : req->partition_names()) it->second.loaded_partitions.insert(p);
    it->second.loaded = true;
  }
  return gs;
}

grpc::Status FakeMilvus::ReleasePartitions(grpc::ServerContext* ctx,
                                           const mpb::ReleasePartitionsRequest* req,
                                           cpb::Status* resp) {
  BEGIN("ReleasePartitions", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it != collections_.end()) {
    for (const auto& p : req->partition_names()) it->second.loaded_partitions.erase(p);
    it->second.loaded = !it->second.loaded_partitions.empty();
  }
  return gs;
}

grpc::Status FakeMilvus::CreateIndex(grpc::ServerContext* ctx, const mpb::CreateIndexRequest* req,
                                     cpb::Status* resp) {
  BEGIN("CreateIndex", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found");
  } else {
    it->second.indexes[req->index_name().empty() ? req->field_name() : req->index_name()] = *req;
  }
  return gs;
}

grpc::Status FakeMilvus::DescribeIndex(grpc::ServerContext* ctx,
                                       const mpb::DescribeIndexRequest* req,
                                       mpb::DescribeIndexResponse* resp) {
  BEGIN("DescribeIndex", resp->mutable_status());
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp->mutable_status(), 100,
         "collection not found[collection=" + req->collection_name() + "]");
  } else if (it->second.indexes.empty()) {
    Fail(resp->mutable_status(), 700, "index not found[collection=" + req->collection_name() + "]");
  }
  if (resp->status().code() != 0) return gs;
  for (const auto& [name, ci] : it->second.indexes) {
    auto* d = resp->add_index_descriptions();
    d->set_index_name(name);
    d->set_field_name(ci.field_name());
    for (const auto& kv : ci.extra_params()) *d->add_params() = kv;
    d->set_state(cpb::Finished);
  }
  return gs;
}

grpc::Status FakeMilvus::GetLoadState(grpc::ServerContext* ctx, const mpb::GetLoadStateRequest* req,
                                      mpb::GetLoadStateResponse* resp) {
  BEGIN("GetLoadState", resp->mutable_status());
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    resp->set_state(cpb::LoadStateNotExist);
  } else {
    bool loaded = it->second.loaded;
    for (const auto& p : req->partition_names())
      loaded = loaded && it->second.loaded_partitions.count(p) > 0;
    resp->set_state(loaded ? cpb::LoadStateLoaded : cpb::LoadStateNotLoad);
  }
  return gs;
}

grpc::Status FakeMilvus::ShowCollections(grpc::ServerContext* ctx,
                                         const mpb::ShowCollectionsRequest* req,
                                         mpb::ShowCollectionsResponse* resp) {
  BEGIN("ShowCollections", resp->mutable_status());
  const std::string prefix = Db(ctx, req->db_name()) + "/";
  for (const auto& [key, c] : collections_) {
    if (key.rfind(prefix, 0) != 0) continue;
    resp->add_collection_names(key.substr(prefix.size()));
    resp->add_collection_ids(c.id);
  }
  return gs;
}

grpc::Status FakeMilvus::Query(grpc::ServerContext* ctx, const mpb::QueryRequest* req,
                               mpb::QueryResults* resp) {
  BEGIN("Query", resp->mutable_status());
  if (!query_handler_) {
    Fail(resp->mutable_status(), 65535, "no query handler in this test");
    return gs;
  }
  *resp = query_handler_(*req);
  return gs;
}

grpc::Status FakeMilvus::AllocTimestamp(grpc::ServerContext* ctx,
                                        const mpb::AllocTimestampRequest* req,
                                        mpb::AllocTimestampResponse* resp) {
  BEGIN("AllocTimestamp", resp->mutable_status());
  resp->set_timestamp(++last_ts_);
  return gs;
}

grpc::Status FakeMilvus::LoadCollection(grpc::ServerContext* ctx,
                                        const mpb::LoadCollectionRequest* req, cpb::Status* resp) {
  BEGIN("LoadCollection", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found");
  } else {
    it->second.loaded = true;
    for (const auto& [name, _] : it->second.partitions) it->second.loaded_partitions.insert(name);
  }
  return gs;
}

grpc::Status FakeMilvus::ReleaseCollection(grpc::ServerContext* ctx,
                                           const mpb::ReleaseCollectionRequest* req,
                                           cpb::Status* resp) {
  BEGIN("ReleaseCollection", resp);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it != collections_.end()) {
    it->second.loaded = false;
    it->second.loaded_partitions.clear();
  }
  return gs;
}

grpc::Status FakeMilvus::Flush(grpc::ServerContext* ctx, const mpb::FlushRequest* req,
                               mpb::FlushResponse* resp) {
  BEGIN("Flush", resp->mutable_status());
  resp->set_db_name(Db(ctx, req->db_name()));
  return gs;
}

grpc::Status FakeMilvus::CreateDatabase(grpc::ServerContext* ctx,
                                        const mpb::CreateDatabaseRequest* req, cpb::Status* resp) {
  BEGIN("CreateDatabase", resp);
  if (!databases_.insert(req->db_name()).second)
    Fail(resp, 65535, "database already exist: " + req->db_name());
  return gs;
}

grpc::Status FakeMilvus::DropDatabase(grpc::ServerContext* ctx, const mpb::DropDatabaseRequest* req,
                                      cpb::Status* resp) {
  BEGIN("DropDatabase", resp);
  if (!databases_.erase(req->db_name()))
    Fail(resp, 800, "database not found[database=" + req->db_name() + "]");
  return gs;
}

grpc::Status FakeMilvus::ListDatabases(grpc::ServerContext* ctx,
                                       const mpb::ListDatabasesRequest* req,
                                       mpb::ListDatabasesResponse* resp) {
  BEGIN("ListDatabases", resp->mutable_status());
  for (const auto& d : databases_) resp->add_db_names(d);
  return gs;
}

rbac::State FakeMilvus::Rbac() const {
  std::lock_guard l(mu_);
  return rbac_;
}

void FakeMilvus::AddUser(const std::string& user) {
  std::lock_guard l(mu_);
  rbac_.users.insert(user);
}

void FakeMilvus::AddRole(const std::string& role) {
  std::lock_guard l(mu_);
  rbac_.roles.insert(role);
}

grpc::Status FakeMilvus::CreateRole(grpc::ServerContext* ctx, const mpb::CreateRoleRequest* req,
                                    cpb::Status* resp) {
  BEGIN("CreateRole", resp);
  if (!rbac_.roles.insert(req->entity().name()).second)
    Fail(resp, 65535, "role [name:\"" + req->entity().name() + "\"] already exists");
  return gs;
}

grpc::Status FakeMilvus::DropRole(grpc::ServerContext* ctx, const mpb::DropRoleRequest* req,
                                  cpb::Status* resp) {
  BEGIN("DropRole", resp);
  const std::string& role = req->role_name();
  if (!rbac_.roles.count(role)) {
    Fail(resp, 65535, "the role isn't existed");
    return gs;
  }
  if (std::any_of(rbac_.grants.begin(), rbac_.grants.end(),
                  [&](const auto& g) { return g.role == role; })) {
    Fail(resp, 65535,
         "fail to drop the role that it has privileges. Use REVOKE API to revoke privileges");
    return gs;
  }
  rbac_.roles.erase(role);
  std::erase_if(rbac_.members, [&](const auto& m) { return m.second == role; });
  return gs;
}

grpc::Status FakeMilvus::OperateUserRole(grpc::ServerContext* ctx,
                                         const mpb::OperateUserRoleRequest* req,
                                         cpb::Status* resp) {
  BEGIN("OperateUserRole", resp);
  if (!rbac_.users.count(req->username())) {
    Fail(resp, 65535, "not found the user, maybe the user isn't existed or internal system error");
  } else if (!rbac_.roles.count(req->role_name())) {
    Fail(resp, 65535, "not found the role, maybe the role isn't existed or internal system error");
  } else if (req->type() == mpb::AddUserToRole) {
    rbac_.members.emplace(req->username(), req->role_name());
  } else {
    rbac_.members.erase({req->username(), req->role_name()});
  }
  return gs;
}

grpc::Status FakeMilvus::SelectRole(grpc::ServerContext* ctx, const mpb::SelectRoleRequest* req,
                                    mpb::SelectRoleResponse* resp) {
  BEGIN("SelectRole", resp->mutable_status());
  for (const auto& role : rbac_.roles) {
    auto* r = resp->add_results();
    r->mutable_role()->set_name(role);
    if (!req->include_user_info()) continue;
    for (const auto& [user, of] : rbac_.members)
      if (of == role) r->add_users()->set_name(user);
  }
  return gs;
}

grpc::Status FakeMilvus::SelectUser(grpc::ServerContext* ctx, const mpb::SelectUserRequest* req,
                                    mpb::SelectUserResponse* resp) {
  BEGIN("SelectUser", resp->mutable_status());
  for (const auto& user : rbac_.users) resp->add_results()->mutable_user()->set_name(user);
  return gs;
}

grpc::Status FakeMilvus::OperatePrivilege(grpc::ServerContext* ctx,
                                          const mpb::OperatePrivilegeRequest* req,
                                          cpb::Status* resp) {
  BEGIN("OperatePrivilege", resp);
  std::string decoded;
  absl::Base64Unescape(Meta(ctx, "authorization"), &decoded);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    Fail(resp, 65535, "fail to get authorization from the md, authorize:[authorization]");
    return gs;
  }
  const auto& e = req->entity();
  if (!rbac_.roles.count(e.role().name())) {
    Fail(resp, 65535, "not found the role, maybe the role isn't existed or internal system error");
    return gs;
  }
  rbac::Grant g{e.role().name(), e.object().name(), e.object_name(),
                e.db_name().empty() ? "default" : e.db_name(), e.grantor().privilege().name()};
  if (req->type() == mpb::Grant) {
    rbac_.grantors[g] = decoded.substr(0, colon);
    rbac_.grants.insert(std::move(g));
  } else {
    rbac_.grantors.erase(g);
    rbac_.grants.erase(g);
  }
  return gs;
}

grpc::Status FakeMilvus::SelectGrant(grpc::ServerContext* ctx, const mpb::SelectGrantRequest* req,
                                     mpb::SelectGrantResponse* resp) {
  BEGIN("SelectGrant", resp->mutable_status());
  const auto& e = req->entity();
  for (const auto& g : rbac_.grants) {
    if (g.role != e.role().name()) continue;
    // As 2.3.5: one database's grants and those of "*"; for "*" only the latter.
    const std::string db = e.db_name().empty() ? "default" : e.db_name();
    if (g.db_name != db && g.db_name != "*") continue;
    auto* out = resp->add_entities();
    out->mutable_role()->set_name(g.role);
    out->mutable_object()->set_name(g.object_type);
    out->set_object_name(g.object_name);
    out->set_db_name(g.db_name);
    out->mutable_grantor()->mutable_privilege()->set_name(g.privilege);
    out->mutable_grantor()->mutable_user()->set_name(rbac_.grantors[g]);
  }
  return gs;
}

}  // namespace cdc::testing

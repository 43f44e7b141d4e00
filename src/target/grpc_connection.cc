#include "target/grpc_connection.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hybrid_time.h"
#include "target/dial.h"

namespace cdc::target {

Result<std::shared_ptr<GrpcConnection>> GrpcConnection::Open(const ConnectOptions& opts) {
  std::shared_ptr<GrpcConnection> c(new GrpcConnection());
  c->opts_ = opts;
  if (c->opts_.connect_timeout_s <= 0) c->opts_.connect_timeout_s = 10;
  if (c->opts_.rpc_timeout_s <= 0) c->opts_.rpc_timeout_s = 30;
  if (c->opts_.max_attempts <= 0) c->opts_.max_attempts = 1;
  if (!opts.token.empty()) c->authorization_ = absl::Base64Escape(opts.token);
  ASSIGN_OR_RETURN(DialedChannel d, Dial(c->opts_));
  c->host_port_ = d.address.HostPort();
  c->channel_ = std::move(d.channel);
  c->stub_ = ::milvus::proto::milvus::MilvusService::NewStub(c->channel_);
  return c;
}

std::string GrpcConnection::Describe() const {
  return absl::StrCat("milvus ", opts_.names.role, " ", host_port_);
}

GrpcConnection::InFlight::InFlight(const GrpcConnection* conn, const std::string& where)
    : conn_(conn) {
  std::lock_guard l(conn_->calls_mu_);
  id_ = conn_->next_call_++;
  conn_->calls_[id_] = {where, NowMs()};
}

GrpcConnection::InFlight::~InFlight() {
  std::lock_guard l(conn_->calls_mu_);
  conn_->calls_.erase(id_);
}

std::string GrpcConnection::Waiting(std::chrono::seconds at_least) const {
  std::lock_guard l(calls_mu_);
  if (calls_.empty()) return "";
  const CallStart& oldest = calls_.begin()->second;
  if (NowMs() - oldest.since_ms < at_least.count() * 1000) return "";
  return absl::StrCat(oldest.where, " (no answer since ", UtcClock(oldest.since_ms), ")");
}

std::string GrpcConnection::Where(const std::string& call, const std::string& object) const {
  return absl::StrCat(Describe(), ": ", call, object.empty() ? "" : " ", object);
}

Result<::milvus::proto::milvus::DescribeCollectionResponse> DescribeCollectionOn(
    GrpcConnection& conn, const std::string& db, const std::string& collection) {
  ::milvus::proto::milvus::DescribeCollectionRequest req;
  req.set_db_name(db);
  req.set_collection_name(collection);
  ::milvus::proto::milvus::DescribeCollectionResponse resp;
  RETURN_IF_ERROR(conn.Call(
      conn.Where("DescribeCollection", absl::StrCat("db=", db, " collection=", collection)), db,
      &GrpcConnection::Stub::DescribeCollection, req, &resp));
  return resp;
}

Result<std::vector<PartitionInfo>> ShowPartitionsOn(GrpcConnection& conn, const std::string& db,
                                                    const std::string& collection) {
  ::milvus::proto::milvus::ShowPartitionsRequest req;
  req.set_db_name(db);
  req.set_collection_name(collection);
  ::milvus::proto::milvus::ShowPartitionsResponse resp;
  RETURN_IF_ERROR(
      conn.Call(conn.Where("ShowPartitions", absl::StrCat("db=", db, " collection=", collection)),
                db, &GrpcConnection::Stub::ShowPartitions, req, &resp));
  std::vector<PartitionInfo> out;
  for (int i = 0; i < resp.partition_names_size() && i < resp.partitionids_size(); ++i)
    out.push_back({resp.partition_names(i), resp.partitionids(i)});
  return out;
}

Result<std::vector<std::string>> ListDatabasesOn(GrpcConnection& conn) {
  ::milvus::proto::milvus::ListDatabasesRequest req;
  ::milvus::proto::milvus::ListDatabasesResponse resp;
  RETURN_IF_ERROR(conn.Call(conn.Where("ListDatabases", ""), "",
                            &GrpcConnection::Stub::ListDatabases, req, &resp));
  return std::vector<std::string>(resp.db_names().begin(), resp.db_names().end());
}

Result<::milvus::proto::common::LoadState> GetLoadStateOn(
    GrpcConnection& conn, const std::string& db, const std::string& collection,
    const std::vector<std::string>& partitions) {
  ::milvus::proto::milvus::GetLoadStateRequest req;
  req.set_db_name(db);
  req.set_collection_name(collection);
  for (const auto& p : partitions) req.add_partition_names(p);
  ::milvus::proto::milvus::GetLoadStateResponse resp;
  RETURN_IF_ERROR(
      conn.Call(conn.Where("GetLoadState", absl::StrCat("db=", db, " collection=", collection,
                                                        partitions.empty() ? "" : " partitions=",
                                                        absl::StrJoin(partitions, ","))),
                db, &GrpcConnection::Stub::GetLoadState, req, &resp));
  return resp.state();
}

}  // namespace cdc::target

#include "etcd/client.h"

#include "absl/strings/str_cat.h"
#include "etcd/convert.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace cdc::etcd {
namespace {

using ChannelPtr = std::shared_ptr<grpc::Channel>;

std::string Quote(const std::string& key, bool prefix) {
  return absl::StrCat(prefix ? "prefix '" : "'", key, "'");
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<Connection> conn, Connection::Create(options));
  std::unique_ptr<Client> client(new Client(conn));
  // Probe: a count-only range on one key is cheap and needs no particular permission to reach
  // the server (a permission error still proves the server and the credentials work).
  etcdserverpb::RangeRequest req;
  req.set_key("\0", 1);
  req.set_count_only(true);
  etcdserverpb::RangeResponse resp;
  Status s = conn->Call(
      "connect",
      [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
        return etcdserverpb::KV::NewStub(ch)->Range(&ctx, req, &resp);
      },
      options.dial_timeout);
  if (!s.ok() && s.code() != StatusCode::kPermissionDenied) return s;
  return client;
}

std::string Client::Describe() const {
  std::string out = "etcd ";
  for (size_t i = 0; i < conn_->endpoint_count(); ++i) {
    absl::StrAppend(&out, i ? "," : "", conn_->endpoint(i));
  }
  return out;
}

Result<RangeResult> Client::Range(const std::string& key, const RangeOptions& opts) {
  etcdserverpb::RangeRequest req = internal::ToRangeRequest(key, opts);
  etcdserverpb::RangeResponse resp;
  RETURN_IF_ERROR(conn_->Call(absl::StrCat("range ", Quote(key, opts.prefix)),
                              [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                                return etcdserverpb::KV::NewStub(ch)->Range(&ctx, req, &resp);
                              }));
  return internal::FromProto(resp);
}

Result<std::optional<KeyValue>> Client::Get(const std::string& key) {
  ASSIGN_OR_RETURN(RangeResult r, Range(key));
  if (r.kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(r.kvs.front()));
}

Result<int64_t> Client::Put(const std::string& key, const std::string& value, int64_t lease) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  etcdserverpb::PutResponse resp;
  RETURN_IF_ERROR(conn_->Call(absl::StrCat("put ", Quote(key, false)),
                              [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                                return etcdserverpb::KV::NewStub(ch)->Put(&ctx, req, &resp);
                              }));
  return resp.header().revision();
}

Result<int64_t> Client::Delete(const std::string& key, bool prefix) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(key);
  if (prefix) req.set_range_end(PrefixEnd(key));
  etcdserverpb::DeleteRangeResponse resp;
  RETURN_IF_ERROR(conn_->Call(absl::StrCat("delete ", Quote(key, prefix)),
                              [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                                return etcdserverpb::KV::NewStub(ch)->DeleteRange(&ctx, req, &resp);
                              }));
  return resp.deleted();
}

Result<TxnResult> Client::Txn(const std::vector<Compare>& compares,
                              const std::vector<TxnOp>& then_ops,
                              const std::vector<TxnOp>& else_ops) {
  etcdserverpb::TxnRequest req;
  for (const auto& c : compares) *req.add_compare() = internal::ToProto(c);
  for (const auto& op : then_ops) *req.add_success() = internal::ToProto(op);
  for (const auto& op : else_ops) *req.add_failure() = internal::ToProto(op);
  etcdserverpb::TxnResponse resp;
  std::string action = absl::StrCat("txn (", compares.size(), " compares, ", then_ops.size(), "/",
                                    else_ops.size(), " ops)");
  RETURN_IF_ERROR(conn_->Call(action, [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
    return etcdserverpb::KV::NewStub(ch)->Txn(&ctx, req, &resp);
  }));
  TxnResult out;
  out.succeeded = resp.succeeded();
  out.revision = resp.header().revision();
  for (const auto& r : resp.responses()) {
    if (r.has_response_range()) out.gets.push_back(internal::FromProto(r.response_range()));
  }
  return out;
}

Status Client::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  etcdserverpb::CompactionResponse resp;
  return conn_->Call(absl::StrCat("compact to revision ", revision),
                     [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                       return etcdserverpb::KV::NewStub(ch)->Compact(&ctx, req, &resp);
                     });
}

Result<int64_t> Client::LeaseGrant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse resp;
  RETURN_IF_ERROR(conn_->Call(absl::StrCat("grant lease ttl=", ttl_seconds, "s"),
                              [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                                return etcdserverpb::Lease::NewStub(ch)->LeaseGrant(&ctx, req,
                                                                                    &resp);
                              }));
  if (!resp.error().empty()) {
    return InternalError(absl::StrCat(Describe(), ": grant lease: ", resp.error()));
  }
  return resp.id();
}

Status Client::LeaseRevoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse resp;
  return conn_->Call(absl::StrCat("revoke lease ", lease_id),
                     [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                       return etcdserverpb::Lease::NewStub(ch)->LeaseRevoke(&ctx, req, &resp);
                     });
}

Result<int64_t> Client::LeaseTimeToLive(int64_t lease_id) {
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseTimeToLiveResponse resp;
  RETURN_IF_ERROR(conn_->Call(absl::StrCat("lease ", lease_id, " time-to-live"),
                              [&](const ChannelPtr& ch, grpc::ClientContext& ctx) {
                                return etcdserverpb::Lease::NewStub(ch)->LeaseTimeToLive(&ctx, req,
                                                                                         &resp);
                              }));
  return resp.ttl();
}

Result<int64_t> Client::LeaseKeepAliveOnce(int64_t lease_id) {
  return KeepAliveOnce(*conn_, lease_id);
}

std::unique_ptr<LeaseKeeper> Client::KeepAlive(int64_t lease_id, int64_t ttl_seconds,
                                               LeaseKeeper::LostFn on_lost) {
  return std::unique_ptr<LeaseKeeper>(
      new LeaseKeeper(conn_, lease_id, ttl_seconds, std::move(on_lost)));
}

Result<std::unique_ptr<Watcher>> Client::Watch(const std::string& key, const WatchOptions& opts,
                                               Watcher::EventsFn on_events,
                                               Watcher::ErrorFn on_error) {
  std::unique_ptr<Watcher> w(
      new Watcher(conn_, key, opts, std::move(on_events), std::move(on_error)));
  RETURN_IF_ERROR(w->Start());
  return w;
}

}  // namespace cdc::etcd

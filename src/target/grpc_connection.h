#pragma once
// target::GrpcConnection: one gRPC channel to a Milvus proxy (MilvusService) and the one way a
// call is made on it, shared by target::GrpcClient (what the pipeline writes) and
// target::GrpcReader (what verify and initial sync read):
// - a deadline per call (rpc_timeout_s), the `authorization` metadata (base64 of the token, for
//   `user:password` and API keys alike; never logged) and, for per-database calls, `dbname`;
// - retryable failures retried up to max_attempts times (200 ms doubling, at most 2 s);
// - answers mapped to cdc::Status naming the Milvus (`milvus target H:P` / `milvus source
//   H:P`), the call and the object, with hints naming the settings (ConnectOptions::names).
// Thread-safe.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "common/status.h"
#include "milvus/milvus.grpc.pb.h"
#include "target/client.h"
#include "target/connect_options.h"
#include "target/status_map.h"

namespace cdc::target {

class GrpcConnection {
 public:
  using Stub = ::milvus::proto::milvus::MilvusService::Stub;

  // Validates `opts` (InvalidArgument naming the key), opens the channel (target/dial.h) and
  // waits up to connect_timeout_s for it (Unavailable naming the address otherwise).
  static Result<std::shared_ptr<GrpcConnection>> Open(const ConnectOptions& opts);

  const ConnectOptions& options() const { return opts_; }
  // "milvus target 10.0.0.5:19530" (or "milvus source ...").
  std::string Describe() const;
  // "milvus target H:P: <call> <object>": the prefix of every message of a call.
  std::string Where(const std::string& call, const std::string& object) const;
  // Makes in-flight retries give up early (used on shutdown).
  void Cancel() { cancelled_ = true; }
  // The oldest call (retries included) without an answer for at least `at_least`:
  // "<where> (no answer since HH:MM:SS UTC)", or "".
  std::string Waiting(std::chrono::seconds at_least) const;

  // One call of `method` with retries; `db` non-empty adds the `dbname` metadata. Responses
  // with a `status` field (or a bare common.Status) are mapped with FromMilvusStatus.
  // `user_if_no_token`: without a token, the call names this user (with no password) in its
  // `authorization` metadata, for calls that record the caller (OperatePrivilege's grantor) on
  // a target that checks no credentials.
  template <typename Req, typename Resp>
  Status Call(const std::string& where, const std::string& db,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req,
              Resp* resp, const std::string& user_if_no_token = "");

 private:
  GrpcConnection() = default;

  static const ::milvus::proto::common::Status& StatusOf(const ::milvus::proto::common::Status& s) {
    return s;
  }
  template <typename Resp>
  static const ::milvus::proto::common::Status& StatusOf(const Resp& r) {
    return r.status();
  }

  // Registers a call until its answer (for Waiting).
  class InFlight {
   public:
    InFlight(const GrpcConnection* conn, const std::string& where);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    const GrpcConnection* conn_;
    uint64_t id_;
  };
  struct CallStart {
    std::string where;
    int64_t since_ms;
  };

  ConnectOptions opts_;
  std::string host_port_;
  std::string authorization_;  // base64 token, never logged
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex calls_mu_;
  mutable uint64_t next_call_ = 0;
  mutable std::map<uint64_t, CallStart> calls_;  // by call number: the oldest first
};

template <typename Req, typename Resp>
Status GrpcConnection::Call(const std::string& where, const std::string& db,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& req, Resp* resp, const std::string& user_if_no_token) {
  const InFlight registered(this, where);
  const std::string authorization = !authorization_.empty() || user_if_no_token.empty()
                                        ? authorization_
                                        : absl::Base64Escape(user_if_no_token + ":");
  auto backoff = std::chrono::milliseconds(200);
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(opts_.rpc_timeout_s));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    if (!db.empty()) ctx.AddMetadata("dbname", db);
    resp->Clear();
    grpc::Status gs = (stub_.get()->*method)(&ctx, req, resp);
    Status s = gs.ok() ? FromMilvusStatus(where, StatusOf(*resp), opts_.names)
                       : FromGrpcStatus(where, gs, opts_.names);
    if (s.ok() || !IsRetryable(s) || attempt >= opts_.max_attempts || cancelled_.load()) return s;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

// Calls both the writing client and the reader make.
Result<::milvus::proto::milvus::DescribeCollectionResponse> DescribeCollectionOn(
    GrpcConnection& conn, const std::string& db, const std::string& collection);
Result<std::vector<PartitionInfo>> ShowPartitionsOn(GrpcConnection& conn, const std::string& db,
                                                    const std::string& collection);
Result<std::vector<std::string>> ListDatabasesOn(GrpcConnection& conn);
// The load state of a collection, or with `partitions` of those partitions together.
Result<::milvus::proto::common::LoadState> GetLoadStateOn(
    GrpcConnection& conn, const std::string& db, const std::string& collection,
    const std::vector<std::string>& partitions);

}  // namespace cdc::target

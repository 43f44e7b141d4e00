#pragma once
// etcd::Connection: the channels to every endpoint, the current endpoint (failover), the auth
// token and the mapping of gRPC errors to cdc::Status. Shared (std::shared_ptr) by Client,
// Watcher and LeaseKeeper so that background threads can outlive a call but not the channels.
//
// Threads: every method is thread-safe (one mutex guards the token and the current endpoint;
// gRPC channels are thread-safe themselves).
// Errors: messages start with "etcd HOST:PORT: ACTION: " and carry the gRPC code as the Status
// code (kUnavailable when unreachable, kDeadlineExceeded on timeout, kInvalidArgument on a bad
// password, kUnauthenticated/kPermissionDenied for auth problems).
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "etcd/types.h"
#include "grpcpp/grpcpp.h"

namespace cdc::etcd {

class Connection {
 public:
  // Validates the options and builds one lazy channel per endpoint (no network I/O here).
  static Result<std::shared_ptr<Connection>> Create(const ClientOptions& options);

  const ClientOptions& options() const { return options_; }
  size_t endpoint_count() const { return endpoints_.size(); }
  // "host:port" of endpoint i, as used in messages.
  const std::string& endpoint(size_t i) const { return endpoints_[i].address; }
  std::shared_ptr<grpc::Channel> channel(size_t i) const;
  // The endpoint the next call goes to.
  size_t current() const;
  // Endpoint i was unreachable: the next call goes to the next endpoint (if i is current).
  // When i has been failing for more than 2 s its channel is replaced by a fresh one: a gRPC
  // channel whose connection attempts started while the server was restarting can stay stuck
  // in handshakes that time out for a long time (seen with etcd 3.4 and gRPC 1.51).
  void Failover(size_t failed);
  // Endpoint i answered.
  void MarkHealthy(size_t i);

  // Runs a unary call: `fn(channel, context)` with the deadline (`timeout`, or call_timeout when
  // zero) and the auth token set. On kUnavailable it tries the next endpoint (each endpoint at
  // most once); on an invalid/expired token it authenticates again and retries once.
  using UnaryFn =
      std::function<grpc::Status(const std::shared_ptr<grpc::Channel>&, grpc::ClientContext&)>;
  Status Call(absl::string_view action, const UnaryFn& fn,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Prepares a context for a stream (no deadline) on endpoint i: adds the token, authenticating
  // first if needed.
  Status PrepareStreamContext(size_t i, grpc::ClientContext* ctx);
  // Forget `token` (it was rejected); the next call authenticates again.
  void InvalidateToken();

  // Turns a gRPC status from endpoint i into a cdc::Status "etcd HOST:PORT: ACTION: cause".
  Status MapError(const grpc::Status& s, size_t i, absl::string_view action) const;
  // True when the server rejected the token (expired or unknown), so a re-authenticate may cure it.
  static bool IsTokenError(const grpc::Status& s);
  static bool IsTokenError(absl::string_view message);

 private:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::optional<std::chrono::steady_clock::time_point> failing_since;
  };
  std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) const;
  explicit Connection(ClientOptions options) : options_(std::move(options)) {}
  // Returns the token to send to endpoint i ("" without auth), authenticating if needed.
  Result<std::string> Token(size_t i);

  ClientOptions options_;
  std::shared_ptr<grpc::ChannelCredentials> creds_;
  std::vector<Endpoint> endpoints_;  // the vector is fixed; entries are guarded by mu_
  mutable std::mutex mu_;
  size_t current_ = 0;
  std::string token_;
};

}  // namespace cdc::etcd

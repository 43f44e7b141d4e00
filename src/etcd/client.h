#pragma once
// etcd::Client: a small etcd v3 client over gRPC. KV (Range, Put, DeleteRange, Txn, Compact),
// leases (grant, keep-alive, revoke, time-to-live) and watches, with failover between
// endpoints, username/password auth (token refreshed when etcd rejects it) and TLS/mTLS.
//
// Ownership: Connect() returns a Client owned by the caller. Watchers and lease keepers it
// creates share its channels and may outlive it.
// Threads: all methods are thread-safe and blocking; each unary call has the deadline
// ClientOptions::call_timeout. Background threads exist only inside Watcher and LeaseKeeper.
// Errors: cdc::Status with gRPC codes; the message names the endpoint and the action, e.g.
// "etcd 127.0.0.1:2379: put 'a/b': connection refused". kUnavailable when no endpoint answers
// (then every endpoint's failure is listed), kDeadlineExceeded on timeout, kInvalidArgument on
// a wrong password, kOutOfRange for a compacted revision.
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "etcd/connection.h"
#include "etcd/lease_keeper.h"
#include "etcd/types.h"
#include "etcd/watcher.h"

namespace cdc::etcd {

class Client {
 public:
  // Builds the channels and checks within dial_timeout that some endpoint answers (and that the
  // credentials are accepted).
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);

  // "etcd 127.0.0.1:2379,127.0.0.1:22379" for messages.
  std::string Describe() const;

  Result<RangeResult> Range(const std::string& key, const RangeOptions& opts = {});
  // One key; std::nullopt when absent.
  Result<std::optional<KeyValue>> Get(const std::string& key);
  // Returns the store revision of the write.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Returns the number of keys deleted.
  Result<int64_t> Delete(const std::string& key, bool prefix = false);
  // Atomically: if every compare holds, run `then_ops`, else `else_ops`.
  Result<TxnResult> Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& then_ops,
                        const std::vector<TxnOp>& else_ops = {});
  Status Compact(int64_t revision);

  // Returns the lease id; etcd may choose a TTL >= the one asked for.
  Result<int64_t> LeaseGrant(int64_t ttl_seconds);
  Status LeaseRevoke(int64_t lease_id);
  // Remaining TTL in seconds; -1 when the lease expired or never existed.
  Result<int64_t> LeaseTimeToLive(int64_t lease_id);
  // One keep-alive; returns the renewed TTL (<= 0: the lease is gone).
  Result<int64_t> LeaseKeepAliveOnce(int64_t lease_id);
  // Keeps the lease alive in the background until the keeper is stopped or destroyed.
  std::unique_ptr<LeaseKeeper> KeepAlive(int64_t lease_id, int64_t ttl_seconds,
                                         LeaseKeeper::LostFn on_lost = nullptr);

  // Starts a watch and returns once etcd confirmed it (events after that are delivered), or
  // an error when no endpoint confirms it within dial_timeout. See watcher.h.
  Result<std::unique_ptr<Watcher>> Watch(const std::string& key, const WatchOptions& opts,
                                         Watcher::EventsFn on_events,
                                         Watcher::ErrorFn on_error = nullptr);

 private:
  explicit Client(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
  std::shared_ptr<Connection> conn_;
};

}  // namespace cdc::etcd

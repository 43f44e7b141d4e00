#pragma once
// etcd::LeaseKeeper: keeps one lease alive from a background thread (a keep-alive every TTL/3)
// until Stop() or until etcd says the lease is gone.
//
// Ownership: created by Client::KeepAlive, owned by the caller; shares the Client's
// Connection. Destroying it stops the keep-alives (it does not revoke the lease).
// Threads: `on_lost` runs on the keeper thread, once, when etcd reports the lease expired or
// unknown (kNotFound); it must not destroy the keeper. Transient failures are retried.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "etcd/connection.h"

namespace cdc::etcd {

class LeaseKeeper {
 public:
  using LostFn = std::function<void(const Status&)>;
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  void Stop();
  int64_t lease_id() const { return id_; }
  // OK while alive; kNotFound once the lease is gone.
  Status status() const;

 private:
  friend class Client;
  LeaseKeeper(std::shared_ptr<Connection> conn, int64_t id, int64_t ttl_seconds, LostFn on_lost);
  void Run();

  std::shared_ptr<Connection> conn_;
  const int64_t id_;
  const std::chrono::milliseconds interval_;
  LostFn on_lost_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Status status_;
  std::thread thread_;
};

// One keep-alive round trip for lease `id` over `conn`; returns the new TTL in seconds
// (<= 0: the lease no longer exists).
Result<int64_t> KeepAliveOnce(Connection& conn, int64_t id);

}  // namespace cdc::etcd

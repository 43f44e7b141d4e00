#pragma once
// ha::LeaseGuard: may this server still write for the tasks it holds? It may while its etcd
// lease cannot have expired on etcd's side: the last keep-alive etcd answered was *sent* less
// than `ttl - margin` ago. etcd starts a lease's TTL again when it receives the keep-alive,
// which is after we sent it, so the server stops writing at least `margin` before etcd can
// expire the lease and let another server take its tasks (docs/high-availability.md, "Why no
// two servers write one task").
//
// Time is read from a clock that keeps counting while the process is stopped (SIGSTOP) and
// while the machine sleeps (CLOCK_BOOTTIME), so a server that wakes up finds its writes closed.
// Threads: thread-safe (one mutex). Tests give a fake clock.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace cdc::ha {

using Nanos = std::chrono::nanoseconds;
using Clock = std::function<Nanos()>;

// CLOCK_BOOTTIME: monotonic, and counts a stopped process and a suspended machine.
Nanos BootClock();

class LeaseGuard {
 public:
  LeaseGuard(std::chrono::milliseconds ttl, std::chrono::milliseconds margin,
             Clock clock = BootClock);

  Nanos Now() const { return clock_(); }
  // etcd granted `lease` (asked for at `sent`); `token` names this server's hold of it.
  void Granted(int64_t lease, std::string token, Nanos sent);
  // etcd answered a keep-alive of `lease` sent at `sent` with a TTL > 0.
  void KeptAlive(int64_t lease, Nanos sent);
  // The lease is gone (etcd said so, or it was revoked).
  void Lost();

  // True while writes are allowed (see above).
  bool Valid() const;
  int64_t lease() const;
  std::string token() const;
  // Milliseconds since the last answered keep-alive was sent; -1 without a lease.
  int64_t AgeMs() const;
  std::chrono::milliseconds ttl() const { return ttl_; }
  // ttl - margin: how long after a keep-alive was sent writes stay allowed.
  std::chrono::milliseconds window() const { return ttl_ - margin_; }

 private:
  const std::chrono::milliseconds ttl_;
  const std::chrono::milliseconds margin_;
  const Clock clock_;
  mutable std::mutex mu_;
  int64_t lease_ = 0;
  std::string token_;
  Nanos last_ok_sent_{0};
};

}  // namespace cdc::ha

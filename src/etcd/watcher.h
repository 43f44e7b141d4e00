#pragma once
// etcd::Watcher: one watch on a key or prefix, served by a background thread that delivers
// events in revision order to a callback and re-establishes the watch after a disconnect,
// resuming from the revision after the last one it delivered (so no event is lost or repeated).
//
// Ownership: created by Client::Watch and owned by the caller; it shares the Client's
// Connection, so it may outlive the Client. Destroying it (or Stop()) cancels the watch and
// joins the thread.
// Threads: `on_events` and `on_error` run on the watcher thread, one at a time; they must not
// call Stop() or destroy the Watcher (that would join the calling thread). Other methods are
// thread-safe.
// Errors: a compacted start revision is terminal and reported once through `on_error` as
// kOutOfRange ("... revision R was compacted ..."; re-list and watch again from the list's
// revision); so is a permission error. Disconnects are not errors: the thread retries with
// backoff (100 ms .. 2 s) across endpoints until Stop().
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "etcd/connection.h"
#include "etcd/types.h"

namespace cdc::etcd {

class Watcher {
 public:
  using EventsFn = std::function<void(const std::vector<Event>& events, int64_t revision)>;
  using ErrorFn = std::function<void(const Status& status)>;

  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Cancels the watch and joins the thread. Idempotent.
  void Stop();
  // OK while the watch runs; the terminal error once it has ended on its own.
  Status status() const;
  // The revision of the last event delivered (or the watch start revision - 1).
  int64_t last_revision() const;
  // How many times the stream was re-established after a disconnect.
  int reconnects() const { return reconnects_.load(); }

 private:
  friend class Client;
  Watcher(std::shared_ptr<Connection> conn, std::string key, WatchOptions opts, EventsFn on_events,
          ErrorFn on_error);
  // Starts the thread and waits (up to dial_timeout) until etcd confirmed the watch.
  Status Start();
  void Run();
  // One stream's life; returns a terminal error, or OK to reconnect. Sets *confirmed when etcd
  // accepted the watch on this stream.
  Status RunStream(size_t endpoint, bool* confirmed);
  void SleepBackoff(std::chrono::milliseconds d);
  void Finish(const Status& terminal);
  std::string Describe(size_t endpoint) const;

  std::shared_ptr<Connection> conn_;
  const std::string key_;
  const WatchOptions opts_;
  EventsFn on_events_;
  ErrorFn on_error_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool created_ = false;  // etcd confirmed the first watch
  bool done_ = false;     // the thread ended on its own
  Status status_;
  Status last_error_;                   // last transient failure, for Start()'s message
  grpc::ClientContext* ctx_ = nullptr;  // the live stream's context, to cancel it
  int64_t next_revision_ = 0;           // where the next stream starts (0 = now)
  std::atomic<int> reconnects_{0};
  std::thread thread_;
};

}  // namespace cdc::etcd

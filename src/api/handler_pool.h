#pragma once
// api::HandlerPool: a fixed number of threads running submitted jobs in order from one bounded
// queue. The HTTP listener's I/O threads never run a request handler themselves; they submit it
// here, so a handler that waits (a create probing its target for seconds) holds a pool thread,
// never a connection or an I/O thread.
//
// Threads: Submit may be called from any thread. Shutdown (also from the destructor) refuses
// new jobs, runs every job already queued, and joins the threads; it must not be called from a
// pool thread.
// Errors: Submit returns false when the queue is full or the pool is shut down; the caller
// answers 503.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cdc::api {

class HandlerPool {
 public:
  // `threads` >= 1 workers; at most `queue_limit` jobs wait (running ones not counted). `name`
  // shows in logs.
  HandlerPool(std::string name, int threads, size_t queue_limit);
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  bool Submit(std::function<void()> job);
  void Shutdown();

  // Jobs waiting (not running); for metrics and tests.
  size_t queued() const;

 private:
  void Run();

  const std::string name_;
  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace cdc::api

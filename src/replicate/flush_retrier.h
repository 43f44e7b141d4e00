#pragma once
// replicate::FlushRetrier: sends replicated Flush requests to the target on a thread of its
// own, retrying those the target cannot take yet, so that they never hold back the task's later
// changes.
//
// Why: a target Milvus 2.3 answers Flush only once its datanode watches the collection's
// channels, and that watch waits for a time tick on each channel; on a replicating target
// (common.ttMsgEnabled false) those ticks come only from milvus-cdc. A pipeline that retried
// the Flush in place would send no ticks while it waits, so the watch and the Flush would wait
// for each other (until the target gives the watch up after 5 minutes). A Flush carries no
// data, so running it a little later than its place in the stream changes nothing on the
// target but which later rows its sealed segments also hold.
//
// Order: requests run one after another in arrival order. A request is done when the target
// accepts it, when the target says its collection is gone (a later drop), after a
// non-retryable error (logged), or after give_up_after (logged as an error and kept in
// Reason()). Requests still pending at Stop() are logged and not sent (their position may be
// in the checkpoint already: README, "Replication"); Stop() waits for an attempt in flight
// (at most the client's RPC timeout).
// Threads: Add/Reason from any thread; the worker starts at the first Add.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "milvus/milvus.pb.h"
#include "target/client.h"

namespace cdc::replicate {

struct FlushRetrierOptions {
  std::chrono::milliseconds init_backoff{500};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds give_up_after{std::chrono::minutes(15)};
};

class FlushRetrier {
 public:
  // `target` must outlive the retrier (or Stop() must be called first).
  FlushRetrier(std::string task_id, target::Client* target, FlushRetrierOptions options = {});
  ~FlushRetrier();
  FlushRetrier(const FlushRetrier&) = delete;
  FlushRetrier& operator=(const FlushRetrier&) = delete;

  // Queues a Flush (sent at once when nothing is queued before it).
  void Add(std::string db, ::milvus::proto::milvus::FlushRequest req, uint64_t replicate_ts);
  // What is pending and why ("" when nothing is, and no request was given up since the last
  // one that succeeded).
  std::string Reason() const;
  // Ends the worker; pending requests are logged and dropped.
  void Stop();

 private:
  struct Request {
    std::string db;
    ::milvus::proto::milvus::FlushRequest req;
    uint64_t ts = 0;
    std::chrono::steady_clock::time_point since;
    int attempts = 0;
    std::string last_error;
  };
  void Work();
  static std::string Describe(const Request& r);

  const std::string task_id_;
  target::Client* const target_;
  const FlushRetrierOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // front: the one being tried
  bool stop_ = false;
  std::string gave_up_;
  std::thread worker_;
};

}  // namespace cdc::replicate

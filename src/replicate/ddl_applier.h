#pragma once
// replicate::DdlApplier: applies the replicate-channel requests that change no data (index
// create/drop, load/release of collections and partitions, flush) on the target, beside the
// pipeline, on a thread of its own: in source order per collection, each retried with backoff
// until the target takes it, so that one collection's refused request never holds back other
// collections or any data.
//
// Why beside: none of these requests changes which rows the target holds, so applying one a
// little after the data that followed it in the source changes nothing a query sees once it
// is applied; and some can only be taken after later ticks (a Milvus 2.3 target answers Flush
// only once its datanode watches the collection's channels, which waits for the ticks that
// follow; docs/replication.md, "Flush"), so waiting for them in place could wait for itself.
//
// Besides the source's requests it applies milvus-cdc's load-state reconciles (kReconcileLoad,
// replicate/partition_loads.h) in the same order.
// Order and state: per source collection a FIFO; a request waits while its collection is not
// ready on the target (SetReady: created, and not set aside). A request is done when the
// target takes it ("already exists" on a create, "not found" on a drop/release/flush count as
// done: target::Client), when its collection is dropped on the source (Discard: moot, logged
// and counted), for a CreateIndex refused because its field has another index while a
// DropIndex of it waits behind it (moot: a replay after a restart finds the target ahead of
// it; logged and counted), or, for a Flush only, after give_up_after (it carries no data:
// logged as an error, counted, the target seals the segments itself). Every other failure is
// retried with backoff for as long as it takes (the cause may be fixed on the target), and
// Reasons() says which request waits and why.
// Nothing is lost across restarts: PendingJson() goes into every checkpoint with the replicate
// channel's position, and Restore() queues it again.
// Threads: every method from any thread. Workers start as requests come, up to
// DdlApplierOptions::workers: a collection's queue is applied by one worker at a time (its
// order holds), and a call the target holds for long (a Milvus 2.3 Flush can wait for ticks
// for minutes) occupies only its own collection, while other workers take the others. A worker
// with nothing queued for `idle_exit` ends, so that idle tasks hold no worker threads.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "target/client.h"

namespace cdc::replicate {

struct DdlRequest {
  int64_t collection_id = 0;  // the source collection it is about
  std::string db;             // on the target
  std::string collection;     // on the target
  int type = 0;               // common.MsgType of the request
  std::string payload;        // the source's serialized milvus request
  uint64_t ts = 0;            // source ts (replicateInfo.msgTimestamp)
};

struct DdlApplierOptions {
  std::chrono::milliseconds init_backoff{500};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds flush_give_up_after{std::chrono::minutes(15)};
  int workers = 4;  // collections applied at once (each in its own order)
  std::chrono::milliseconds idle_exit{std::chrono::seconds(10)};
  // Called (from a worker, no lock held) with a skip kind ("index_create_superseded") and what
  // was not applied and why, for each request not applied because it was moot; may be empty.
  std::function<void(const std::string& kind, const std::string& what)> on_skip;
};

struct DdlStats {
  uint64_t applied = 0;
  uint64_t discarded = 0;  // their collection was dropped on the source first
  uint64_t given_up = 0;   // Flush requests the target did not take in time
  size_t workers = 0;      // worker threads now (they end after idle_exit with nothing queued)
  // CreateIndex requests refused because their field has another index while the source's
  // DropIndex of them waits behind them (a replay after a restart): moot.
  uint64_t superseded = 0;
  // Load-state reconciles (replicate/partition_loads.h) that changed the target's load state.
  uint64_t reconciled = 0;
};

class DdlApplier {
 public:
  // `target` must outlive the applier (or Stop() must be called first).
  DdlApplier(std::string task_id, target::Client* target, DdlApplierOptions options = {});
  ~DdlApplier();
  DdlApplier(const DdlApplier&) = delete;
  DdlApplier& operator=(const DdlApplier&) = delete;

  void Add(DdlRequest request);
  void SetReady(int64_t collection_id, bool ready);
  // The collection is gone on the source: its queued requests are moot.
  void Discard(int64_t collection_id, const std::string& why);
  // The queued requests as a JSON array (for the checkpoint); Restore queues such an array.
  std::string PendingJson() const;
  Status Restore(const std::string& json);
  // What waits and why, per collection (collections with nothing waiting are left out); the
  // last request given up stays listed under its collection until another one is taken.
  std::map<int64_t, std::string> Reasons() const;
  DdlStats stats() const;
  // Ends the workers (attempts in flight are waited for, at most the client's RPC timeout).
  // The queue stays as it is (it is in the checkpoint).
  void Stop();

  static std::string Describe(const DdlRequest& r);
  // The JSON array PendingJson() writes, of `requests`.
  static std::string EncodePending(const std::vector<DdlRequest>& requests);

 private:
  struct Item {
    DdlRequest req;
    std::chrono::steady_clock::time_point since, next_try, started;
    std::chrono::milliseconds backoff{0};
    int attempts = 0;
    std::string last_error;
  };
  struct Queue {
    std::deque<Item> items;
    bool ready = false;
    bool busy = false;  // a worker applies its head now
    std::string gave_up;
  };
  void Work();
  // Starts one more worker when none is idle and the limit allows (mu_ held).
  void MaybeSpawn();
  // The collection whose head is due first (0 if none is ready and not busy), and when.
  int64_t NextDue(std::chrono::steady_clock::time_point* when) const;
  // Returns the skip kind of a request found moot, else "" (`what` says what and why).
  std::string Finish(int64_t collection_id, const Status& s, std::string* what);
  // The failed head of `q` is a CreateIndex made moot by a later DropIndex in `q` (mu_ held).
  static bool Superseded(const Queue& q, const Status& s);
  Status Apply(const DdlRequest& r);
  // `r` was `refused` while the target's collection is loaded, which the source's was not
  // (`why`): releases that collection, so that `r` can run again.
  Status ReleaseFirst(const std::string& db, const DdlRequest& r, const Status& refused,
                      const std::string& why);

  const std::string task_id_;
  target::Client* const target_;
  const DdlApplierOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Queue> queues_;
  DdlStats stats_;
  bool stop_ = false;
  // The calling worker leaves workers_ for retired_ (mu_ held); it ends right after.
  void RetireSelf();
  void JoinRetired();  // mu_ held

  int idle_ = 0;  // workers waiting for a due request
  std::vector<std::thread> workers_;
  std::vector<std::thread> retired_;  // ended (or ending) workers not joined yet
};

}  // namespace cdc::replicate

#pragma once
// task::Replicator: the seam between the control plane (task::TaskManager) and the data plane
// (the per-task replication pipeline, built in src/replicate/ by another component).
//
// Contract
// - Start(task) begins replicating `task` and returns promptly: it must not wait for the
//   source's etcd, the queue or the target (those may be down; the pipeline retries with
//   backoff on its own threads). A non-ok Status means the task could not even be set up
//   (e.g. bad parameters); see the last point for what the manager does then.
// - Stop(task_id) stops the task's threads and flushes its last checkpoint before returning;
//   it is called on pause, delete and server shutdown. Stopping an unknown task is ok.
// - Threads: Start/Stop are called from the manager with the manager's per-task order
//   guaranteed (never concurrently for the same task id), from HTTP worker threads or the
//   main thread. The replicator owns its threads and everything it allocates for a task.
// - Reporting back: the replicator calls the TaskEvents it was given (Attach) from its own
//   threads. ReportReason keeps the task Running and updates `reason` (e.g. "source etcd
//   127.0.0.1:2379 unreachable, retrying"); ReportFailure moves the task to Paused with the
//   reason (use only for errors a retry cannot cure); before reporting a failure the
//   replicator winds the task's work down itself, the manager does not call Stop for it, and
//   a later resume calls Start again. Neither may be called from inside Start/Stop (the
//   manager holds its lock there).
// - Start on create: if it fails the task is removed again and create answers with the error.
//   Start on resume: the error is returned and the task stays Paused. Start on restart: the
//   task goes Paused with reason "fail to start task, err: <message>".
// - Checkpoints are written by the replicator directly to meta::Store (PutPositions); the
//   manager deletes them with the task.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "task/task_info.h"

namespace cdc::task {

// A collection of a task that is not replicating normally (set aside, or requests waiting).
struct CollectionHealth {
  std::string name;   // db.collection on the source
  std::string state;  // "set_aside" | "requests_waiting"
  std::string reason;
  int64_t since_ms = 0;
  std::string target;  // db.collection on the target when name_mapping renames it, else ""
};

// How far initial sync of one collection is (`get`, /metrics).
struct CollectionSync {
  std::string name;   // db.collection on the source
  std::string phase;  // "replaying" | "copying" | "done"
  int64_t rows_copied = 0;
  int64_t rows_estimated = 0;
  int64_t eta_s = -1;  // -1 unknown
  std::string target;  // db.collection on the target when name_mapping renames it, else ""
};

// Insert/Delete data of a task's pipeline the target acknowledged (/metrics; since the
// pipeline started, so it restarts at 0 after a pause or a server restart).
struct AppliedData {
  uint64_t messages = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  // Coalescing (docs/replication.md): source messages the pipeline merged into larger ones,
  // and those it sent as they were because their run could not be merged.
  uint64_t coalesced = 0;
  uint64_t coalesce_fallbacks = 0;
};

// What a task could not apply and which of its collections are in trouble (`get`, /metrics).
struct TaskHealth {
  std::vector<CollectionHealth> collections;
  std::vector<CollectionSync> initial_sync;
  std::map<std::string, uint64_t> skipped;  // kind -> count of messages/requests not applied
  AppliedData applied;
  // Status code name (e.g. "UNAVAILABLE") -> rounds the pipeline retried after such an error
  // (since the pipeline started).
  std::map<std::string, uint64_t> retries;
  // Hybrid ts (source clock) up to which the task's data reached the target: every Insert and
  // Delete, create and drop at or below it was applied and the target's channels were ticked
  // past it (collections set aside excepted; index, load and flush requests are applied beside
  // and may follow later). 0 while not running or before the first round. Verify waits for it
  // to pass the time of a source read before it trusts a difference.
  uint64_t applied_ts = 0;
};

// Where a task stands on one source channel (`get`, `list`, `position`, /metrics).
struct ChannelLag {
  std::string channel;         // source pchannel
  std::string checkpoint;      // the stored checkpoint, e.g. "by-dev-rootcoord-dml_0@offset 42"
  uint64_t checkpoint_ts = 0;  // its hybrid ts (0: none yet)
  // How far the target is behind the source on this channel: in milliseconds (now - time of
  // the last message applied; 0 when nothing is pending) and in messages (source latest minus
  // the last message applied). -1 = unknown (e.g. the broker does not answer).
  int64_t lag_ms = -1;
  int64_t lag_messages = -1;
};

// Implemented by TaskManager; thread-safe.
class TaskEvents {
 public:
  virtual ~TaskEvents() = default;
  virtual void ReportReason(const std::string& task_id, const std::string& reason) = 0;
  virtual void ReportFailure(const std::string& task_id, const std::string& reason) = 0;
};

class Replicator {
 public:
  virtual ~Replicator() = default;
  // Called once before any Start. `events` outlives the replicator.
  virtual void Attach(TaskEvents* events) { (void)events; }
  // Called by create before it answers (and before Start): fixes where the new task starts
  // reading, so that everything the source writes after create answered is replicated, also
  // if the task first runs much later or after a restart. An error fails the create (nothing
  // of the task is kept). Bounded in time.
  virtual Status FixStart(const TaskInfo& task) {
    (void)task;
    return OkStatus();
  }
  virtual Status Start(const TaskInfo& task) = 0;
  virtual Status Stop(const std::string& task_id) = 0;
  // Per source channel checkpoint and lag of a task, running or not (from its stored
  // checkpoint then). Thread-safe; bounded in time (no unbounded waits on a peer).
  virtual std::vector<ChannelLag> Lag(const std::string& task_id) {
    (void)task_id;
    return {};
  }
  // The task's health while it runs (empty otherwise). Thread-safe, cheap.
  virtual TaskHealth Health(const std::string& task_id) {
    (void)task_id;
    return {};
  }
};

}  // namespace cdc::task

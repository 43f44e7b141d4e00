#pragma once
// task::TaskManager: the task lifecycle. Owns the in-memory view of every task, persists each
// change to meta::Store before it becomes visible, and drives the Replicator.
//
// States and transitions (CheckTransition is the single rule book):
//   Initial -> Running   start after create, or on restart for a task that never started
//   Initial -> Paused    create with disable_auto_start, or the first start failed on restart
//   Paused  -> Running   resume
//   Running -> Paused    pause (reason "manually pause through http interface") or a
//                        replicator failure (its reason)
// Restart (Recover): Running and Initial tasks are started again; Paused tasks stay Paused with
// their reason (upstream resumes them; we do not).
//
// Threads: every public method is thread-safe (one mutex serialises lifecycle changes; the
// target probe of create runs outside it). Replicator::Start/Stop are called under that mutex,
// so they must return promptly (see replicator.h). TaskEvents callbacks may come from any
// replicator thread.
// Ownership: the store, replicator and probe are borrowed and must outlive the manager.
// Errors (mapped to the API envelope by api::StatusToEnvelope):
//   InvalidArgument / NotFound / FailedPrecondition -> client errors (400)
//   ResourceExhausted (task limit), Unavailable (target down), store errors -> 500
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "meta/store.h"
#include "task/replicator.h"
#include "task/target_probe.h"
#include "task/task_info.h"
#include "task/validate.h"

namespace cdc::task {

struct ManagerOptions {
  int max_task_num = 100;                           // maxTaskNum
  CreateLimits limits;                              // maxNameLength, replicateChan
  std::chrono::seconds default_connect_timeout{5};  // when connect_timeout is 0
  // Store a Running task's reason with the task (single server). With several servers
  // sharing the store (src/ha) reasons stay in the owner's memory: a stored reason could
  // overwrite another server's pause or resume of the same task.
  bool persist_reasons = true;
};

// Ok if `from` -> `to` is a legal transition, else FailedPrecondition in upstream's wording.
Status CheckTransition(TaskState from, TaskState to);

class TaskManager : public TaskEvents {
 public:
  TaskManager(meta::Store* store, Replicator* replicator, TargetProbe* probe,
              ManagerOptions options);
  ~TaskManager() override = default;

  // Loads every stored task and starts the Running/Initial ones. Fails only if the store
  // cannot be read; undecodable task documents are skipped with an error log.
  Status Recover();
  // Validates, checks duplicates and the task limit, probes the target, stores and starts the
  // task. Returns its id. An existing task_id is returned as is (idempotent). The probe's
  // kUnauthenticated/kPermissionDenied (the target refused the request's token) pass through;
  // the same from the server's own source while the start is fixed become kInternal (the
  // server's configuration, not the request, is wrong).
  Result<std::string> Create(const CreateRequest& req);
  Status Delete(const std::string& task_id, bool ignore_not_found);
  Status Pause(const std::string& task_id);
  Status Resume(const std::string& task_id);
  Result<TaskInfo> Get(const std::string& task_id);
  std::vector<TaskInfo> List();
  Result<std::vector<meta::PositionRecord>> Positions(const std::string& task_id);
  // Per source channel checkpoint and lag of a task (empty for an unknown task). Does not take
  // the manager's lock while asking the replicator.
  std::vector<ChannelLag> Lag(const std::string& task_id);
  TaskHealth Health(const std::string& task_id);
  // Number of tasks in each state name (Initial, Running, Paused).
  std::map<std::string, int> CountByState();
  // Stops every replicator (server shutdown). States stay as stored.
  void StopAll();

  // Several servers sharing the store (src/ha): the cache follows the store. Take a
  // generation, then list the store, then SyncFromStore(records, owners, generation): tasks
  // added, changed or deleted by other servers are taken over, except those this manager
  // wrote after the generation was taken (its own write is newer than the listing). `owners`
  // maps task id -> owner server id (shown by get/list). Returns nothing: a document that does
  // not decode is left out.
  uint64_t SyncGeneration();
  void SyncFromStore(const std::vector<meta::TaskRecord>& records,
                     const std::map<std::string, std::string>& owners, uint64_t generation);

  // TaskEvents
  void ReportReason(const std::string& task_id, const std::string& reason) override;
  void ReportFailure(const std::string& task_id, const std::string& reason) override;

 private:
  // Persists `t` with a new state/reason, then updates the cache. Caller holds mu_.
  Status SetStateLocked(TaskInfo& t, TaskState to, const std::string& reason);
  Status StartLocked(TaskInfo& t);
  Status CheckCreateLocked(TaskInfo& candidate);
  Status Put(const TaskInfo& t);

  meta::Store* store_;
  Replicator* replicator_;
  TargetProbe* probe_;
  ManagerOptions options_;
  std::mutex mu_;
  std::map<std::string, TaskInfo> tasks_;        // guarded by mu_
  std::set<std::string> creating_;               // ids whose create is fixing its start; mu_
  uint64_t gen_ = 0;                             // mu_; see SyncGeneration
  std::map<std::string, uint64_t> written_gen_;  // task id -> gen_ of its last write; mu_
};

}  // namespace cdc::task

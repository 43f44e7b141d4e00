#pragma once
// ha::Coordinator: several milvus-cdc servers share the tasks of one etcd meta store; each task
// runs on exactly one live server (docs/high-availability.md).
//
// Each server holds an etcd lease (ha.leaseTTLSeconds) kept alive from its own thread, and a
// server key {root}/ha/server/{id} on it. A task runs where its owner key {root}/ha/owner/{task}
// holds that server's token (both keys live with the lease: a dead server's keys vanish when
// etcd expires its lease). A loop (every ha.pollIntervalMs, and at once on a create, pause,
// resume or delete made here) reads the tasks, servers and owners, brings the task manager's
// cache up to date (so any server answers get/list, with each task's owner) and acts on
// ha::Plan: takes free tasks (least-loaded server first), starts and stops pipelines, releases
// tasks that were paused or deleted.
//
// Fencing, two ways:
// - target writes: every write call of a task's target client asks MayWrite (ha::GatedClient);
//   it is allowed only while this server holds the task and its lease cannot have expired on
//   etcd's side (ha::LeaseGuard);
// - checkpoints: as meta::Fence, every checkpoint write of the etcd store carries the compare
//   "owner key == my token", so etcd refuses it once another server took the task.
//
// Requests on any server go through the shared store: create, pause, resume and delete write
// the task's document as on a single server; the owner's loop sees the change and acts. As the
// task manager's Replicator, the coordinator starts nothing itself (Start only wakes the loop);
// Stop stops a pipeline running here and keeps it stopped until the stored state says Running.
// Reasons and failures from the pipelines reach the manager only for tasks held here.
//
// Ownership: owns its etcd client and threads; the inner replicator, store and manager are
// borrowed (set before Open) and outlive it. Close() before destroying them.
// Threads: a keeper thread (lease), a loop thread (ownership); every public method is
// thread-safe. Errors: Open fails with the etcd error when no lease can be granted.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "etcd/client.h"
#include "ha/lease_guard.h"
#include "ha/plan.h"
#include "meta/fence.h"
#include "meta/store.h"
#include "target/client.h"
#include "task/replicator.h"
#include "task/task_manager.h"

namespace cdc::ha {

struct CoordinatorOptions {
  std::string server_id;  // ha.serverId
  std::string root_path;  // metaStoreConfig.rootPath
  std::chrono::milliseconds lease_ttl{10000};
  std::chrono::milliseconds poll{1000};
  std::chrono::milliseconds drain_timeout{10000};
  PlanOptions plan;
};

class Coordinator final : public task::Replicator, public task::TaskEvents, public meta::Fence {
 public:
  // Connects its own etcd client (calls time out after a quarter of the TTL, at least 500 ms).
  static Result<std::unique_ptr<Coordinator>> Create(const etcd::ClientOptions& etcd,
                                                     CoordinatorOptions options,
                                                     Clock clock = BootClock);
  ~Coordinator() override;

  // Wiring, before the task manager is built: the pipelines.
  void set_inner(task::Replicator* inner) { inner_ = inner; }
  // Before Open: the store the tasks are listed from, and the manager whose cache follows it.
  void set_store(meta::Store* store) { store_ = store; }
  void set_manager(task::TaskManager* manager) { manager_ = manager; }

  // Grants the lease, registers the server and starts the threads. If the server key of this id
  // exists, waits (up to TTL + 2 s) for it to go, then refuses (a live server uses the id);
  // when it was left by a process of this machine that no longer exists (kill -9 and restart),
  // revokes that lease at once instead, so the tasks move without waiting for the TTL.
  Status Open();
  // SIGTERM: gives every task held here to the other servers (stops it, writes its last
  // checkpoint, releases it) and waits until they own them, at most drain_timeout.
  void Drain();
  // Stops the threads and any pipeline still running here, and revokes the lease (its keys go
  // at once). Idempotent.
  void Close();

  // OK while this server may write to the target for `task_id` (see above); else kAborted.
  Status MayWrite(const std::string& task_id);
  // `client` behind MayWrite(task_id) (ha::GatedClient).
  std::unique_ptr<target::Client> Gate(const std::string& task_id,
                                       std::unique_ptr<target::Client> client);
  // milvus_cdc_ha_* metrics (Prometheus text).
  std::string RenderMetrics() const;
  const std::string& server_id() const { return options_.server_id; }
  // Test hook: while set, the keeper sends no keep-alives (as if cut off from etcd), so etcd
  // expires the lease by itself. Never in production.
  void set_keepalives_paused_for_tests(bool paused) { keepalives_paused_ = paused; }
  // The current etcd lease (0: none).
  int64_t lease() const { return guard_.lease(); }

  // task::Replicator (called by the task manager)
  void Attach(task::TaskEvents* events) override;
  Status FixStart(const task::TaskInfo& task) override;
  Status Start(const task::TaskInfo& task) override;
  Status Stop(const std::string& task_id) override;
  std::vector<task::ChannelLag> Lag(const std::string& task_id) override;
  task::TaskHealth Health(const std::string& task_id) override;

  // task::TaskEvents (called by the pipelines)
  void ReportReason(const std::string& task_id, const std::string& reason) override;
  void ReportFailure(const std::string& task_id, const std::string& reason) override;

  // meta::Fence (called by the etcd store)
  Result<std::vector<etcd::Compare>> PositionGuard(const std::string& task_id) override;
  std::vector<etcd::Compare> TaskGuard(const std::string& task_id) override;
  std::vector<std::string> TaskKeys(const std::string& task_id) override;

 private:
  Coordinator(std::unique_ptr<etcd::Client> client, CoordinatorOptions options, Clock clock);
  void KeeperLoop();
  // One grant (and server registration) or one keep-alive; returns how long to wait.
  std::chrono::milliseconds KeepOnce();
  Status Register(bool draining);
  // `value` of this server id's key, left by an earlier process: revokes its lease when that
  // process ran on this machine (same boot) and no longer exists (see Open).
  Status RevokeIfDead(const std::string& value);
  void Loop();
  // One round: read etcd, sync the manager, plan, act.
  Status Tick();
  Result<ClusterView> ReadCluster(std::map<std::string, std::string>* owner_ids);
  void Act(const Actions& actions, const ClusterView& view);
  bool Acquire(const std::string& task_id, const std::string& token);
  void Release(const std::string& task_id, const std::string& token);
  bool HeldLocked(const std::string& task_id) const;
  void Wake();

  std::unique_ptr<etcd::Client> client_;
  const CoordinatorOptions options_;
  LeaseGuard guard_;
  task::Replicator* inner_ = nullptr;
  task::TaskEvents* events_ = nullptr;
  meta::Store* store_ = nullptr;
  task::TaskManager* manager_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool draining_ = false;
  bool wake_ = false;
  std::map<std::string, std::string> held_;  // task -> token it is held under
  std::set<std::string> running_;            // tasks with a pipeline here
  std::map<std::string, Nanos> suppressed_;  // stopped by a request here (when); see Stop
  std::set<std::string> creating_;           // create is fixing its start here; see FixStart
  std::map<std::string, Nanos> unowned_since_;
  size_t live_servers_ = 0;
  bool registered_ = false;

  // Serialises the inner replicator's Start/Stop of the loop and of requests (never held while
  // calling the task manager, which calls Stop under its own lock).
  std::mutex pipe_mu_;

  std::atomic<bool> keepalives_paused_{false};
  std::atomic<uint64_t> acquired_{0}, released_{0}, lost_{0}, lease_lost_{0}, refused_{0};
  std::thread keeper_, loop_;
};

}  // namespace cdc::ha

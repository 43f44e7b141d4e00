#pragma once
// server::App: builds the process in dependency order and tears it down in reverse:
//   config -> logging -> [ha coordinator, with storeType etcd] -> meta store -> source queue
//   (Broker) -> replicator + target probe -> task manager (recover) -> [ha: lease, threads] ->
//   verifier (reads the source's proxy, sourceConfig.milvus, only
//   when a verify runs) -> HTTP API.
// Start fails with the first component's Status (nothing is left running); Stop is idempotent
// and called from the main thread after SIGTERM/SIGINT; with ha it first hands this server's
// tasks to the others (drain). Not thread-safe.
// The source's etcd and queue are not contacted here: the server serves the API even if they
// are down (tasks report that in their reason).
#include <memory>

#include "api/server.h"
#include "common/status.h"
#include "config/config.h"
#include "ha/coordinator.h"
#include "meta/store.h"
#include "source/broker.h"
#include "task/replicator.h"
#include "task/target_probe.h"
#include "task/task_manager.h"
#include "verify/verifier.h"

namespace cdc::server {

class App {
 public:
  explicit App(config::Config config) : config_(std::move(config)) {}
  // Test hook, see replicate::ReplicatorOptions::crash_after_ack_for_tests. Before Start().
  void set_crash_after_ack_for_tests(bool v) { crash_after_ack_for_tests_ = v; }
  ~App() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return api_ ? api_->port() : -1; }

 private:
  config::Config config_;
  // Several servers sharing the tasks (storeType etcd); null otherwise. Outlives store_ (its
  // fence) and is closed before the replicator.
  std::unique_ptr<ha::Coordinator> ha_;
  std::unique_ptr<meta::Store> store_;
  std::unique_ptr<source::Broker> broker_;  // used by replicator_
  std::unique_ptr<task::Replicator> replicator_;
  bool crash_after_ack_for_tests_ = false;
  std::unique_ptr<task::TargetProbe> probe_;
  std::unique_ptr<task::TaskManager> tasks_;
  std::unique_ptr<verify::TaskView> task_view_;
  std::unique_ptr<verify::Verifier> verifier_;
  std::unique_ptr<api::Server> api_;
};

}  // namespace cdc::server

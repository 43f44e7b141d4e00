#pragma once
// ha::Plan: what one server does next with the shared tasks, decided from a snapshot of etcd
// (live servers, task owners, tasks that should run) and its own state. A pure function, so
// the ownership rules are tested without etcd (tests/unit/ha/plan_test.cc).
//
// Rules
// - Without a valid lease (ha/lease_guard.h) a server stops every pipeline and takes nothing.
// - A pipeline runs only where the task's owner key holds this server's token; one that runs
//   anywhere else is stopped (the task was lost or given away).
// - A task this server owns that should not run (paused, deleted) or that it gives away
//   (draining) is stopped and then released (its owner key deleted).
// - A task that should run and has no owner goes to the least-loaded live server that is not
//   draining (ties: the smallest server id); every server computes the same choice, and the
//   owner key is taken with a Txn "only if absent", so two servers never both get it. If the
//   chosen server has not taken it after `grace` (it may be slow or just dying), any server
//   may.
// - No task is moved away from a live owner (no rebalancing): new servers get tasks as tasks
//   are created, resumed or freed.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ha/lease_guard.h"

namespace cdc::ha {

struct ServerInfo {
  std::string id;     // ha.serverId
  std::string token;  // "{id}#{lease hex}": one per lease, the value of the keys it owns
  bool draining = false;
};

// What etcd holds, read by one server in one round.
struct ClusterView {
  std::map<std::string, ServerInfo> servers;  // token -> server (its key lives with its lease)
  std::map<std::string, std::string> owners;  // task id -> token of its owner
  std::set<std::string> wanted;               // tasks whose stored state is Running/Initial
};

// This server's side.
struct LocalView {
  std::string id;
  std::string token;  // "" without a lease
  bool lease_valid = false;
  bool draining = false;
  std::set<std::string> running;     // tasks with a pipeline here
  std::set<std::string> suppressed;  // stopped here by a request; not restarted (see Coordinator)
  std::map<std::string, Nanos> unowned_since;  // when this server first saw a task unowned
  Nanos now{0};
};

struct Actions {
  std::vector<std::string> stop;     // stop the pipeline here (before any release)
  std::vector<std::string> release;  // delete the owner key (if it still holds our token)
  std::vector<std::string> acquire;  // take the owner key (only if absent)
  std::vector<std::string> start;    // start the pipeline here
  bool operator==(const Actions&) const = default;
};

struct PlanOptions {
  Nanos grace = std::chrono::seconds(3);
};

Actions Plan(const ClusterView& cluster, const LocalView& local, const PlanOptions& options = {});

// The etcd keys of ownership, under metaStoreConfig.rootPath (meta/layout.h's JoinPath):
//   {root}/ha/server/{serverId}  -> {"id":..,"token":..,"draining":..}, with the server's lease
//   {root}/ha/owner/{taskId}     -> the owner's token, with the owner's lease
std::string ServerPrefix(const std::string& root);
std::string ServerKey(const std::string& root, const std::string& server_id);
std::string OwnerPrefix(const std::string& root);
std::string OwnerKey(const std::string& root, const std::string& task_id);
// "{id}#{lease in hex}".
std::string MakeToken(const std::string& server_id, int64_t lease);
// The server id part of a token.
std::string TokenServer(const std::string& token);

}  // namespace cdc::ha

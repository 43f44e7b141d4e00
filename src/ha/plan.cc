#include "ha/plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "meta/layout.h"

namespace cdc::ha {
namespace {

// Tasks owned per live, not draining server (by token), counting `owners`.
std::map<std::string, int> Loads(const ClusterView& cluster) {
  std::map<std::string, int> load;
  for (const auto& [token, s] : cluster.servers)
    if (!s.draining) load[token] = 0;
  for (const auto& [task, token] : cluster.owners) {
    auto it = load.find(token);
    if (it != load.end()) ++it->second;
  }
  return load;
}

// The token of the least-loaded server (ties: smallest id), or "" when there is none.
std::string LeastLoaded(const ClusterView& cluster, const std::map<std::string, int>& load) {
  std::string best;
  for (const auto& [token, n] : load) {
    if (best.empty()) {
      best = token;
      continue;
    }
    const int bn = load.at(best);
    if (n < bn || (n == bn && cluster.servers.at(token).id < cluster.servers.at(best).id)) {
      best = token;
    }
  }
  return best;
}

}  // namespace

Actions Plan(const ClusterView& cluster, const LocalView& local, const PlanOptions& options) {
  Actions a;
  auto owner_of = [&](const std::string& task) -> std::string {
    auto it = cluster.owners.find(task);
    return it == cluster.owners.end() ? "" : it->second;
  };
  const bool can_hold = local.lease_valid && !local.token.empty();
  for (const auto& task : local.running) {
    const bool mine = can_hold && owner_of(task) == local.token;
    if (!mine || !cluster.wanted.count(task) || local.draining) a.stop.push_back(task);
  }
  if (!can_hold) return a;
  for (const auto& [task, token] : cluster.owners) {
    if (token != local.token) continue;
    if (!cluster.wanted.count(task) || local.draining) {
      a.release.push_back(task);
    } else if (!local.running.count(task) && !local.suppressed.count(task)) {
      a.start.push_back(task);
    }
  }
  if (local.draining) return a;
  std::map<std::string, int> load = Loads(cluster);
  if (!load.count(local.token)) return a;  // our server key is not (yet) visible
  for (const auto& task : cluster.wanted) {
    if (cluster.owners.count(task)) continue;
    const std::string chosen = LeastLoaded(cluster, load);
    ++load[chosen];
    auto since = local.unowned_since.find(task);
    const bool overdue =
        since != local.unowned_since.end() && local.now - since->second >= options.grace;
    if (chosen == local.token || overdue) {
      a.acquire.push_back(task);
      a.start.push_back(task);
    }
  }
  return a;
}

std::string ServerPrefix(const std::string& root) {
  return meta::JoinPath(root, "ha/server") + "/";
}
std::string ServerKey(const std::string& root, const std::string& server_id) {
  return ServerPrefix(root) + server_id;
}
std::string OwnerPrefix(const std::string& root) { return meta::JoinPath(root, "ha/owner") + "/"; }
std::string OwnerKey(const std::string& root, const std::string& task_id) {
  return OwnerPrefix(root) + task_id;
}

std::string MakeToken(const std::string& server_id, int64_t lease) {
  return absl::StrCat(server_id, "#", absl::Hex(lease));
}

std::string TokenServer(const std::string& token) { return token.substr(0, token.rfind('#')); }

}  // namespace cdc::ha

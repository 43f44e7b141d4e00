#pragma once
// meta::Fence: the guards the etcd meta store adds to its writes when several milvus-cdc servers
// share it (high availability, src/ha). Every write of a task's checkpoints and of its document
// becomes one etcd Txn whose compares the fence names (e.g. "the task's owner key holds this
// server's lease token"), so a server that lost a task cannot write for it any more.
//
// Implemented by ha::Coordinator. Threads: called from any writing thread; must be thread-safe
// and must not call back into the store.
#include <string>
#include <vector>

#include "common/status.h"
#include "etcd/types.h"

namespace cdc::meta {

class Fence {
 public:
  virtual ~Fence() = default;
  // The compares a write of `task_id`'s checkpoint rows must pass. An error refuses the write
  // at once (kAborted, naming why), e.g. when this server does not hold the task.
  virtual Result<std::vector<etcd::Compare>> PositionGuard(const std::string& task_id) = 0;
  // The compares a write of `task_id`'s document must pass (e.g. "it still exists", so that a
  // late write never brings a deleted task back).
  virtual std::vector<etcd::Compare> TaskGuard(const std::string& task_id) = 0;
  // Keys deleted together with the task (in the same Txn), e.g. its owner key.
  virtual std::vector<std::string> TaskKeys(const std::string& task_id) = 0;
};

}  // namespace cdc::meta

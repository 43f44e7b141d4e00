#pragma once
// Create-request validation with the upstream rules (zilliztech/milvus-cdc validCreateRequest and
// checkDuplicateCollection) and messages in upstream's wording. Pure functions, thread-safe.
// Every failure is InvalidArgument (a client error, `code` 400 in the API envelope). The target
// reachability check is separate (target_probe.h), as is maxTaskNum (TaskManager).
#include <string>
#include <vector>

#include "common/status.h"
#include "task/task_info.h"

namespace cdc::task {

struct CreateLimits {
  int max_name_length = 256;   // maxNameLength (0 already mapped to 256 by config)
  std::string replicate_chan;  // sourceConfig.replicateChan
};

// Shape rules: exactly one of milvus/kafka target, credentials, timeouts, exactly one
// collection filter entry, name lengths, `*` without positions, vchannel position keys,
// rpc_channel_info.name.
Status ValidateCreate(const CreateRequest& req, const CreateLimits& limits);

// Overlap of the new task's collections with existing tasks on the same target (TargetKey).
// On success returns the names the new (wildcard) task must exclude because other tasks own
// them (upstream ExcludeCollections).
Result<std::vector<std::string>> CheckDuplicates(const TaskInfo& candidate,
                                                 const std::vector<TaskInfo>& existing);

}  // namespace cdc::task

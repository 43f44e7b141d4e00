#pragma once
// target::OptionsForTask: a task's `milvus_connect_param` as target::ConnectOptions, the one
// translation used by `create`'s readiness probe and by the task's pipeline. Pure function.
#include <string>

#include "target/connect_options.h"
#include "task/task_info.h"

namespace cdc::target {

// uri, or one built from the deprecated host/port/enable_tls (MilvusConnectParam::EffectiveUri);
// token, or the deprecated username:password; connect_timeout (when > 0) and dial_config as
// they are; `replicate_channel` is the target's own replicate-msg channel.
ConnectOptions OptionsForTask(const task::MilvusConnectParam& p,
                              const std::string& replicate_channel);

}  // namespace cdc::target

#pragma once
// Turns stored checkpoint rows into the upstream `position` response:
//   {"positions": [...], "op_positions": [...], "target_positions": [...]}, each entry
//   {collection_id, channel_name, time (ms), tt (hybrid ts of time+1 ms), msg_id}, where msg_id
//   is base64 of a serialized MsgPosition{channel_name, msgID}. Dropped entries are skipped.
// Pure function, thread-safe. Undecodable rows are an Internal error naming the task.
#include <vector>

#include "common/status.h"
#include "meta/store.h"
#include "nlohmann/json.hpp"

namespace cdc::api {

Result<nlohmann::json> PositionView(const std::vector<meta::PositionRecord>& rows);

}  // namespace cdc::api

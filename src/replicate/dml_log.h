#pragma once
// replicate::LogDml: the info line for a replicated Insert/Delete when the process-wide
// cdc::MsgLog admits it (maintenance operations set_force_log_msg / reset_log_msg).
// Stateless; any thread. Decodes the payload only when the message is admitted.
#include <string>

#include "source/message.h"

namespace cdc::replicate {

// Logs `m` (read from the source, of collection `db`.`collection`) at info level if
// cdc::MsgLog::Global() admits it: type, names, shard, ts, position, row count and the first
// 10 values of each int64/varchar field (Insert) or of the primary keys (Delete).
void LogDml(const std::string& task_id, const source::Message& m, const std::string& db,
            const std::string& collection);

// The text LogDml writes (without the task prefix); for tests.
std::string DescribeDml(const source::Message& m, const std::string& db,
                        const std::string& collection);

}  // namespace cdc::replicate

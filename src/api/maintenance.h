#pragma once
// api::RunMaintenance: the `maintenance` request's operations, as upstream. Each answers a
// `State` text (also for a bad parameter: upstream answers code 200 with the problem in State).
//   set_log_level     {log_level: debug|info|warn|error}
//   set_force_log_msg {force: bool}         log every replicated Insert/Delete (or stop)
//   reset_log_msg     {count: n, duration: minutes}  log the next n within that many minutes
// The message log is cdc::MsgLog::Global(). Thread-safe.
#include <string>

#include "nlohmann/json.hpp"

namespace cdc::api {

std::string RunMaintenance(const std::string& operation, const nlohmann::json& params);

}  // namespace cdc::api

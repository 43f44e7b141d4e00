#pragma once
// Human text of the server's task JSON (a task of get/list, the position answer), as the CLI
// prints it without --json. Pure functions over nlohmann::json, thread-safe; missing fields
// show as "-" (json_fields.h).
#include <cstdint>
#include <map>
#include <string>

#include "nlohmann/json.hpp"

namespace cdc::cli {

// What a task replicates: "*" (every database), "db1.*", "default.books", ...
std::string TaskSelection(const nlohmann::json& task);

// Where it writes: the target's uri (or host:port), or "kafka ADDRESS/TOPIC".
std::string TaskTarget(const nlohmann::json& task);

// The largest lag_ms over the task's channels, -1 when none is known.
int64_t MaxLagMs(const nlohmann::json& task);

// `list`: one row per task (ID, STATE, TARGET, COLLECTIONS, MAX LAG, REASON).
std::string RenderTaskList(const nlohmann::json& tasks);

// `get`: the task's settings and state, then its sections below.
std::string RenderTask(const nlohmann::json& task);

// Lag per source channel. With `peak` (the largest lag_messages each channel had, kept by
// watch) a CATCH-UP bar shows how much of that backlog is done.
std::string RenderChannels(const nlohmann::json& channels,
                           const std::map<std::string, int64_t>* peak = nullptr);

// Initial-sync progress bars, one per collection; "" when the task has none running.
std::string RenderInitialSync(const nlohmann::json& task);

// Collections set aside / waiting, skipped counts and the last verify; "" when none.
std::string RenderHealth(const nlohmann::json& task);

// `position`: the channels' lag and the upstream position lists.
std::string RenderPosition(const nlohmann::json& data);

}  // namespace cdc::cli

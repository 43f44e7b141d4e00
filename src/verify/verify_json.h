#pragma once
// The `verify` request of POST /cdc and its answer, as JSON (docs/api.md). Pure functions.
#include <chrono>

#include "nlohmann/json.hpp"
#include "verify/verifier.h"

namespace cdc::verify {

// The longest a verify request may wait for its job (`wait_seconds`): a waiting request holds
// one of the API's handler threads.
inline constexpr int kMaxWaitSeconds = 60;

struct VerifyApiRequest {
  VerifyRequest request;     // task_id, collections, options (sample_rows)
  bool status_only = false;  // "action": "status": answer the running or last job, start none
  bool wait = false;         // wait for the job to finish, up to wait_for
  std::chrono::seconds wait_for{30};
};

// request_data: {"task_id", "collections": [...], "action": "start"|"status", "wait": bool,
// "wait_seconds": 1..60, "sample_rows": 0..10000}. Unknown keys are ignored, JSON numbers
// accepted for ints. A wrong type or value is InvalidArgument naming the key.
Result<VerifyApiRequest> DecodeVerifyRequest(const nlohmann::json& data);

// The job: {task_id, state: running|done, started, finished, equal, collections_total,
// collections_done, current: {name, phase, keys_compared, rows_estimated, ranges,
// ranges_differing}, error, results: [{name, result, message, note, differences: [{aspect,
// detail}], first_differing_keys: [{key, kind, partition, detail}], source_rows, target_rows,
// keys_compared, ranges, ranges_differing, ranges_unsettled, rows_sampled, source_digest,
// target_digest, read_ts}]}.
nlohmann::json JobJson(const JobView& job);

// The short form in `get`: {state, started, finished, equal, error, results: {name: result}}.
nlohmann::json JobSummaryJson(const JobView& job);

// The key as JSON: a number for Int64, a string for VarChar.
nlohmann::json KeyJson(const target::PrimaryKey& key);

}  // namespace cdc::verify

#pragma once
// JSON forms of task::TaskInfo (see task_info.h for the three shapes). Pure functions,
// thread-safe. Decoding errors are InvalidArgument naming the field path and the expected
// type; values are never echoed (they may be tokens).
#include <string>

#include "common/crypto.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "task/replicator.h"
#include "task/task_info.h"

namespace cdc::task {

// Upstream TaskInfo layout (Go field names, State as int) plus CreateTime/StateTime.
nlohmann::json ToStoredJson(const TaskInfo& t);
Result<TaskInfo> FromStoredJson(const std::string& text);

// Secrets at rest (docs/security.md). In a stored document (ToStoredJson), the secret fields
// MilvusConnectParam.{username,password,token} and KafkaConnectParam.sasl.{username,password}
// may be sealed: the string "cdc-sealed:v1:<key id>:<base64 of nonce|ciphertext|tag>"
// (AES-256-GCM, authenticated data "<TaskID>/<field path>", so a value cannot be moved to
// another task or field). Everything else stays the upstream layout.
//   SealSecrets: seals every plain, non-empty secret field; sealed ones are kept.
//   OpenSecrets: opens every sealed field. With no key, a sealed field is FailedPrecondition;
//     a value sealed with another key (its key id differs) or altered is DataLoss. Messages
//     name the task, the field and the key ids, never a value.
//   SecretCounts: how many secret fields are plain and how many sealed.
Result<nlohmann::json> SealSecrets(nlohmann::json doc, const crypto::AesKey& key);
Result<nlohmann::json> OpenSecrets(nlohmann::json doc, const crypto::AesKey* key);
struct SecretCounts {
  int plain = 0;
  int sealed = 0;
};
SecretCounts CountSecrets(const nlohmann::json& doc);

// The get/list Task view with username/password/token and Kafka SASL credentials removed.
nlohmann::json ToApiJson(const TaskInfo& t);

// Per channel checkpoint and lag, as `get`/`list`/`position` show it under "channels":
// [{channel_name, checkpoint, checkpoint_ts, checkpoint_time (ms), lag_ms, lag_messages}]
// (-1 = unknown).
nlohmann::json LagJson(const std::vector<ChannelLag>& channels);
// Ours, in `get`/`list`: "collections" = the task's collections not replicating normally
// ([{name, state: set_aside|requests_waiting, reason, since}]), "skipped" = {kind: count} of
// messages and requests not applied (each also logged and named in the reason).
void AddHealthJson(const TaskHealth& health, nlohmann::json* view);

// Decodes create request_data like upstream's mapstructure: unknown keys ignored, JSON numbers
// accepted for ints, null = zero value; a wrong type is an error naming the field path.
Result<CreateRequest> DecodeCreateRequest(const nlohmann::json& data);

// Reads the string field `key` of a request_data object ("" if absent or null); a non-string
// value is an error naming the key. Used by delete/pause/resume/get/position.
Result<std::string> DecodeStringField(const nlohmann::json& data, const std::string& key);
// Same for a bool field (false if absent).
Result<bool> DecodeBoolField(const nlohmann::json& data, const std::string& key);

}  // namespace cdc::task

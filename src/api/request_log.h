#pragma once
// api::MaskSecrets: a copy of a request body safe to log. Values of keys that hold secrets
// (token, password, username, sasl credentials, auth params, any key naming a secret; matched
// case-insensitively on the key name) become "***", and credentials in a `uri` are cut
// (`http://user:pass@host` -> `http://***@host`). Pure; thread-safe.
#include "nlohmann/json.hpp"

namespace cdc::api {

nlohmann::json MaskSecrets(const nlohmann::json& body);

}  // namespace cdc::api

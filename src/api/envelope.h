#pragma once
// The upstream /cdc response envelope, and the one place that maps a Status to it.
//   success  {"code": 200, "data": {...}}
//   error    {"code": 400|405|500, "message": "..."}   (HTTP status stays 200, as upstream)
// Pure functions, thread-safe.
#include <string>

#include "common/status.h"
#include "nlohmann/json.hpp"

namespace cdc::api {

// Where in the request an error arose; decides the wording and, for kDecode, the code.
enum class Stage {
  kMethod,  // not a POST: 405 "only support the POST method"
  kBody,    // body is not a JSON object: 400 "fail to unmarshal the request, error: ..."
            // (upstream: 500)
  kType,    // unknown request_type: 400 "invalid 'request_type' param, can be set [...]"
  kDecode,  // request_data has a wrong type: 500 "fail to decode the <type> request, ..."
  kHandle,  // the handler failed: 400 for client errors, 500 otherwise,
            // "fail to handle the <type> request, error: ..."
};

// 400 for client errors (InvalidArgument, NotFound, FailedPrecondition, AlreadyExists,
// OutOfRange, and Unauthenticated/PermissionDenied: the target refused the request's token or
// its permissions), 500 for everything else. Ok maps to 200. The API's own tokens never get
// here: they are answered 401/403 before any handler (api/authenticator.h).
int HandleCode(const Status& s);

nlohmann::json OkEnvelope(nlohmann::json data);
nlohmann::json ErrorEnvelope(Stage stage, const std::string& request_type, const Status& s);

}  // namespace cdc::api

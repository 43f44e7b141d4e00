#include "api/envelope.h"

namespace cdc::api {

int HandleCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kOutOfRange:
    // The target refused the token the request carries (create's probe): the client's to fix.
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return 400;
    default:
      return 500;
  }
}

nlohmann::json OkEnvelope(nlohmann::json data) {
  nlohmann::json j = {{"code", 200}};
  if (!data.is_null() && !data.empty()) j["data"] = std::move(data);  // omitempty upstream
  return j;
}

nlohmann::json ErrorEnvelope(Stage stage, const std::string& request_type, const Status& s) {
  const std::string msg(s.message());
  int code = 500;
  std::string text;
  switch (stage) {
    case Stage::kMethod:
      code = 405;
      text = "only support the POST method";
      break;
    case Stage::kBody:
      code = 400;  // upstream answers 500; the body is the client's error (issue 3)
      text = "fail to unmarshal the request, error: " + msg;
      break;
    case Stage::kType:
      code = 400;
      text = "invalid 'request_type' param, can be set " + msg;
      break;
    case Stage::kDecode:
      text = "fail to decode the " + request_type + " request, error: " + msg;
      break;
    case Stage::kHandle:
      code = HandleCode(s);
      text = "fail to handle the " + request_type + " request, error: " + msg;
      break;
  }
  return {{"code", code}, {"message", text}};
}

}  // namespace cdc::api

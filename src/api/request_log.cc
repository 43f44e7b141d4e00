#include "api/request_log.h"

#include <algorithm>
#include <string>

#include "task/task_info.h"

namespace cdc::api {
namespace {

bool IsSecretKey(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word :
       {"token", "password", "passwd", "secret", "username", "auth", "sasl", "credential"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

nlohmann::json MaskSecrets(const nlohmann::json& body) {
  if (body.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : body) out.push_back(MaskSecrets(v));
    return out;
  }
  if (!body.is_object()) return body;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : body.items()) {
    if (IsSecretKey(key) && !value.is_boolean() && !value.is_null() &&
        !(value.is_string() && value.get_ref<const std::string&>().empty())) {
      out[key] = "***";
    } else if (key == "uri" && value.is_string()) {
      out[key] = task::RedactUri(value.get<std::string>());
    } else {
      out[key] = MaskSecrets(value);
    }
  }
  return out;
}

}  // namespace cdc::api

#pragma once
// ApiClient: one milvus-cdc server's `POST /cdc` (docs/api.md) over HTTP or HTTPS (cpp-httplib
// with OpenSSL), with an optional bearer token. Each Call opens its own connection; the
// client is used from one thread.
//
// Errors (ExitCodeOf in exit_code.h turns them into exit codes):
//   kUnavailable       the server could not be reached: connection refused, TLS handshake,
//                      no answer within the timeout, or an answer that is not the API's JSON;
//                      the message names the URL and what to check.
//   any other code     the server answered an error envelope; the message is the server's,
//                      with its code (e.g. "code 400: not found the task, task_id: x").
#include <string>

#include "cli/server_url.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace cdc::cli {

struct ClientSettings {
  ServerUrl server;
  std::string token;    // bearer token, empty = none
  std::string ca_file;  // PEM CA bundle to trust for https, empty = the system's
  int timeout_s = 30;   // connect and each read/write
};

class ApiClient {
 public:
  explicit ApiClient(ClientSettings settings) : settings_(std::move(settings)) {}

  // Posts {"request_type": type, "request_data": data} (data left out when null) and answers
  // the whole envelope when its code is 200.
  Result<nlohmann::json> Call(const std::string& type, const nlohmann::json& data) const;

  const ServerUrl& server() const { return settings_.server; }
  int timeout_s() const { return settings_.timeout_s; }

 private:
  Result<nlohmann::json> Decode(int http_status, const std::string& body) const;

  ClientSettings settings_;
};

}  // namespace cdc::cli

#include "cli/api_client.h"

#include <httplib.h>

namespace cdc::cli {
namespace {

using nlohmann::json;

// The Status of an error envelope's code, so callers can tell 401/403 from a bad request.
StatusCode CodeOf(int code) {
  switch (code) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 413:
    case 429:
    case 503:
      return StatusCode::kResourceExhausted;
    case 500:
      return StatusCode::kInternal;
    default:
      return StatusCode::kUnknown;
  }
}

// What went wrong, in words, and what to check.
std::string Describe(httplib::Error error, int timeout_s) {
  const std::string t = std::to_string(timeout_s);
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect (refused or unreachable); check --server (or MILVUS_CDC_SERVER) "
             "and that milvus-cdc runs there";
    case httplib::Error::ConnectionTimeout:
      return "not connected within " + t + " s; check --server and the network";
    case httplib::Error::Read:
      return "no answer within " + t +
             " s (or the connection closed); check that it is "
             "milvus-cdc, and https:// if the server uses TLS";
    case httplib::Error::Write:
      return "the connection closed while sending the request";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed; check that the server uses TLS (else use http://)";
    case httplib::Error::SSLLoadingCerts:
      return "could not load the CA certificates; check --ca-file";
    case httplib::Error::SSLServerVerification:
      return "the server's certificate is not trusted; give the CA that signed it with "
             "--ca-file and use a host name the certificate holds";
    default:
      return "HTTP client error " + httplib::to_string(error);
  }
}

}  // namespace

Result<json> ApiClient::Call(const std::string& type, const json& data) const {
  const ServerUrl& url = settings_.server;
  httplib::Client client(url.origin());
  client.set_connection_timeout(settings_.timeout_s, 0);
  client.set_read_timeout(settings_.timeout_s, 0);
  client.set_write_timeout(settings_.timeout_s, 0);
  if (url.https()) {
    if (!settings_.ca_file.empty()) client.set_ca_cert_path(settings_.ca_file.c_str());
    client.enable_server_certificate_verification(true);
  }
  httplib::Headers headers;
  if (!settings_.token.empty()) headers.emplace("Authorization", "Bearer " + settings_.token);
  json body = {{"request_type", type}};
  if (!data.is_null()) body["request_data"] = data;
  auto res = client.Post(url.cdc_path(), headers, body.dump(), "application/json");
  if (!res) {
    return UnavailableError("cannot reach the milvus-cdc server at " + url.display() + ": " +
                            Describe(res.error(), settings_.timeout_s));
  }
  return Decode(res->status, res->body);
}

Result<json> ApiClient::Decode(int http_status, const std::string& body) const {
  json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object() || !answer.contains("code") || !answer["code"].is_number_integer()) {
    return UnavailableError("the server at " + settings_.server.display() + " answered HTTP " +
                            std::to_string(http_status) +
                            " without the milvus-cdc JSON envelope; check --server");
  }
  const int code = answer["code"].get<int>();
  if (code == 200) return answer;
  const auto m = answer.find("message");
  std::string message = m != answer.end() && m->is_string() ? m->get<std::string>() : "";
  if (code == 401) message += " (give an API token with --token-file or MILVUS_CDC_TOKEN)";
  return Status(CodeOf(code), "code " + std::to_string(code) + ": " + message);
}

}  // namespace cdc::cli

#pragma once
// ServerUrl: the --server value split into what the HTTP client needs. Accepts
// `http://host:port[/prefix]`, `https://host:port[/prefix]` or `host:port` (http); a trailing
// `/cdc` is dropped, so the API's own URL works too. Value type, not thread-safe to mutate.
#include <string>

#include "common/status.h"

namespace cdc::cli {

class ServerUrl {
 public:
  // InvalidArgument naming --server when the value is not one of the forms above.
  static Result<ServerUrl> Parse(const std::string& text);

  // "http://host:port" or "https://host:port", what httplib::Client takes.
  const std::string& origin() const { return origin_; }
  bool https() const { return https_; }
  // The path of POST /cdc under the prefix, e.g. "/cdc" or "/proxy/cdc".
  std::string cdc_path() const { return prefix_ + "/cdc"; }
  // The URL as messages name it, e.g. "http://127.0.0.1:8444/cdc".
  std::string display() const { return origin_ + cdc_path(); }

 private:
  std::string origin_;
  std::string prefix_;
  bool https_ = false;
};

}  // namespace cdc::cli

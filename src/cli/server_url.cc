#include "cli/server_url.h"

#include <cctype>

namespace cdc::cli {
namespace {

Status Bad(const std::string& text, const std::string& why) {
  return InvalidArgumentError("--server '" + text + "': " + why +
                              "; expected http://host:port or https://host:port");
}

bool ValidPort(const std::string& port) {
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  const int n = std::stoi(port);
  return n > 0 && n < 65536;
}

}  // namespace

Result<ServerUrl> ServerUrl::Parse(const std::string& text) {
  ServerUrl url;
  std::string rest = text;
  const auto scheme_end = rest.find("://");
  std::string scheme = "http";
  if (scheme_end != std::string::npos) {
    scheme = rest.substr(0, scheme_end);
    rest = rest.substr(scheme_end + 3);
  }
  if (scheme != "http" && scheme != "https") return Bad(text, "unknown scheme " + scheme);
  const auto slash = rest.find('/');
  std::string host_port = rest.substr(0, slash);
  url.prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!url.prefix_.empty() && url.prefix_.back() == '/') url.prefix_.pop_back();
  if (url.prefix_.size() >= 4 && url.prefix_.compare(url.prefix_.size() - 4, 4, "/cdc") == 0) {
    url.prefix_.resize(url.prefix_.size() - 4);
  }
  const auto colon = host_port.rfind(':');
  const bool bracketed = !host_port.empty() && host_port.back() == ']';
  if (host_port.empty() || host_port[0] == ':') return Bad(text, "no host");
  if (colon == std::string::npos || bracketed) {
    host_port += scheme == "https" ? ":443" : ":80";
  } else if (!ValidPort(host_port.substr(colon + 1))) {
    return Bad(text, "bad port '" + host_port.substr(colon + 1) + "'");
  }
  url.https_ = scheme == "https";
  url.origin_ = scheme + "://" + host_port;
  return url;
}

}  // namespace cdc::cli

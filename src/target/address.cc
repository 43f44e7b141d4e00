#include "target/address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cdc::target {
namespace {

Status Bad(const std::string& field, const std::string& text, const std::string& why) {
  return InvalidArgumentError(
      absl::StrCat(field, "=\"", text, "\": ", why, "; use http://host:port or https://host:port"));
}

}  // namespace

std::string Address::HostPort() const {
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

Result<Address> ParseAddress(const std::string& text, int default_port, const std::string& field) {
  Address a;
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (auto scheme = rest.find("://"); scheme != absl::string_view::npos) {
    const std::string name = absl::AsciiStrToLower(std::string(rest.substr(0, scheme)));
    if (name != "http" && name != "https" && name != "tcp" && name != "grpc")
      return Bad(field, text, "unknown scheme '" + name + "'");
    a.https = name == "https";
    rest.remove_prefix(scheme + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != absl::string_view::npos) rest.remove_prefix(at + 1);
  absl::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [v6] or [v6]:port
    const auto close = rest.find(']');
    if (close == absl::string_view::npos) return Bad(field, text, "no ']' after an IPv6 address");
    a.host = std::string(rest.substr(1, close - 1));
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Bad(field, text, "junk after ']'");
    if (!after.empty()) port = after.substr(1);
  } else if (auto colon = rest.rfind(':'); colon != absl::string_view::npos) {
    a.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    a.host = std::string(rest);
  }
  if (a.host.empty()) return Bad(field, text, "no host");
  if (port.empty()) {
    a.port = default_port;
  } else if (!absl::SimpleAtoi(port, &a.port) || a.port < 1 || a.port > 65535) {
    return Bad(field, text, "the port is not a number in 1..65535");
  }
  return a;
}

}  // namespace cdc::target

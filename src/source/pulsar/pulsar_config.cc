#include "source/pulsar/pulsar_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "source/position.h"

namespace cdc::source {

std::string PulsarTopic(std::string_view tenant, std::string_view name_space,
                        std::string_view channel) {
  return absl::StrCat("persistent://", tenant.empty() ? "public" : AbslView(tenant), "/",
                      name_space.empty() ? "default" : AbslView(name_space), "/",
                      AbslView(channel));
}

namespace {

Result<std::string> TokenFrom(std::string_view params) {
  absl::string_view p = absl::StripAsciiWhitespace(AbslView(params));
  if (p.empty()) {
    return InvalidArgumentError(
        "sourceConfig.pulsar.authParams is empty; token authentication needs 'token:<jwt>' or "
        "'file:<path>'");
  }
  std::string token, file;
  if (p.find(':') == absl::string_view::npos) {
    token = std::string(p);  // a bare token
  } else {
    for (absl::string_view kv : absl::StrSplit(p, ',')) {
      size_t colon = kv.find(':');
      absl::string_view k = absl::StripAsciiWhitespace(kv.substr(0, colon));
      absl::string_view v =
          colon == absl::string_view::npos ? "" : absl::StripAsciiWhitespace(kv.substr(colon + 1));
      if (k == "token") {
        token = std::string(v);
      } else if (k == "file") {
        file = std::string(absl::StripPrefix(v, "//"));
      } else {
        return InvalidArgumentError(absl::StrCat("sourceConfig.pulsar.authParams: unknown key '", k,
                                                 "'; expected token:<jwt> or file:<path>"));
      }
    }
  }
  if (token.empty() && !file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return InvalidArgumentError(
          absl::StrCat("sourceConfig.pulsar.authParams: cannot read token file '", file, "'"));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(ss.str()));
  }
  if (token.empty()) {
    return InvalidArgumentError("sourceConfig.pulsar.authParams: no token given");
  }
  return token;
}

}  // namespace

Result<pulsar::ClientOptions> PulsarClientOptions(const PulsarSourceSettings& s) {
  pulsar::ClientOptions o;
  o.service_url = s.address;
  auto eps = pulsar::ParseServiceUrl(s.address);
  if (!eps.ok()) return Annotate(eps.status(), "sourceConfig.pulsar.address");
  const std::string plugin = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.auth_plugin));
  if (!plugin.empty()) {
    if (plugin != "token" && plugin != "org.apache.pulsar.client.impl.auth.authenticationtoken") {
      return InvalidArgumentError(absl::StrCat("sourceConfig.pulsar.authPlugin '", s.auth_plugin,
                                               "' is not supported; use 'token'"));
    }
    o.auth_method = "token";
    ASSIGN_OR_RETURN(o.auth_data, TokenFrom(s.auth_params));
  }
  if (!s.max_message_size.empty()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(s.max_message_size), &n) || n <= 0 ||
        n > (int64_t{1} << 31)) {
      return InvalidArgumentError(absl::StrCat("sourceConfig.pulsar.maxMessageSize '",
                                               s.max_message_size,
                                               "' is not a size in bytes between 1 and 2^31"));
    }
    o.max_frame_size = static_cast<size_t>(n) + pulsar::kFrameOverhead;
  }
  return o;
}

}  // namespace cdc::source

#pragma once
// From sourceConfig.pulsar (upstream keys) to our client options and Milvus topic names.
// Pure functions.
#include <string>
#include <string_view>

#include "common/status.h"
#include "pulsar/connection.h"

namespace cdc::source {

struct PulsarSourceSettings {
  std::string address;           // sourceConfig.pulsar.address
  std::string tenant;            // default "public"
  std::string name_space;        // default "default"
  std::string auth_plugin;       // "token" (or the Java class name of token auth); empty = none
  std::string auth_params;       // "token:<jwt>", "file:<path>", or a bare token (secret)
  std::string max_message_size;  // bytes as text; empty = broker's announced limit / 5 MiB
  std::string web_address;       // webAddress: the admin API (lag), host[:port] or URL
  int web_port = 0;              // webPort: its port when webAddress carries none
};

// The topic Milvus writes `channel` to: persistent://{tenant}/{namespace}/{channel}.
std::string PulsarTopic(std::string_view tenant, std::string_view name_space,
                        std::string_view channel);

// InvalidArgument naming the key (sourceConfig.pulsar.*) for a bad URL, auth plugin, auth
// parameters or size. The token never appears in messages.
Result<pulsar::ClientOptions> PulsarClientOptions(const PulsarSourceSettings& s);

}  // namespace cdc::source

#pragma once
// target::Address: where a target is, parsed from `milvus_connect_param.uri` (or one Kafka
// bootstrap address). The only parser of target addresses; pure functions, thread-safe.
#include <string>

#include "common/status.h"

namespace cdc::target {

struct Address {
  std::string host;  // a name or an IP; IPv6 without brackets
  int port = 0;
  bool https = false;  // the uri said https://

  // "host:port", "[v6]:port" for IPv6: what gRPC and messages use.
  std::string HostPort() const;
};

// Accepts "http://h:p", "https://h:p", "tcp://h:p", "grpc://h:p", "h:p", "h" (then
// `default_port`) and "[v6]:p"; a trailing path and a `user:password@` part are dropped (the
// credentials belong in the token). InvalidArgument naming `field` (e.g.
// "milvus_connect_param.uri") when the host is empty, the scheme unknown or the port not a
// number in 1..65535.
Result<Address> ParseAddress(const std::string& text, int default_port, const std::string& field);

}  // namespace cdc::target

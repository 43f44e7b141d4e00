#pragma once
// target::Dial: opens the gRPC channel to a Milvus (a target, or the source's proxy) described
// by ConnectOptions: the
// address (target/address.h), plain text or TLS (one TLS setup for every caller), and a bounded
// wait for the connection. Thread-safe; blocks the caller up to connect_timeout_s.
#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "target/address.h"
#include "target/connect_options.h"

namespace cdc::target {

struct DialedChannel {
  Address address;
  bool tls = false;
  std::shared_ptr<grpc::Channel> channel;
};

// TLS is on for an https:// uri or any dial_config certificate path. The trust roots are
// dial_config.ca_pem_path and server_pem_path (both when both are set; the system's roots when
// neither is), the client certificate client_pem_path + client_key_path (mutual TLS; both or
// neither), and server_name the name the target's certificate must carry (default: the uri's
// host).
// Errors: InvalidArgument naming the key (opts.names.settings, e.g. milvus_connect_param: bad
// uri, unreadable or non-PEM file, half a client key pair); Unavailable when it is not connected
// within connect_timeout_s, with gRPC's last error (e.g. the TLS handshake failure) and what to
// check.
Result<DialedChannel> Dial(const ConnectOptions& opts);

// The checks of Dial that need no connection: the uri and the dial_config files (readable PEM,
// client pair complete). InvalidArgument naming the key (e.g. at startup for a config file).
Status CheckConnectOptions(const ConnectOptions& opts);

}  // namespace cdc::target

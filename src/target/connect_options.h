#pragma once
// target::ConnectOptions: how to reach one Milvus: a task's target (upstream
// `milvus_connect_param`, through target::OptionsForTask) or the source's proxy
// (`sourceConfig.milvus`). Plain values, copyable.
#include <cstdint>
#include <string>

namespace cdc::target {

// How messages name a Milvus and the settings the user fixes: a task's target (the default) or
// the source's proxy (`{"source", "sourceConfig.milvus"}`), e.g. "connect to milvus source
// H:P: ...; check sourceConfig.milvus.uri".
struct PeerNames {
  std::string role = "target";
  std::string settings = "milvus_connect_param";
};

struct ConnectOptions {
  // "http://host:port", "https://host:port" or plain "host:port" (http); parsed by
  // target::ParseAddress. https or any dial_config path below turns TLS on (target/dial.h).
  std::string uri;
  // "user:password" or an API key; sent base64-encoded in the `authorization` metadata.
  // Empty: no authentication. Never logged.
  std::string token;
  // Seconds to wait for the first connection. Default: 10.
  int connect_timeout_s = 10;
  // Seconds a single call may take. Default: 30.
  int rpc_timeout_s = 30;
  // Attempts per call for retryable failures (unavailable, rate limited, ...) before the error
  // is returned to the caller, which keeps its own backoff. Default: 3.
  int max_attempts = 3;
  // One-way TLS: the server's certificate (or the CA that signed it) and the name to verify it
  // against (default: the uri's host).
  std::string server_pem_path;
  std::string server_name;
  // Mutual TLS: CA bundle plus our own certificate and key.
  std::string ca_pem_path;
  std::string client_pem_path;
  std::string client_key_path;
  // The target's own replicate-msg channel, `{cluster prefix}-replicate-msg`. A
  // ReplicateMessage call on it writes nothing and answers with its latest position; it is the
  // readiness probe. Default: by-dev-replicate-msg.
  std::string replicate_channel = "by-dev-replicate-msg";
  // Names used in messages. Default: a task's target (`milvus_connect_param`).
  PeerNames names;
};

}  // namespace cdc::target

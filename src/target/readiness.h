#pragma once
// target::ProbeReadiness: the one readiness check of a target Milvus, run by `create` (through
// target::ReadinessProbe) before a task is stored. It proves, in this order: the connection
// (address, TLS), the token (GetVersion: a target with authorizationEnabled refuses every call
// without a valid one), and that the target accepts replication (Client::CheckReplicationReady,
// which a pipeline also runs before its first round).
// Threads: safe to call from several threads; blocks up to the client's timeouts per call.
#include <string>

#include "common/status.h"
#include "target/client.h"
#include "target/connect_options.h"

namespace cdc::target {

// Returns the target's version. Errors as the client's (target/client.h): kUnauthenticated /
// kPermissionDenied for the token, kFailedPrecondition for a normal instance (ttMsgEnabled
// true), kUnavailable / kDeadlineExceeded when it does not answer, kUnimplemented when it is
// older than 2.3.2.
Result<std::string> ProbeReadiness(Client& client);

// Connects with `opts` (ConnectGrpcClient), then ProbeReadiness(client).
Result<std::string> ProbeReadiness(const ConnectOptions& opts);

}  // namespace cdc::target

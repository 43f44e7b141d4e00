#pragma once
// task::TargetProbe: "is the target ready?", asked by create before a task is stored. The task
// layer builds no requests to a target itself; target::ReadinessProbe (src/target) implements
// this seam and server wires it in.
// Implementations must return within the given timeout (plus a small margin) and never throw.
// Errors carry a message naming the target and what to check: kInvalidArgument for parameters
// that cannot work (a bad uri, an unreadable certificate file), kUnavailable /
// kDeadlineExceeded when it does not answer (also a failed TLS handshake),
// kUnauthenticated / kPermissionDenied for the token, kFailedPrecondition when a Milvus target
// refuses replication (common.ttMsgEnabled true).
// Thread-safe: may be called from several HTTP worker threads at once.
#include <chrono>

#include "common/status.h"
#include "task/task_info.h"

namespace cdc::task {

class TargetProbe {
 public:
  virtual ~TargetProbe() = default;
  virtual Status CheckMilvus(const MilvusConnectParam& target, std::chrono::seconds timeout) = 0;
  virtual Status CheckKafka(const KafkaConnectParam& target, std::chrono::seconds timeout) = 0;
};

}  // namespace cdc::task

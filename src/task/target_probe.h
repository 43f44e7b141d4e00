#pragma once
// task::TargetProbe: "does the target answer?", asked by create before a task is stored.
// Implementations must return within the given timeout (plus a small margin) and never throw.
// Errors: kUnavailable with a message naming the target, e.g.
//   "connect to target milvus http://10.0.0.5:19530: no answer within 5s; check the uri ..."
// Thread-safe: may be called from several HTTP worker threads at once.
#include <chrono>
#include <string>

#include "common/status.h"
#include "task/task_info.h"

namespace cdc::task {

class TargetProbe {
 public:
  virtual ~TargetProbe() = default;
  virtual Status CheckMilvus(const MilvusConnectParam& target, std::chrono::seconds timeout) = 0;
  virtual Status CheckKafka(const KafkaConnectParam& target, std::chrono::seconds timeout) = 0;
};

// Opens a gRPC channel to the uri's host:port (default port 19530; https:// or a dial_config
// certificate means TLS, with dial_config's CA, client cert/key and server name) and waits until
// it is connected. Kafka targets: a TCP connect to the first bootstrap address.
class GrpcTargetProbe : public TargetProbe {
 public:
  Status CheckMilvus(const MilvusConnectParam& target, std::chrono::seconds timeout) override;
  Status CheckKafka(const KafkaConnectParam& target, std::chrono::seconds timeout) override;
};

}  // namespace cdc::task

#pragma once
// target::ReadinessProbe: task::TargetProbe for `create`. A Milvus target gets the full
// readiness check (target::ProbeReadiness: connection and TLS, token, replication accepted),
// bounded by the request's connect timeout, without retries; a Kafka target a TCP connection
// to its first bootstrap address.
// Threads: stateless after construction; CheckMilvus/CheckKafka may run on several HTTP worker
// threads at once.
#include <chrono>
#include <string>

#include "task/target_probe.h"

namespace cdc::target {

class ReadinessProbe final : public task::TargetProbe {
 public:
  // `replicate_channel`: the targets' own replicate-msg channel (the probe's ReplicateMessage).
  explicit ReadinessProbe(std::string replicate_channel)
      : replicate_channel_(std::move(replicate_channel)) {}

  Status CheckMilvus(const task::MilvusConnectParam& target, std::chrono::seconds timeout) override;
  Status CheckKafka(const task::KafkaConnectParam& target, std::chrono::seconds timeout) override;

 private:
  std::string replicate_channel_;
};

}  // namespace cdc::target

#include "target/readiness_probe.h"

#include "target/readiness.h"
#include "target/task_options.h"
#include "target/tcp_probe.h"

namespace cdc::target {

Status ReadinessProbe::CheckMilvus(const task::MilvusConnectParam& target,
                                   std::chrono::seconds timeout) {
  ConnectOptions o = OptionsForTask(target, replicate_channel_);
  o.connect_timeout_s = static_cast<int>(timeout.count());
  o.rpc_timeout_s = static_cast<int>(timeout.count());
  o.max_attempts = 1;
  return ProbeReadiness(o).status();
}

Status ReadinessProbe::CheckKafka(const task::KafkaConnectParam& target,
                                  std::chrono::seconds timeout) {
  const std::string first = target.address.substr(0, target.address.find(','));
  Status s = ProbeTcp(first, 9092, "kafka_connect_param.address", timeout);
  if (s.ok() || s.code() == StatusCode::kInvalidArgument) return s;
  return UnavailableError("fail to connect the kafka: target kafka " +
                          task::RedactUri(target.address) + ": " + std::string(s.message()) +
                          "; check kafka_connect_param.address and that the broker is up");
}

}  // namespace cdc::target

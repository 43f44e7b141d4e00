#pragma once
// Produces raw Milvus payloads to partition 0 of Kafka topics, as Milvus's Kafka producer
// does (no key, no headers: the 2.3 producer only adds trace headers, which are optional).
// Owns one librdkafka producer; not thread-safe.
#include <map>
#include <string>

#include "common/status.h"
#include "source/kafka/kafka_client.h"

namespace cdc::sim {

class KafkaProducer {
 public:
  static Result<KafkaProducer> Create(const std::string& brokers,
                                      const std::map<std::string, std::string>& config = {});
  // Queues one message; Unavailable if the local queue stays full for 10 s.
  Status Produce(const std::string& topic, const std::string& payload);
  // Waits until every queued message is acknowledged; Unavailable naming the first failure.
  Status Flush(int timeout_ms = 30000);

 private:
  explicit KafkaProducer(source::RdKafkaHandle rk) : rk_(std::move(rk)) {}
  source::RdKafkaHandle rk_;
  std::string brokers_;
};

}  // namespace cdc::sim

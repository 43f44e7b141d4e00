#pragma once
// sink::RdKafkaProducer: the librdkafka producer of the Kafka sink. Idempotent
// (enable.idempotence=true, hence acks=all and ordered retries per partition); records are
// keyed, so one key stays in one partition, in order.
//
// Ownership: owns its librdkafka handle; after a failed ProduceAll the handle is destroyed and
// made again on the next call (librdkafka may have left an idempotent producer in a fatal
// state). Threading: calls are serialized on one mutex (the sink's calls are ordered anyway).
// Errors: as sink::Producer. The SASL password is passed to librdkafka only and never appears
// in Describe() or a message.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sink/producer.h"
#include "source/kafka/kafka_client.h"

namespace cdc::sink {

struct KafkaSinkOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;
  // librdkafka settings on top of the defaults below (e.g. the sasl.* and security.protocol
  // of a task's kafka_connect_param).
  std::map<std::string, std::string> config;
  // How long a record may wait for the brokers' acknowledgement (message.timeout.ms).
  std::chrono::milliseconds delivery_timeout{30000};
  // How long a metadata or topic-creation request may take.
  std::chrono::milliseconds request_timeout{10000};
};

class RdKafkaProducer final : public Producer {
 public:
  explicit RdKafkaProducer(KafkaSinkOptions options);
  ~RdKafkaProducer() override = default;

  std::string Describe() const override;
  Status EnsureTopic() override;
  Status ProduceAll(const std::vector<Record>& records) override;

  // The librdkafka settings the producer uses (without bootstrap.servers), for tests.
  std::map<std::string, std::string> Settings() const;

 private:
  Status Connect();  // makes rk_ when there is none; mu_ held
  Status CreateTopic();
  Status Enqueue(const Record& r, void* opaque);

  const KafkaSinkOptions options_;
  std::mutex mu_;
  source::RdKafkaHandle rk_;
};

}  // namespace cdc::sink

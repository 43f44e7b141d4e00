#pragma once
// sink::Producer: what the Kafka sink needs of a Kafka producer. RdKafkaProducer is the real
// one (sink/rdkafka_producer.h); unit tests use a fake.
//
// Threading: implementations are safe to call from several threads at once.
// Errors: kUnavailable / kDeadlineExceeded when the brokers do not answer or did not
// acknowledge (a retry can help), kFailedPrecondition when the topic does not exist and cannot
// be created, kInvalidArgument for a bad setting. Messages name the brokers and the topic and
// never hold a password.
#include <string>
#include <vector>

#include "common/status.h"

namespace cdc::sink {

struct Record {
  std::string key;
  std::string value;
};

class Producer {
 public:
  virtual ~Producer() = default;

  // "kafka <brokers> topic <topic>", for messages.
  virtual std::string Describe() const = 0;
  // Proves the brokers answer and the topic exists (creating it when it does not).
  virtual Status EnsureTopic() = 0;
  // Produces `records` in order and returns once the brokers acknowledged every one of them
  // (acks=all), or the first error. On error some records may have been written (a retry
  // then writes them again: docs/kafka-sink.md, "Duplicates").
  virtual Status ProduceAll(const std::vector<Record>& records) = 0;
};

}  // namespace cdc::sink

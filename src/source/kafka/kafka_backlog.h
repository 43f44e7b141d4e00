#pragma once
// KafkaBacklog: how many messages a Kafka channel holds after a saved position, without a
// running reader (the lag of a paused task, or of one whose pipeline has not started yet).
//
// One consumer handle (never subscribed), created on first use, asks the broker for a topic's high
// watermark (one round trip, bounded by `timeout`). Answers are cached per topic for a second, and
// a failed query is not repeated for five seconds, so `get`/`list` stay fast when the broker is
// down. Thread-safe: one mutex; queries are serialised.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "source/kafka/kafka_client.h"
#include "source/position.h"

namespace cdc::source {

class KafkaBacklog {
 public:
  KafkaBacklog(std::string brokers, std::map<std::string, std::string> config);
  ~KafkaBacklog();
  KafkaBacklog(const KafkaBacklog&) = delete;
  KafkaBacklog& operator=(const KafkaBacklog&) = delete;

  // Messages after `position` (channel = topic, msgID = a Kafka offset), at least 0; -1 when
  // the position is not a Kafka one or the broker does not answer within `timeout`.
  int64_t MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout);

 private:
  struct Latest {
    int64_t high = -1;  // -1: the last query failed
    std::chrono::steady_clock::time_point at;
  };
  const std::string brokers_;
  const std::map<std::string, std::string> config_;
  std::mutex mu_;
  RdKafkaHandle rk_;  // guarded by mu_
  std::map<std::string, Latest> latest_;
};

}  // namespace cdc::source

#pragma once
// KafkaBroker: source::Broker over Kafka (sourceConfig.kafka). Milvus writes each channel to
// partition 0 of a topic named after it. Readers are KafkaChannelReaders; the lag of a position
// comes from the topic's high watermark (KafkaBacklog).
//
// Thread-safe (see broker.h). Errors name the brokers and the topic.
#include <map>
#include <string>

#include "source/broker.h"
#include "source/kafka/kafka_backlog.h"

namespace cdc::source {

struct KafkaBrokerOptions {
  std::string brokers;                        // sourceConfig.kafka.address (bootstrap.servers)
  std::map<std::string, std::string> config;  // extra librdkafka keys (consumer, SASL, TLS)
};

// InvalidArgument naming the librdkafka key that librdkafka refuses (values are not shown: they
// may be passwords).
Status CheckKafkaConfig(const std::map<std::string, std::string>& config);

class KafkaBroker final : public Broker {
 public:
  explicit KafkaBroker(KafkaBrokerOptions options);

  std::string Describe() const override;
  Result<std::unique_ptr<ChannelReader>> OpenReader(const ReaderOptions& options) override;
  int64_t MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout) override;
  Result<std::vector<MsgPosition>> LatestPositions(const std::vector<std::string>& channels,
                                                   std::chrono::milliseconds timeout) override;
  Result<std::vector<bool>> Holds(const std::vector<MsgPosition>& positions,
                                  std::chrono::milliseconds timeout) override;

 private:
  const KafkaBrokerOptions options_;
  KafkaBacklog backlog_;
};

}  // namespace cdc::source

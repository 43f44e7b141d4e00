#include "source/kafka/kafka_broker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/kafka/kafka_client.h"
#include "source/kafka/kafka_reader.h"

namespace cdc::source {

Status CheckKafkaConfig(const std::map<std::string, std::string>& config) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  Status s;
  for (const auto& [k, v] : config) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      s = InvalidArgumentError(
          absl::StrCat("sourceConfig.kafka: librdkafka refuses the setting '", k, "': ", err,
                       "; check sourceConfig.kafka.consumer and the SASL keys"));
      break;
    }
  }
  rd_kafka_conf_destroy(conf);
  return s;
}

KafkaBroker::KafkaBroker(KafkaBrokerOptions options)
    : options_(std::move(options)), backlog_(options_.brokers, options_.config) {}

std::string KafkaBroker::Describe() const { return "kafka " + options_.brokers; }

Result<std::unique_ptr<ChannelReader>> KafkaBroker::OpenReader(const ReaderOptions& options) {
  KafkaReaderOptions ko;
  ko.reader = options;
  ko.brokers = options_.brokers;
  ko.config = options_.config;
  // librdkafka's own prefetch per consumer (queued.max.messages.kbytes): a quarter of the
  // reader's queue, 1..16 MB (16 MB for the default 256 MB read buffer, whose readers queue
  // 64 MB). It is held by every channel of every task however little of it the task keeps, so it
  // sets the memory of many tasks under a backlog, and librdkafka 2.0 refetches a full queue only
  // after a pause, so it also bounds how fast a backlog is read (bench: 30 MB/s at 4 MB, 60 MB/s
  // at 16 MB with a 64 MB buffer). A key of the same name in the Kafka config wins.
  ko.queued_max_kbytes =
      static_cast<int>(std::clamp<size_t>(options.max_queued_bytes / 4 / 1024, 1024, 16384));
  return std::unique_ptr<ChannelReader>(std::make_unique<KafkaChannelReader>(std::move(ko)));
}

int64_t KafkaBroker::MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout) {
  return backlog_.MessagesAfter(position, timeout);
}

Result<std::vector<MsgPosition>> KafkaBroker::LatestPositions(
    const std::vector<std::string>& channels, std::chrono::milliseconds timeout) {
  (void)channels;
  (void)timeout;
  return UnimplementedError("latest positions on " + Describe() + ": not implemented yet");
}

}  // namespace cdc::source

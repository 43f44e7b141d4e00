#include "source/kafka/kafka_backlog.h"

#include <algorithm>

namespace cdc::source {

KafkaBacklog::KafkaBacklog(std::string brokers, std::map<std::string, std::string> config)
    : brokers_(std::move(brokers)), config_(std::move(config)) {}

KafkaBacklog::~KafkaBacklog() {
  if (rk_) rd_kafka_consumer_close(rk_.get());
}

int64_t KafkaBacklog::MessagesAfter(const MsgPosition& position,
                                    std::chrono::milliseconds timeout) {
  auto offset = DecodeKafkaMsgId(position.msgid());
  if (!offset.ok() || position.channel_name().empty() || brokers_.empty()) return -1;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard l(mu_);
  Latest& latest = latest_[position.channel_name()];
  const auto max_age = latest.high >= 0 ? std::chrono::seconds(1) : std::chrono::seconds(5);
  if (latest.at == std::chrono::steady_clock::time_point{} || now - latest.at >= max_age) {
    latest.at = now;
    latest.high = -1;
    if (!rk_) {
      auto config = config_;
      config["group.id"] = "cdc-backlog";
      auto rk = NewKafkaClient(true, brokers_, config);
      if (!rk.ok()) return -1;
      rk_ = std::move(*rk);
    }
    auto high =
        QueryHighWatermark(rk_.get(), position.channel_name(), static_cast<int>(timeout.count()));
    if (high.ok()) latest.high = *high;
  }
  if (latest.high < 0) return -1;
  return std::max<int64_t>(0, latest.high - (*offset + 1));
}

}  // namespace cdc::source

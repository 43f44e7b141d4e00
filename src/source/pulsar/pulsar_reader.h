#pragma once
// PulsarChannelReader: ChannelReader over our own Pulsar client for one Milvus channel topic
// (persistent://{tenant}/{namespace}/{channel}), the counterpart of KafkaChannelReader.
//
// It holds a non-durable Exclusive subscription (positions are ours, as with Kafka: nothing is
// left on the broker), starts at earliest / latest / a saved position (inclusive, then the
// packer's skip rule), and hands every message to the shared core (ReaderCore), which packs
// exactly as for Kafka and queues at most max_queued_packs / max_queued_bytes; the broker sends at
// most `receiver_queue` messages ahead (FLOW permits), so a backlog stays in the broker.
// Positions: msgID = Milvus's encoding of a Pulsar id (pulsar_id.h).
// Broker errors: retried forever with backoff (100 ms doubling to 5 s), shown in
// stats().reason; the consumer resubscribes right after the last message it handed out, so a
// broker restart loses and repeats nothing. Corrupt entries (checksum mismatch, unsupported
// compression) are counted as bad messages and listed in the next pack's errors.
#include <memory>
#include <string>

#include "pulsar/consumer.h"
#include "source/pulsar/pulsar_backlog.h"
#include "source/reader_core.h"

namespace cdc::source {

struct PulsarReaderOptions {
  ReaderOptions reader;  // channel = topic base name; subscription SubscriptionName(owner, ...)
  pulsar::ClientOptions client;  // service URL, token, TLS, timeouts
  std::string tenant = "public";
  std::string name_space = "default";
  uint32_t receiver_queue = 100;
  // Refreshed about once a second by the reader thread for MessagesAfter; null = unknown (-1).
  std::shared_ptr<PulsarBacklog> backlog;
};

class PulsarChannelReader final : public ReaderCore {
 public:
  explicit PulsarChannelReader(PulsarReaderOptions options);
  ~PulsarChannelReader() override;

  // Entries (a batch counts once) after `position`, from the last admin view of the topic.
  int64_t MessagesAfter(const MsgPosition& position) const override;
  const std::string& topic() const { return topic_; }

 private:
  Status Open(const StartPosition& start) override;
  void Run() override;
  void Release() override;
  // While the consumer is behind, keep the channel's end current (the backlog grows then).
  void WhileQueueFull() override { RefreshBacklog(); }

  Status EnsureConsumer();
  void HandleMessage(pulsar::ReceivedMessage&& r);
  void RefreshBacklog();

  const PulsarReaderOptions options_;
  const std::string topic_;
  pulsar::ConsumerOptions consumer_options_;
  std::unique_ptr<pulsar::Consumer> consumer_;  // reader thread only (after Start)
  bool need_reconnect_ = false;                 // reader thread only
};

}  // namespace cdc::source

#pragma once
// PulsarChannelReader: ChannelReader over our own Pulsar client for one Milvus channel topic
// (persistent://{tenant}/{namespace}/{channel}), the counterpart of KafkaChannelReader.
//
// It holds a non-durable Exclusive subscription (positions are ours, as with Kafka: nothing is
// left on the broker), starts at earliest / latest / a saved position (inclusive, then the
// packer's skip rule), and packs exactly as the Kafka reader does. One background thread
// receives, decodes headers and packs; packs wait in a queue of at most `max_queued_packs` and
// `max_queued_bytes`,
// and the broker sends at most `receiver_queue` messages ahead (FLOW permits), so a backlog
// stays in the broker.
// Broker errors: retried forever with backoff (100 ms doubling to 5 s), shown in
// stats().reason; the consumer resubscribes right after the last message it handed out, so a
// broker restart loses and repeats nothing. Corrupt entries (checksum mismatch, unsupported
// compression) are counted as bad messages and listed in the next pack's errors.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "source/channel_reader.h"
#include "source/pack_queue.h"
#include "source/packer.h"
#include "source/pulsar/consumer.h"
#include "source/pulsar/pulsar_backlog.h"

namespace cdc::source {

struct PulsarReaderOptions {
  pulsar::ClientOptions client;  // service URL, token, TLS, timeouts
  std::string tenant = "public";
  std::string name_space = "default";
  std::string channel;  // physical channel = topic base name, e.g. "by-dev-rootcoord-dml_0"
  ChannelKind kind = ChannelKind::kDml;
  // Subscription name; also written as msgGroup into end positions.
  std::string subscription;
  uint32_t receiver_queue = 100;
  size_t max_queued_packs = 16;
  size_t max_queued_bytes = 16 << 20;  // payload bytes of queued packs (one pack always fits)
  // Refreshed about once a second by the reader thread for MessagesAfter; null = unknown (-1).
  std::shared_ptr<pulsar::PulsarBacklog> backlog;
};

class PulsarChannelReader final : public ChannelReader {
 public:
  explicit PulsarChannelReader(PulsarReaderOptions options);
  ~PulsarChannelReader() override;

  Status Start(const StartPosition& start) override;
  Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) override;
  ReaderStats stats() const override;
  // Entries (a batch counts once) after `position`, from the last admin view of the topic.
  int64_t MessagesAfter(const MsgPosition& position) const override;
  void Close() override;
  const std::string& channel() const override { return options_.channel; }
  const std::string& topic() const { return topic_; }

 private:
  void Run();
  Status EnsureConsumer();
  void HandleMessage(pulsar::ReceivedMessage&& r);
  void Push(Pack pack);
  void RefreshBacklog();
  void SetReason(std::string reason);
  bool SleepInterruptible(std::chrono::milliseconds d);

  PulsarReaderOptions options_;
  std::string topic_;
  pulsar::ConsumerOptions consumer_options_;
  std::unique_ptr<pulsar::Consumer> consumer_;  // reader thread only (after Start)
  bool need_reconnect_ = false;                 // reader thread only
  std::unique_ptr<Packer> packer_;
  std::unique_ptr<SingleMessagePacker> single_;

  PackQueue queue_;
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  ReaderStats stats_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace cdc::source

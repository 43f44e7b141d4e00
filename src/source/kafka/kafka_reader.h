#pragma once
// KafkaChannelReader: ChannelReader over librdkafka for one Milvus channel topic.
//
// Milvus writes every channel to partition 0 of a topic named after the channel; the reader
// assigns that partition (no group rebalancing, no offset commits: positions are ours) and
// seeks to the start offset. One background thread polls, decodes headers and packs; packs
// wait in a queue of at most `max_queued_packs` and `max_queued_bytes`, and librdkafka's
// prefetch is capped by `queued_max_kbytes`, so a large backlog is not pulled into memory.
// Broker errors: retried with exponential backoff (100 ms .. 5 s) while the reason is shown in
// stats().reason; reading continues from the next unread offset. The topic's high watermark
// (stats().latest_offset, MessagesAfter) is asked of the broker about once a second.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "source/channel_reader.h"
#include "source/pack_queue.h"
#include "source/packer.h"

namespace cdc::source {

struct KafkaReaderOptions {
  std::string brokers;  // bootstrap.servers, e.g. "127.0.0.1:9092"
  std::string channel;  // topic = physical channel, e.g. "by-dev-rootcoord-dml_0"
  ChannelKind kind = ChannelKind::kDml;
  // Consumer group id; also written as msgGroup into end positions (SubscriptionName()).
  std::string group;
  std::map<std::string, std::string> config;  // extra librdkafka keys (SASL, TLS, ...)
  size_t max_queued_packs = 16;
  size_t max_queued_bytes = 16 << 20;  // payload bytes of queued packs (one pack always fits)
  int queued_max_kbytes = 16384;
};

class KafkaChannelReader final : public ChannelReader {
 public:
  explicit KafkaChannelReader(KafkaReaderOptions options);
  ~KafkaChannelReader() override;

  Status Start(const StartPosition& start) override;
  Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) override;
  ReaderStats stats() const override;
  // Kafka offsets are contiguous: latest_offset - (offset of `position` + 1), at least 0.
  int64_t MessagesAfter(const MsgPosition& position) const override;
  void Close() override;
  const std::string& channel() const override { return options_.channel; }

 private:
  struct Client;
  void Run();
  void HandleMessage(void* rkmessage);
  void ProbeTopic();
  // Refreshes stats_.latest_offset from the broker (bounded wait); reader thread only.
  void RefreshLatest();
  int64_t ResumeOffset() const;
  void Push(Pack pack);
  void SetReason(std::string reason);
  bool SleepInterruptible(std::chrono::milliseconds d);

  KafkaReaderOptions options_;
  // Shared with every Message handed out: librdkafka cannot be destroyed while any of its
  // messages is alive, so the last Message (or the reader) frees it.
  std::shared_ptr<Client> client_;
  std::unique_ptr<Packer> packer_;
  std::unique_ptr<SingleMessagePacker> single_;
  int64_t start_offset_ = 0;
  bool probe_failed_ = false;  // reader thread only

  PackQueue queue_;
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  ReaderStats stats_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace cdc::source

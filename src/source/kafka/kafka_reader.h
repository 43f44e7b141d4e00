#pragma once
// KafkaChannelReader: ChannelReader over librdkafka for one Milvus channel topic.
//
// Milvus writes every channel to partition 0 of a topic named after the channel; the reader
// assigns that partition (no group rebalancing, no offset commits: positions are ours) and
// seeks to the start offset. Its thread (ReaderCore) polls and hands messages to the shared
// core, which decodes, packs and queues them (at most max_queued_packs / max_queued_bytes);
// librdkafka's prefetch is capped by `queued_max_kbytes`, so a large backlog is not pulled into
// memory. Positions: msgID = the offset as 8 little-endian bytes (position.h).
// Broker errors: retried with exponential backoff (100 ms .. 5 s) while the reason is shown in
// stats().reason; reading continues from the next unread offset. The topic's high watermark
// (stats().latest_offset, MessagesAfter) is asked of the broker about once a second.
#include <map>
#include <memory>
#include <string>

#include "source/kafka/kafka_client.h"
#include "source/reader_core.h"

namespace cdc::source {

struct KafkaReaderOptions {
  ReaderOptions reader;  // channel = topic; the consumer group is SubscriptionName(owner, ...)
  std::string brokers;   // bootstrap.servers, e.g. "127.0.0.1:9092"
  std::map<std::string, std::string> config;  // extra librdkafka keys (SASL, TLS, ...)
  int queued_max_kbytes = 16384;              // librdkafka's prefetch per consumer
};

class KafkaChannelReader final : public ReaderCore {
 public:
  explicit KafkaChannelReader(KafkaReaderOptions options);
  ~KafkaChannelReader() override;

  // Kafka offsets are contiguous: latest_offset - (offset of `position` + 1), at least 0.
  int64_t MessagesAfter(const MsgPosition& position) const override;

 private:
  struct Client;
  Status Open(const StartPosition& start) override;
  void Run() override;
  void Release() override;
  // While the consumer is behind, keep the channel's end current (the backlog grows then), and
  // once it has not taken a pack for kPauseAfterWaits calls (about a second each: e.g. its
  // target is down), pause the partition: librdkafka then drops its prefetch (up to
  // queued_max_kbytes, mostly other collections' messages when the filter drops them) instead of
  // holding it for as long as the wait lasts. The next poll resumes at the next unread offset.
  void WhileQueueFull() override;
  void PauseFetching();
  void ResumeFetching();

  // Handles an error event of the consumer: reason, backoff, re-assign when the topic is back.
  void HandleError(rd_kafka_resp_err_t err, const std::string& what,
                   std::chrono::milliseconds* backoff);
  void HandleMessage(rd_kafka_message_t* m);
  void ProbeTopic();
  // Refreshes stats().latest_offset from the broker (bounded wait); reader thread only.
  void RefreshLatest();
  int64_t ResumeOffset() const;

  const KafkaReaderOptions options_;
  // Shared with every Message handed out: librdkafka cannot be destroyed while any of its
  // messages is alive, so the last Message (or the reader) frees it.
  std::shared_ptr<Client> client_;
  int64_t start_offset_ = 0;
  bool probe_failed_ = false;  // reader thread only
  int full_waits_ = 0;         // reader thread only: WhileQueueFull calls in the current Push
  bool paused_ = false;        // reader thread only: PauseFetching without ResumeFetching yet
};

}  // namespace cdc::source

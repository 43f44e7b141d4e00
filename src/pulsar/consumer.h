#pragma once
// Consumer: one subscription to one non-partitioned Pulsar topic over our own protocol client.
// Subscribes (Exclusive; durable or not; earliest / latest / from a message id, inclusive),
// keeps a bounded prefetch with FLOW permits, unpacks batches, verifies checksums, and can
// seek, get the last message id, acknowledge and reconnect: a reconnect resubscribes right
// after the last message handed out, so nothing is lost or repeated across broker restarts.
//
// Ownership and threads: owns its Connection; used by one thread (waits are bounded by the
// caller's timeout, so a reader stops promptly). Errors: Unavailable / DeadlineExceeded mean
// "call Reconnect() (with backoff)"; others need a fix (auth, topic name, partitioned topic).
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "pulsar/connection.h"
#include "pulsar/entry.h"

namespace cdc::pulsar {

struct ConsumerOptions {
  std::string topic;         // persistent://tenant/namespace/name
  std::string subscription;  // subscription name
  std::string consumer_name;
  bool durable = false;         // non-durable: the broker keeps no cursor after we leave
  bool start_earliest = false;  // initial position when `start_id` is unset (else latest)
  std::optional<proto::MessageIdData> start_id;  // first message to deliver (inclusive)
  uint32_t receiver_queue = 100;                 // FLOW permits: messages prefetched at most
};

struct ReceivedMessage {
  // ledgerId, entryId, partition -1, batch_index (0 outside a batch, as pulsar-client-go).
  proto::MessageIdData id;
  std::shared_ptr<const std::string> owner;  // keeps `payload` alive
  std::string_view payload;
  uint64_t publish_time = 0;
  size_t entry_bytes = 0;      // bytes of the stored entry (first message of an entry only)
  bool last_of_entry = false;  // no later message of the same entry follows
  // Non-empty when the entry could not be read (checksum mismatch, unsupported compression,
  // corrupt batch): payload is empty and the text says why, with topic and id.
  std::string error;
};

// Compares ids by (ledgerId, entryId, batch_index), as the broker orders them; batch index -1
// (outside a batch) equals 0.
int CompareIds(const proto::MessageIdData& a, const proto::MessageIdData& b);
std::string IdString(const proto::MessageIdData& id);  // "ledger:entry:batch"

class Consumer {
 public:
  // Looks the topic up, connects and subscribes. Errors name topic, broker and cause.
  static Result<std::unique_ptr<Consumer>> Subscribe(const ClientOptions& client,
                                                     const ConsumerOptions& options);
  ~Consumer();

  // Next message, or nullopt when none arrived within `timeout`.
  Result<std::optional<ReceivedMessage>> Receive(std::chrono::milliseconds timeout);

  // Moves the subscription to `id` (the next message received is `id`). Drops prefetched
  // messages. DeadlineExceeded if the broker does not answer within the operation timeout.
  Status Seek(const proto::MessageIdData& id);
  // Id of the last message stored in the topic (ledgerId/entryId -1 style values when empty).
  Result<proto::MessageIdData> GetLastMessageId();
  // Acknowledges `id` (individually, or everything up to it when `cumulative`).
  Status Ack(const proto::MessageIdData& id, bool cumulative);
  // Drops the connection and subscribes again (lookup included) right after the last message
  // handed out (or at the start position if none was).
  Status Reconnect();
  // CLOSE_CONSUMER and closes the connection; errors are returned but the consumer is closed.
  Status Close();

  const std::string& broker() const { return broker_; }
  uint64_t checksum_errors() const { return counts_.checksum_errors; }
  uint64_t reconnects() const { return counts_.reconnects; }
  const std::optional<proto::MessageIdData>& last_delivered() const { return last_delivered_; }
  int32_t broker_max_message_size() const;

 private:
  Consumer(ClientOptions client, ConsumerOptions options);
  Status Connect();
  Status SubscribeOnce();
  Status SendFlow(uint32_t permits);
  void Enqueue(Frame&& f);
  void HandleOther(Frame&& f);
  bool Wanted(const proto::MessageIdData& id) const;

  ClientOptions client_;
  ConsumerOptions options_;
  std::unique_ptr<Connection> conn_;
  std::string broker_;
  uint64_t consumer_id_ = 1;
  std::deque<Frame> incoming_;           // MESSAGE frames not yet unpacked
  std::deque<ReceivedMessage> pending_;  // unpacked, not yet handed out
  std::optional<proto::MessageIdData> last_delivered_;
  uint32_t permits_to_return_ = 0;
  bool need_resubscribe_ = false;
  bool need_reconnect_ = false;
  bool seek_on_subscribe_ = false;  // durable subscription with a start id: SEEK once
  // Where to resubscribe when nothing was handed out yet and the start was "latest": the
  // topic's last message id at subscribe time (exclusive).
  std::optional<proto::MessageIdData> latest_pin_;
  bool closed_ = false;
  struct {
    uint64_t checksum_errors = 0;
    uint64_t reconnects = 0;
  } counts_;
};

}  // namespace cdc::pulsar

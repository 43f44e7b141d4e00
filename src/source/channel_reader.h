#pragma once
// ChannelReader: reads one physical channel (a Kafka topic or Pulsar topic) of a source
// Milvus and hands out packs (see pack.h / packer.h). Backends live in kafka/ and pulsar/.
//
// Ownership and threads: a reader owns its client and one background thread that consumes,
// decodes headers and packs; Next() may be called from one consumer thread at a time.
// Internal buffering is bounded (a few packs plus the client's own bounded prefetch), so a
// backlog stays in the broker, not in memory.
// Errors: broker trouble is retried with backoff forever and shown by stats().reason; the
// reader resumes from where it stopped. Bad messages are counted and reported in
// Pack::errors and stats(), never dropped silently.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "source/collection_filter.h"
#include "source/pack.h"

namespace cdc::source {

// Where a reader starts.
struct StartPosition {
  enum class Kind { kEarliest, kLatest, kPosition };
  Kind kind = Kind::kLatest;
  // kPosition: a saved position (pack end position, a collection's start position from the
  // catalog, whose msgID is the MQ id and timestamp the create ts, or Broker::LatestPositions).
  // Seek is inclusive; an empty msgID is the channel's first message. Messages with
  // ts <= position.timestamp are skipped until the first tick at or after it, which the seek
  // consumes (as Milvus's Seek does); messages kept on the way join the next pack (so with
  // timestamp 0 nothing is skipped). Resuming from a pack's end position therefore reproduces
  // the following packs.
  MsgPosition position;

  static StartPosition Earliest() { return {Kind::kEarliest, {}}; }
  static StartPosition Latest() { return {Kind::kLatest, {}}; }
  static StartPosition At(MsgPosition p) { return {Kind::kPosition, std::move(p)}; }
};

enum class ChannelKind {
  kDml,        // time-tick stream: packs between ticks
  kReplicate,  // the replicate-msg channel: one request per pack
};

// How a reader is opened (every backend; Broker::OpenReader).
struct ReaderOptions {
  std::string channel;  // physical channel = topic base name, e.g. "by-dev-rootcoord-dml_0"
  ChannelKind kind = ChannelKind::kDml;
  // Who reads, e.g. the task id: the reader's subscription (Pulsar) or consumer group (Kafka) is
  // SubscriptionName(owner, channel), also written as msgGroup into end positions.
  std::string owner = "reader";
  size_t max_queued_packs = 16;
  size_t max_queued_bytes = 16 << 20;  // payload bytes of queued packs (one pack always fits)
  std::shared_ptr<const CollectionFilter> filter;  // as SetFilter(); may be null
};

// "cdc-<owner>-<channel>": unique per task and channel, recognisable in broker tooling
// (upstream names its subscriptions "cdc-<uuid>-8444-<vchannel>-<isMain>").
std::string SubscriptionName(std::string_view owner, std::string_view channel);

struct ReaderStats {
  uint64_t messages = 0;      // decoded messages (ticks included)
  uint64_t bytes = 0;         // payload bytes
  uint64_t packs = 0;         // packs handed out
  uint64_t bad_messages = 0;  // undecodable or unexpected type
  uint64_t skipped = 0;       // skipped by the resume rule
  uint64_t filtered = 0;      // dropped by the filter (collections the consumer never needs)
  uint64_t pauses = 0;        // fetching paused as the consumer took nothing for a while (Kafka)
  int64_t next_offset = -1;   // next MQ offset to read, when known
  // Offset one past the channel's last message (Kafka's high watermark), refreshed by the
  // reader about once a second; -1 when unknown or the MQ has no contiguous offsets.
  int64_t latest_offset = -1;
  std::string reason;  // last broker/decode problem, empty when healthy
};

class ChannelReader {
 public:
  virtual ~ChannelReader() = default;

  // Starts consuming from `start`. FailedPrecondition if already started; InvalidArgument for
  // a position of another channel or MQ type.
  virtual Status Start(const StartPosition& start) = 0;

  // Waits up to `timeout` for the next pack. nullopt on timeout. Cancelled once Close() ran.
  virtual Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) = 0;

  virtual ReaderStats stats() const = 0;

  // How many messages the channel holds after `position` (a position of this channel, e.g. a
  // pack's end position), from the reader's last view of the channel's end: cheap, no I/O.
  // -1 when unknown (not known yet, or the MQ cannot count, e.g. across Pulsar ledgers).
  virtual int64_t MessagesAfter(const MsgPosition& position) const {
    (void)position;
    return -1;
  }

  // Stops the thread and releases the client. Idempotent; safe from any thread.
  virtual void Close() = 0;

  virtual const std::string& channel() const = 0;

  // Messages of the collections in `filter` are dropped before they are packed and queued
  // (counted in stats().filtered); ticks are always kept. Call before Start().
  void SetFilter(std::shared_ptr<const CollectionFilter> filter) { filter_ = std::move(filter); }

  // Runs on the reader's thread each time a pack is queued, so that the consumer can wait for
  // packs instead of polling for them; `content` is false for a pack with nothing but its time
  // tick (no message, no error), which a consumer with nothing waiting may take later. It must
  // not block and must outlive Close(). Call before Start().
  using OnPack = std::function<void(bool content)>;
  void SetOnPack(OnPack on_pack) { on_pack_ = std::move(on_pack); }

 protected:
  // Whether a pack holds more than its time tick (see SetOnPack).
  static bool HasContent(const Pack& p) { return !p.msgs.empty() || !p.errors.empty(); }

  std::shared_ptr<const CollectionFilter> filter_;
  OnPack on_pack_;
};

}  // namespace cdc::source

#pragma once
// source::Broker: the source Milvus's message queue (Kafka or Pulsar) as milvus-cdc uses it:
// channel readers, how far a channel reaches past a position (lag), and where each channel ends
// right now (a task's fixed start). kafka/ and pulsar/ implement it; CreateBroker()
// (broker_factory.h) picks one from sourceConfig.
//
// Ownership and threads: one Broker per server, shared by every task; every method is
// thread-safe. A reader it opens owns its own client and may outlive the Broker.
// Errors: configuration mistakes are InvalidArgument naming the config key; an unreachable
// broker is Unavailable / DeadlineExceeded naming the broker and the channel.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/channel_reader.h"
#include "source/position.h"

namespace cdc::source {

class Broker {
 public:
  virtual ~Broker() = default;

  // "kafka 127.0.0.1:9092" or "pulsar pulsar://127.0.0.1:6650", for logs and messages.
  virtual std::string Describe() const = 0;

  // A reader of `options.channel`, not started yet (ChannelReader::Start). The broker sets the
  // transport's own buffering from options.max_queued_bytes.
  virtual Result<std::unique_ptr<ChannelReader>> OpenReader(const ReaderOptions& options) = 0;

  // How many messages the position's channel holds after `position` (a pack's end position or a
  // checkpoint), asking the broker at most once a second per channel (five seconds after a
  // failure) and waiting at most `timeout`. -1 when unknown: not a position of this queue, the
  // broker does not answer, or it cannot count (Pulsar without sourceConfig.pulsar.webAddress).
  // On Pulsar a batch counts once.
  virtual int64_t MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout) = 0;

  // Where each of `channels` ends now: for channels[i], a position p such that a reader started
  // with StartPosition::At(p) reads exactly the messages written to the channel after this call
  // and none before it. See LatestPositions in docs/source.md for how p is made. Waits at most
  // `timeout` for all channels together; an error names the broker and the channel.
  virtual Result<std::vector<MsgPosition>> LatestPositions(const std::vector<std::string>& channels,
                                                           std::chrono::milliseconds timeout) = 0;

  // For each of `positions` (a channel and a message id, e.g. where a collection was created):
  // true when the channel still holds that message, i.e. retention deleted nothing at or after
  // it, so a reader started there reads everything from it on. Waits at most `timeout` for all
  // together; an error names the broker and the channel. A position without a message id is
  // the channel's beginning, which every channel holds.
  virtual Result<std::vector<bool>> Holds(const std::vector<MsgPosition>& positions,
                                          std::chrono::milliseconds timeout) = 0;
};

}  // namespace cdc::source

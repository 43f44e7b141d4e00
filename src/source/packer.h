#pragma once
// Packer: turns the message sequence of one physical channel into packs the way Milvus's
// MqTtMsgStream does (pkg/mq/msgstream/mq_msgstream.go, 2.3/2.4):
//  - messages are buffered until a TimeTick with ts > the previous tick;
//  - the pack holds the buffered non-tick messages with ts <= tick (later ones stay buffered),
//    BeginTs = previous tick, EndTs = tick;
//  - StartPosition = the previous pack's end position (initially the start position, or an
//    empty msgID);
//  - EndPosition = the first still-buffered message's id, else the tick's own id, with
//    timestamp = tick and msgGroup = the subscription;
//  - Insert/Delete repeated with the same base.msgID inside one pack are dropped;
//  - when started from a saved position (seek, inclusive), messages are skipped until a tick
//    with ts >= position ts; messages on the way with ts > position ts are kept.
// With a CollectionFilter, messages of ignored collections are dropped on arrival (never
// buffered). The end position then may point past such a message, which a resume skips too:
// harmless, since the consumer would have ignored it.
// Not thread-safe: one Packer per channel, driven by the channel's reader thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/channel_reader.h"
#include "source/collection_filter.h"
#include "source/pack.h"

namespace cdc::source {

class Packer {
 public:
  // `resume_from`: the position the reader was seeked to, if any (then the skip rule above
  // applies with its timestamp). `group` is written into end positions' msgGroup.
  Packer(std::string channel, std::string group, std::optional<MsgPosition> resume_from,
         std::shared_ptr<const CollectionFilter> filter = nullptr);

  // Feeds the next message in channel order. Returns a pack when `msg` is a time tick that
  // closes one.
  std::optional<Pack> Add(Message msg);

  // Records a message that could not be decoded; it is reported in the next pack's errors.
  void AddError(std::string error);

  uint64_t last_tick() const { return last_ts_; }
  size_t buffered() const { return buffer_.size(); }
  uint64_t skipped() const { return skipped_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t filtered() const { return filtered_; }

 private:
  std::string channel_;
  std::string group_;
  std::shared_ptr<const CollectionFilter> filter_;
  bool seeking_ = false;
  uint64_t seek_ts_ = 0;
  uint64_t last_ts_ = 0;
  MsgPosition start_pos_;
  std::vector<Message> buffer_;
  std::vector<std::string> errors_;
  uint64_t skipped_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t filtered_ = 0;
};

// Replicate channel: every message is its own pack (BeginTs = EndTs = its ts, start and end
// position = its position). Messages with ts <= the resume position's ts are skipped, since
// a saved replicate position names the last request already handled.
class SingleMessagePacker {
 public:
  SingleMessagePacker(std::string channel, std::optional<MsgPosition> resume_from);
  std::optional<Pack> Add(Message msg);
  std::optional<Pack> AddError(std::string error);
  uint64_t skipped() const { return skipped_; }

 private:
  std::string channel_;
  uint64_t skip_ts_ = 0;
  uint64_t skipped_ = 0;
};

// The packer a channel kind needs behind one interface: Packer for a DML channel,
// SingleMessagePacker for the replicate channel. Not thread-safe (one reader thread).
class ChannelPacker {
 public:
  ChannelPacker(ChannelKind kind, std::string channel, std::string group,
                std::optional<MsgPosition> resume_from,
                std::shared_ptr<const CollectionFilter> filter);

  std::optional<Pack> Add(Message msg);
  // A message that is reported, not packed: in the next pack's errors (DML) or a pack of its own
  // (replicate channel).
  std::optional<Pack> AddError(std::string error);
  uint64_t skipped() const;
  uint64_t filtered() const;

 private:
  std::unique_ptr<Packer> dml_;
  std::unique_ptr<SingleMessagePacker> single_;
};

}  // namespace cdc::source

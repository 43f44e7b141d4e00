#pragma once
// replicate::Merger: merges the packs of several source DML channels into one stream ordered
// by timestamp, released up to a watermark.
//
// Every DML channel of a Milvus gets time ticks from the same TSO. The watermark W is the
// smallest latest tick over all channels: every message with ts <= W has been read on every
// channel, so releasing them in ts order (ties: Delete before Insert, as Milvus applies an
// upsert; then channel order) gives each target channel a stream whose timestamps never go
// below a tick we already sent it.
// Not thread-safe: owned and driven by the pipeline thread. Memory is bounded by the caller,
// which stops pulling a channel when Buffered(channel) or BufferedBytes() is high, unless the
// channel holds the watermark back (HoldsBack()).
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replicate/coalescer.h"
#include "source/pack.h"

namespace cdc::replicate {

struct MergedMessage {
  std::string channel;    // source pchannel
  source::Message msg;    // merged by coalescing when count > 1 (msg.header.timestamp: the latest)
  uint64_t first_ts = 0;  // the smallest ts of the source messages it holds
  size_t count = 1;       // source messages it holds
};

class Merger {
 public:
  Merger() = default;
  // With options.enabled, Take merges runs of each pack's Inserts/Deletes (replicate/coalescer.h)
  // with the time ticks of every channel as cuts, so that a watermark never splits a run.
  explicit Merger(CoalesceOptions coalesce) : coalescer_(coalesce) {}

  // A channel takes part in the watermark from now on (no pack yet: W is undefined).
  void AddChannel(const std::string& channel);
  bool HasChannel(const std::string& channel) const { return channels_.count(channel) > 0; }
  // Drops a channel and what it buffered (Milvus stops ticking a channel once no collection
  // uses it, so keeping it would hold the watermark back forever).
  void RemoveChannel(const std::string& channel) {
    if (auto it = channels_.find(channel); it != channels_.end()) bytes_ -= it->second.bytes;
    channels_.erase(channel);
    consumed_.erase(channel);
    drained_.erase(channel);
  }
  std::vector<std::string> Channels() const;

  void AddPack(source::Pack pack);

  // min over channels of their latest tick; nullopt with no channels or while one has none.
  std::optional<uint64_t> Watermark() const;

  // Removes and returns every buffered message with ts <= w, ordered as described above (a
  // coalesced message by its latest ts). `w` is a watermark (a tick of some channel).
  std::vector<MergedMessage> Take(uint64_t w);

  // Per channel, the end position of the last pack whose messages have all been taken.
  const std::map<std::string, source::MsgPosition>& Consumed() const { return consumed_; }

  // Per channel, the end position of the last pack whose data messages have all been taken;
  // its tick may still be above the watermark (then Consumed() stays behind it). What the
  // target has got of the channel, for lag reporting; never a checkpoint.
  const std::map<std::string, source::MsgPosition>& Drained() const { return drained_; }

  // Packs buffered for a channel, and those of them that still hold messages (the others are
  // time only: a few hundred bytes each).
  size_t Buffered(const std::string& channel) const;
  size_t BufferedWithData(const std::string& channel) const;
  // Payload bytes buffered over all channels.
  size_t BufferedBytes() const { return bytes_; }
  // True while the channel has no tick yet or its latest tick is the watermark: the watermark
  // cannot move until it is read further, so it must be pulled whatever is buffered.
  bool HoldsBack(const std::string& channel) const;
  const CoalesceStats& coalesce_stats() const { return coalescer_.stats(); }

 private:
  struct Channel {
    std::deque<source::Pack> packs;  // msgs of the front pack may be partly taken
    std::optional<uint64_t> latest_tick;
    size_t bytes = 0;      // payload bytes of `packs`
    size_t with_data = 0;  // packs with messages left
  };
  // The first tick (of any channel) at or above ts: the cut a coalesced run stays within.
  uint64_t Bucket(uint64_t ts) const;
  // Forgets ticks no buffered message can need any more.
  void PruneTicks();

  std::map<std::string, Channel> channels_;
  size_t bytes_ = 0;
  Coalescer coalescer_{CoalesceOptions{}};
  std::set<uint64_t> ticks_;  // ticks (pack begins and ends) of every channel, for the cuts
  std::map<std::string, source::MsgPosition> consumed_;
  std::map<std::string, source::MsgPosition> drained_;
};

}  // namespace cdc::replicate

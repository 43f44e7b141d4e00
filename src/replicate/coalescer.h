#pragma once
// replicate::Coalescer: turns runs of small Insert (or Delete) messages of one source pack into
// one message each, so that a target Milvus, which spends several ms on every message of a
// ReplicateMessage, gets fewer and larger ones (docs/replication.md, "Coalescing").
//
// A run: messages of one pack, in channel order, of the same type (Insert or Delete),
// collection, partition and shard (vchannel: the target shard follows from it) whose
// timestamps fall between the same two cut ticks (the caller's `bucket`: the first time tick
// of any source channel at or above the ts). A message of the same collection and shard with
// the other type in the same bucket ends its runs (those of every partition: Inserts of
// different partitions commute, so runs of two partitions may interleave), and so does any
// other message of the collection (a drop); a run never holds more than `max_bytes` payload
// bytes. The merged
// message keeps every row's own timestamp and row id (Delete: key and timestamp), in order; its
// begin/end timestamps (which Milvus derives from them) span the run.
//
// Deterministic: the same messages and cuts give byte-identical output with the same msgID,
// whatever round released them (the cut ticks make a round's watermark, itself a tick, never
// fall inside a run), so a pack re-sent after a crash is dropped by the target's duplicate
// check as its first copy was. The merged msgID is a hash of the run's msgIDs: a run formed
// differently never reuses the id of another run, so a mismatch could double rows but never
// make the target drop rows it did not have.
//
// A run that cannot be merged (a row-based Insert, fields that differ between its messages, a
// field type or protobuf field this version does not know) is passed on as its messages were,
// counted in CoalesceStats::fallbacks with the reason kept. Never drops a message.
// Not thread-safe: owned by the pipeline thread (inside Merger).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/message.h"

namespace cdc::replicate {

struct CoalesceOptions {
  bool enabled = false;
  size_t max_bytes = size_t{4} << 20;  // payload bytes of one merged message
};

struct CoalesceStats {
  uint64_t merged = 0;        // messages made of two or more source messages
  uint64_t folded = 0;        // source messages that went into them
  uint64_t fallbacks = 0;     // source messages sent as they were: their run could not be merged
  std::string last_fallback;  // why, for the log
};

// Adds the counters of `from` to `to` (last_fallback: the newer one, if any).
void AddCoalesceStats(const CoalesceStats& from, CoalesceStats* to);

// One message after coalescing: `msg` (merged or as read), the smallest ts of the source
// messages it holds and how many it holds.
struct CoalescedMessage {
  source::Message msg;
  uint64_t first_ts = 0;
  size_t count = 1;
};

// Merges serialized msg.InsertRequest (or msg.DeleteRequest) payloads of one run into one,
// with base.msgID `msg_id`. InvalidArgument naming what differs or is unknown.
Result<std::string> MergeInserts(const std::vector<std::string_view>& payloads, int64_t msg_id);
Result<std::string> MergeDeletes(const std::vector<std::string_view>& payloads, int64_t msg_id);
// The msgID of a merged message: a hash of its source messages' ids (positive, never 0).
int64_t CoalescedMsgId(const std::vector<int64_t>& ids);

class Coalescer {
 public:
  explicit Coalescer(CoalesceOptions options) : options_(options) {}

  // `msgs`: messages of one pack in channel order (those a round takes). `bucket`: for a ts,
  // the first cut tick at or above it. Returns them with each run merged, in the order of
  // each run's first message.
  std::vector<CoalescedMessage> Apply(std::vector<source::Message> msgs,
                                      const std::function<uint64_t(uint64_t)>& bucket);

  const CoalesceOptions& options() const { return options_; }
  const CoalesceStats& stats() const { return stats_; }

 private:
  void Emit(std::vector<source::Message> run, std::vector<CoalescedMessage>* out);

  CoalesceOptions options_;
  CoalesceStats stats_;
};

}  // namespace cdc::replicate

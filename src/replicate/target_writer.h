#pragma once
// replicate::TargetWriter: the data edge of a pipeline. Batches rewritten Insert/Delete
// messages per target pchannel into ReplicateMessage calls (source ts order kept, at most
// max_batch_bytes a call), sends drop messages and time ticks, and remembers per target
// channel the last tick sent and the position the target answered.
//
// Ticks never go backwards per channel (a target ignores a non-increasing tick) and a channel
// keeps getting them once it has had one: a Milvus 2.3 datanode sets up its watch of a new
// channel only after a tick there, one watch at a time, so a silent channel would hold back
// every later watch (docs/replication.md, "Time ticks").
//
// Per target channel the writer keeps the messages' timestamps above every tick and message it
// sent there, in the order it sends them: Milvus expects a channel's messages in timestamp
// order (docs/replication.md, "Timestamps on the target"). A message that would land below
// (a collection set aside and resumed) goes out stamped just above them instead; the
// messages after it keep above it, equal source timestamps (an upsert's delete and insert)
// staying equal. Initial sync's pages always go out at the wall clock (SendFresh): stamped as
// planned, below another task's ticks on the same channel, their rows were lost on the
// target. The source timestamps are still what checkpoints and acked() record. A sink with a
// position per message (the Kafka sink) gets the source timestamps unchanged.
//
// When the target refuses a batch for good (not a retryable error) and the batch holds
// messages of several collections, each collection's messages are sent on their own, so that
// one collection the target refuses does not stop the others: the refused collections are
// returned to the caller, which sets them aside (replicate/quarantine.h).
// Not thread-safe: owned by the pipeline thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "replicate/checkpoint.h"
#include "replicate/round.h"
#include "source/message.h"
#include "target/client.h"

namespace cdc::replicate {

// What the target acknowledged of Insert/Delete data since the writer was made (metrics).
struct AppliedCounts {
  uint64_t messages = 0;
  uint64_t rows = 0;   // num_rows of the Insert and Delete messages
  uint64_t bytes = 0;  // serialized message bytes
};

// The highest tick any pipeline of this process sent per target channel (key: the target's
// Describe() and the channel), so that a task behind another one on the same target stamps its
// messages above the other's ticks (without it, two tasks on one target lost rows on Pulsar).
// Thread-safe.
// Writes to one channel are serialized through Lock(key), so that no other pipeline's tick
// lands between a message's stamp and its send.
class TickFloors {
 public:
  uint64_t Get(const std::string& key) const;
  void Raise(const std::string& key, uint64_t ts);
  std::mutex& Lock(const std::string& key);

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> floors_;
  std::map<std::string, std::unique_ptr<std::mutex>> locks_;
};

class TargetWriter {
 public:
  TargetWriter(target::Client* target, size_t max_batch_bytes,
               std::shared_ptr<TickFloors> shared = nullptr);

  // Queues one rewritten Insert/Delete of `collection_id` for target channel `channel`; sends
  // that channel's batch first when the message would take it over the size cap.
  Status Add(const std::string& channel, std::string bytes, const source::Message& src,
             int64_t collection_id, Round* round, std::map<int64_t, Status>* refused);
  // Sends every pending batch. Collections the target refused for good are added to
  // `refused` (their messages are not sent); the others are.
  Status FlushAll(Round* round, std::map<int64_t, Status>* refused);
  // Sends one message (a drop) to each of `channels` in its own call, after their batches.
  Status SendToEach(const std::set<std::string>& channels, const std::string& bytes,
                    const source::Message& src, Round* round);
  // Sends a tick `w` to every channel in `in_use` or ticked before, when due: always after
  // data in this round (or with `force`), else at most every `idle_tick`.
  Status SendTicks(uint64_t w, const std::set<std::string>& in_use, bool force, const Round& round,
                   std::chrono::milliseconds idle_tick);

  const std::map<std::string, TargetPosition>& positions() const { return positions_; }
  // Per collection, the highest source ts of its messages the target took since the last
  // ResetAcked() (a collection set aside part-way through a round resumes after them).
  const std::map<int64_t, uint64_t>& acked() const { return acked_; }
  void ResetAcked() { acked_.clear(); }
  // Forgets the batches (their round is given up and will be read again).
  void DropPending() { batches_.clear(); }
  const AppliedCounts& applied() const { return applied_; }
  // Sends `msgs` (Insert/Delete, stamped `planned_ts`) to `channel` in one call, all stamped
  // with one fresh timestamp above everything sent there before (initial sync's copied
  // pages); returns it.
  Result<uint64_t> SendFresh(const std::string& channel, std::vector<std::string> msgs,
                             uint64_t planned_ts);
  // Messages sent with a timestamp of their own instead of their source's (see above).
  uint64_t restamped() const { return restamped_; }
  // The wall clock as a hybrid timestamp (tests replace it).
  void SetClock(std::function<uint64_t()> now) { now_ = std::move(now); }

 private:
  struct Batch {
    std::vector<std::string> msgs;
    std::vector<int64_t> collections;  // of each message
    std::vector<uint64_t> ts;          // of each message
    std::vector<uint64_t> rows;        // of each message
    size_t bytes = 0;
    std::string first_msg_id, last_msg_id;       // source MQ ids, for Start/EndPositions
    std::vector<source::MsgPosition> positions;  // of each message (for a sink that wants them)
  };
  // What went out on a channel: the highest timestamp (ticks and messages), and the last
  // message's source and sent timestamps.
  struct ChannelClock {
    uint64_t floor = 0;
    uint64_t last_src = 0;
    uint64_t last_out = 0;
  };
  // The timestamp a message of source ts `src` goes out with on `channel` (and records it),
  // above `others` (the highest tick another pipeline sent there).
  uint64_t Stamp(const std::string& channel, uint64_t src, uint64_t others);
  uint64_t OthersFloor(const std::string& channel) const;
  // Held while a channel's messages are stamped and sent (empty without `shared`).
  std::unique_lock<std::mutex> LockChannel(const std::string& channel);
  uint64_t Now() const;
  // `msgs` with the timestamps Stamp gives them (rewritten only where they differ); `out_ts`
  // and `positions` get the sent ones.
  Result<std::vector<std::string>> Stamped(const std::string& channel,
                                           const std::vector<std::string>& msgs,
                                           const std::vector<uint64_t>& src_ts, bool dml,
                                           std::vector<uint64_t>* out_ts,
                                           std::vector<source::MsgPosition>* positions);
  Status FlushChannel(const std::string& channel, Round* round, std::map<int64_t, Status>* refused);
  Status SendBatch(const std::string& channel, const Batch& b, uint64_t round_w);
  Status Split(const std::string& channel, const Batch& b, uint64_t round_w,
               std::map<int64_t, Status>* refused);
  // `positions`: each message's source position, given to a target that asks for them
  // (target::Client::PositionPerMessage).
  Status Send(const std::string& channel, std::vector<std::string> msgs, uint64_t begin_ts,
              uint64_t end_ts, const std::string& first_id, const std::string& last_id,
              const std::vector<source::MsgPosition>& positions = {});
  void Acked(const Batch& b);

  target::Client* target_;
  size_t max_batch_bytes_;
  std::map<std::string, Batch> batches_;             // target pchannel -> pending data
  std::map<std::string, uint64_t> last_tick_;        // target pchannel -> last tick sent
  std::map<std::string, TargetPosition> positions_;  // target pchannel -> last answer
  std::map<int64_t, uint64_t> acked_;
  std::map<std::string, ChannelClock> clocks_;
  uint64_t restamped_ = 0;
  std::function<uint64_t()> now_;
  std::shared_ptr<TickFloors> shared_;  // null: this writer's own ticks only
  std::string shared_prefix_;           // the target, in TickFloors keys
  AppliedCounts applied_;
};

}  // namespace cdc::replicate

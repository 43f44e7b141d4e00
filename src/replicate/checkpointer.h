#pragma once
// replicate::Checkpointer: owns a task's checkpoint: where each source channel is read from,
// what each collection has applied, and writing it to the meta store after the target
// acknowledged a round.
//
// Rows (meta::PositionRecord, upstream's task_position layout, replicate/checkpoint.h):
//  - one per replicated collection: its source pchannels -> position (msg id to seek to) with
//    TS = the watermark up to which that collection's messages reached the target. Normally
//    every collection on a channel has the same position; a collection set aside
//    (replicate/quarantine.h) keeps the one it had, so it resumes where it stopped;
//  - kStartRow (-1, upstream's row for user-supplied positions): every source DML channel the
//    task knows, including channels no collection uses yet; written at create (the task's
//    fixed start, replicate/start_point.h) and advanced with every checkpoint;
//  - kReplicateChannelRow (-10): the replicate-msg channel's position, plus the requests not
//    yet taken by the target ("Pending", replicate/ddl_applier.h), so none is lost in a crash,
//    the partition loads applied ("PartitionLoads", replicate/partition_loads.h) and the
//    source's roles and grants as applied ("Rbac", replicate/rbac_sync.h).
// On load, a channel is read from the smallest position of any row naming it; each
// collection then skips its own messages at or below its TS (AppliedTs). A row never moves
// back: a collection already past a round keeps its row.
// Not thread-safe: owned by the pipeline thread. Errors name the task and the store.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meta/store.h"
#include "replicate/checkpoint.h"
#include "source/position.h"

namespace cdc::replicate {

// The row of kStartRow: upstream's collection id for positions given by the user.
constexpr int64_t kStartRow = -1;

struct CollectionRow {
  std::string name;
  std::map<std::string, source::MsgPosition> positions;  // source pchannel
  uint64_t ts = 0;         // messages at or below it reached the target
  std::string sync_state;  // initial sync (replicate/initial_sync.h), "" when none
};

// What the checkpoint writer needs to know about the task's collections now.
struct CheckpointView {
  // Mapped collections: id -> (name, source pchannels).
  std::map<int64_t, std::pair<std::string, std::vector<std::string>>> collections;
  std::set<int64_t> frozen;                       // set aside: their rows keep what they have
  std::map<std::string, TargetPosition> targets;  // target pchannel -> last answer
  std::map<int64_t, std::vector<std::string>> target_channels;  // collection -> target pchannels
  std::string pending_json = "[]";                              // replicate requests not taken yet
  std::string partition_loads_json = "{}";  // replicate/partition_loads.h, applied states
  std::string rbac_json = "{}";             // replicate/rbac_sync.h, the source as applied
};

class Checkpointer {
 public:
  Checkpointer(std::string task_id, meta::Store* store, std::string replicate_channel);

  // Reads the task's rows (replacing what is held).
  Status Load();
  // The position to read `channel` from: the smallest of the rows naming it; nullopt if none.
  std::optional<source::MsgPosition> StartOf(const std::string& channel) const;
  // True once the task has a start row (tasks created since the fixed start); older tasks
  // start channels without a position as they used to (latest, or a new collection's create).
  bool has_start_row() const { return has_start_row_; }
  // Messages of `collection_id` at or below this ts reached the target (0: none known).
  uint64_t AppliedTs(int64_t collection_id) const;
  // The task has a row of its own for the collection (it replicated it before).
  // (Also a row loaded at the start that a checkpoint since dropped as unmapped: a collection
  // dropped on the source while the task was stopped is never mapped again.)
  bool HasRow(int64_t collection_id) const {
    return rows_.count(collection_id) > 0 || loaded_.count(collection_id) > 0;
  }
  // The channels of rows loaded at the start whose collection is not in `mapped`: a
  // collection dropped while the task was stopped; its drop is still to be read there.
  std::set<std::string> UnmappedRowChannels(const std::function<bool(int64_t)>& mapped) const;
  // The collection names of its rows (no database: rows keep the name only).
  std::vector<std::string> RowNames() const;
  // The highest watermark of any row (what the target had at the last checkpoint).
  uint64_t Watermark() const;
  const std::optional<source::MsgPosition>& replicate() const { return replicate_; }
  const std::string& pending_json() const { return pending_json_; }
  const std::string& partition_loads_json() const { return partition_loads_json_; }
  const std::string& rbac_json() const { return rbac_json_; }
  void set_replicate(source::MsgPosition p) { replicate_ = std::move(p); }
  // A channel's position as last known (read from here on), for rows of new collections.
  void SetChannel(const std::string& channel, const source::MsgPosition& p);
  // Forgets a channel no collection uses any more (its start-row entry stays as it is).
  void RetireChannel(const std::string& channel) { channels_.erase(channel); }
  // A dropped collection: its row is deleted with the next Write.
  void DropRow(int64_t collection_id);
  // A collection set aside: its row keeps its positions (filled from `if_none` when it has
  // none yet) and says at least `applied_ts` applied; Write leaves it alone while it is in
  // CheckpointView::frozen.
  void Freeze(int64_t collection_id, const std::string& name,
              const std::map<std::string, source::MsgPosition>& if_none, uint64_t applied_ts);
  // The initial-sync state of a collection's row ("" when none); written with the next Write.
  std::string SyncState(int64_t collection_id) const;
  void SetSyncState(int64_t collection_id, std::string state_json);
  // Collections whose rows carry an initial-sync state.
  std::vector<int64_t> SyncingCollections() const;
  // Where `channel` is known to be read from (the last written or started position).
  std::optional<source::MsgPosition> Known(const std::string& channel) const;
  // Writes a row for a collection about to be created on the target, now, unless it has one:
  // a crash before the next checkpoint then still leaves a row, whose channels are read after
  // the restart, so that a drop on the source meanwhile also drops the copy (Pipeline's
  // DropUnmapped). `positions` are where its channels are read from, as in Write.
  Status Reserve(int64_t collection_id, const std::string& name,
                 std::map<std::string, source::MsgPosition> positions);

  // Writes the checkpoint of watermark `w`: `consumed` are the channel positions every
  // message before which has been handled (Merger::Consumed), `view` the collections.
  Status Write(uint64_t w, const std::map<std::string, source::MsgPosition>& consumed,
               const CheckpointView& view);

  // Per channel, where a task resumes (smallest position over its rows; the replicate channel
  // left out): the stored checkpoint of a task that is not running, for its lag.
  static Result<std::map<std::string, source::MsgPosition>> ResumePositions(
      meta::Store* store, const std::string& task_id);

 private:
  std::string task_id_;
  meta::Store* store_;
  std::string replicate_channel_;
  std::map<int64_t, CollectionRow> rows_;  // by collection id
  // Every row any Load() saw (id -> name, id -> channels), until the collection is dropped.
  std::map<int64_t, std::string> loaded_;
  std::map<int64_t, std::set<std::string>> loaded_channels_;
  std::map<std::string, source::MsgPosition> start_;     // kStartRow
  std::map<std::string, source::MsgPosition> channels_;  // known position per channel
  std::optional<source::MsgPosition> replicate_;
  std::string pending_json_ = "[]";
  std::string partition_loads_json_ = "{}";
  std::string rbac_json_ = "{}";
  std::set<int64_t> to_delete_;
  bool has_start_row_ = false;
};

}  // namespace cdc::replicate

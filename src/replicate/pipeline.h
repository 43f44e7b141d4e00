#pragma once
// replicate::Pipeline: replicates one task from a source Milvus to a target Milvus.
//
// One thread per pipeline. It reads every source DML channel that carries a selected
// collection plus the source's replicate-msg channel (requests), merges the DML channels by
// timestamp up to the common watermark W (replicate/merger.h) and, before releasing W, makes
// the source catalog view cover W (CatalogView::Sync after the tick W was read: every
// collection, partition and database created before W is then known, its channels join the
// merge first, and no message or request is decided with a view older than it). Creates do
// not wait for that: a collection or partition the catalog's watch shows is created on the
// target at once, between rounds (the loop wakes on catalog changes); its channels join the
// merge once a covered watermark passes its create (docs/replication.md). Per round:
//   1. walks the released messages in ts order: Insert/Delete are rewritten to the target's
//      collection/partition ids and shard names and batched per target pchannel
//      (replicate/target_writer.h); creates reach the target before data; a drop, a database
//      request or a collection create first sends the batches before it, then calls the
//      target with replicateInfo{msgTimestamp = its ts} (a drop reaches the round only when
//      every channel has passed its ts); index, load/release and flush requests go to
//      replicate::DdlApplier, which applies them beside the pipeline, in order per collection;
//   2. sends the remaining batches (one ReplicateMessage per target pchannel);
//   3. writes the checkpoint after the target acknowledged the round (replicate/checkpointer.h);
//   4. sends a time tick W to every target pchannel in use or ticked since the start.
// A tick never precedes the checkpoint of the data before it, so after a crash the re-sent
// round lands in the same time-tick window on the target as its first copy, where Milvus
// drops Insert/Delete messages whose msgID it already saw (docs/replication.md).
//
// One collection never blocks the others: a collection the target refuses (its create, a
// partition, its data) is set aside with its reason (replicate/quarantine.h) while the rest
// goes on, retried with backoff, and resumes from its own checkpoint once it passes. Nothing
// is skipped silently: what is not applied is counted by kind (Health().skipped), logged with
// channel and position, and named in the task's reason.
//
// Faults: a retryable error (target, broker, etcd, meta store unreachable) keeps the round's
// progress, reports a reason and retries with backoff (init_backoff doubling to max_backoff);
// a target that refuses replication altogether calls on_failure and ends the thread.
// Threads: Start() spawns the thread, Stop() joins it; Progress()/Health()/RefreshReason() may
// be called from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "meta/store.h"
#include "replicate/catalog_view.h"
#include "replicate/coalescer.h"
#include "replicate/selection.h"
#include "replicate/target_writer.h"
#include "source/channel_reader.h"
#include "target/client.h"
#include "target/milvus_reader.h"
#include "task/name_map.h"

namespace cdc::replicate {

using ReaderFactory = std::function<Result<std::unique_ptr<source::ChannelReader>>(
    const std::string& channel, source::ChannelKind kind)>;
using TargetFactory = std::function<Result<std::unique_ptr<target::Client>>()>;

struct PipelineOptions {
  std::string task_id;
  Selection selection;
  task::NameMap names;  // target names of the selected collections (name_mapping)
  // The source's replicate-msg channel (e.g. by-dev-replicate-msg); empty: not read.
  std::string replicate_channel;
  // Hybrid ts of the task's creation. Only for tasks created before the fixed start (no start
  // row in the checkpoint): collections created later are read from their first message, older
  // ones from the latest message (as upstream).
  uint64_t task_start_ts = 0;
  // extra_info.enable_user_role: roles, memberships and grants follow the source's
  // (replicate/rbac_sync.h).
  bool enable_user_role = false;
  std::chrono::milliseconds poll{100};  // idle re-check; readers wake the loop at once (SetOnPack)
  std::chrono::milliseconds idle_checkpoint{1000};
  std::chrono::milliseconds idle_tick{200};
  std::chrono::milliseconds init_backoff{250};
  std::chrono::milliseconds max_backoff{10000};
  size_t max_buffered_packs = 64;  // per DML channel
  // Payload bytes of source messages buffered between the readers and the target, over all of
  // the task's DML channels (a channel holding the watermark back may still add one pack at a
  // time). Each reader queues up to max_queued_bytes more.
  size_t max_buffered_bytes = size_t{256} << 20;
  size_t max_batch_bytes = 16 << 20;  // per ReplicateMessage call
  // Runs of small Inserts/Deletes of a source pack go to the target as one message each
  // (replicate/coalescer.h; config key coalesce.enabled, on by default in cdc.yaml).
  CoalesceOptions coalesce;
};

// One collection the task cannot replicate right now, or whose requests wait.
struct CollectionHealth {
  std::string name;   // db.collection (source)
  std::string state;  // "set_aside" (its changes wait) or "requests_waiting"
  std::string reason;
  int64_t since_ms = 0;
};

// How far initial sync of one collection is.
struct CollectionSync {
  std::string name;   // db.collection (source)
  std::string phase;  // "replaying", "copying", "done"
  int64_t rows_copied = 0;
  int64_t rows_estimated = 0;
  int64_t eta_s = -1;  // -1 unknown
};

struct PipelineHealth {
  std::vector<CollectionHealth> collections;
  std::vector<CollectionSync> initial_sync;
  std::map<std::string, uint64_t> skipped;  // kind -> messages/requests not applied, with why
  AppliedCounts applied;                    // Insert/Delete data the target acknowledged
  std::map<std::string, uint64_t> retries;  // status code name -> rounds retried after an error
  CoalesceStats coalesce;                   // messages merged, and runs that could not be
};

struct PipelineDeps {
  std::unique_ptr<CatalogView> catalog;
  TargetFactory connect_target;
  ReaderFactory make_reader;
  meta::Store* store = nullptr;
  std::function<void(const std::string& reason)> on_reason;   // "" once healthy again
  std::function<void(const std::string& reason)> on_failure;  // the thread has ended
  // Test hook (fault injection): called after the target acknowledged a round's data and
  // before its checkpoint is written, the widest window for a re-send after a crash.
  std::function<void(uint64_t watermark)> after_ack;
  // The source's proxy, for initial sync's query way (copy_step.cc); unset = not configured.
  std::function<Result<std::shared_ptr<target::MilvusReader>>()> source_reader;
  // The ticks every pipeline of the process sent per target channel (null: its own only).
  std::shared_ptr<TickFloors> tick_floors;
  int64_t copy_page_rows = 4000;  // rows per page of the query way
  int64_t copy_rows_per_s = 0;    // the query way's pace over all copies; 0 = no limit
};

struct ChannelProgress {
  std::string channel;         // source pchannel
  std::string position;        // DescribePosition of the checkpoint ("" before the first)
  uint64_t checkpoint_ts = 0;  // hybrid ts of the checkpoint
  uint64_t applied_ts = 0;     // hybrid ts up to which the channel reached the target
  // now - applied time (0 when nothing is pending); messages of the channel after the last
  // one applied (ChannelReader::MessagesAfter). -1 = unknown.
  int64_t lag_ms = -1;
  int64_t lag_messages = -1;
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, PipelineDeps deps);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void Start();
  // Stops reading, writes the checkpoint of what the target acknowledged, joins the thread.
  void Stop();

  std::vector<ChannelProgress> Progress() const;
  PipelineHealth Health() const;
  // Publishes the task's reason again if it changed meanwhile: the readers' part is live, so a
  // broker outage shows while the pipeline's thread waits in a long call. With `resend`, also
  // when it did not change: a receiver that dropped an earlier one (see replicator.cc) gets it
  // again. Any thread; the replicator calls it twice a second, with `resend` every 2 s.
  void RefreshReason(bool resend = false);
  // Hybrid ts of the last round fully applied to the target (0 before the first).
  uint64_t applied_ts() const { return applied_.load(); }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> applied_{0};
  std::thread thread_;
};

}  // namespace cdc::replicate

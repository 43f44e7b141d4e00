#pragma once
// Private to the pipeline's files: the state of one Pipeline, owned by its thread.
//   pipeline.cc   the loop: start, readers, the catalog watermark, rounds, checkpoints, progress
//   round.cc      a round's data: Insert/Delete rewritten and batched, ticks
//   stream_ddl.cc creates, drops and replicate-channel requests; collections set aside
#include <deque>
#include <optional>
#include <set>

#include "replicate/checkpointer.h"
#include "replicate/collection_map.h"
#include "replicate/ddl_applier.h"
#include "replicate/initial_sync.h"
#include "replicate/merger.h"
#include "replicate/partition_loads.h"
#include "replicate/pipeline.h"
#include "replicate/quarantine.h"
#include "replicate/rbac_sync.h"
#include "replicate/round.h"
#include "replicate/target_writer.h"
#include "replicate/wire_rewrite.h"
#include "target/pk_pager.h"

namespace cdc::replicate {

// What the task reads: its DML channel readers, the replicate-channel reader and what it read,
// the merge, and the collections the readers drop on arrival.
struct Sources {
  std::map<std::string, std::unique_ptr<source::ChannelReader>> dml;  // by source pchannel
  std::unique_ptr<source::ChannelReader> replicate;
  std::deque<source::Message> requests;  // read from the replicate channel, not released yet
  Merger merger;
  // Not selected, dropped or skipped (shared with every DML reader; only grows).
  std::shared_ptr<source::CollectionFilter> ignored = std::make_shared<source::CollectionFilter>();
  // Per source pchannel, how far the target has got it (Merger::Drained after a round).
  std::map<std::string, source::MsgPosition> applied;
};

// The loop's own bookkeeping.
// A collection initial sync copies by query (copy_step.cc), while it is set aside.
struct CopyJob {
  MappedCollection c;  // the mapping when the copy began
  std::shared_ptr<target::MilvusReader> reader;
  std::chrono::steady_clock::time_point next_try{};
  std::chrono::milliseconds backoff{0};
};

struct LoopState {
  bool initialized = false;
  uint64_t applied = 0;           // watermark of the last round fully applied
  uint64_t catalog_covered = 0;   // highest watermark the catalog view was synced after
  int64_t catalog_revision = -1;  // view revision when the map was last brought up to date
  int64_t early_revision = -1;    // view revision CreateEarly last looked at
  // Collections CreateEarly created on the target before a covered watermark passed their
  // create: id -> create ts. Their channels join the merge only then (SettleEarly): a
  // collection dropped before any tick of its channel may leave that channel without a tick
  // for good (seen on Milvus 2.3.5), which would hold the watermark back forever.
  std::map<int64_t, uint64_t> early;
  std::chrono::steady_clock::time_point last_checkpoint{}, last_progress{};
  std::string skipped;  // the last thing not applied (stays in the reason for 10 minutes)
  std::chrono::steady_clock::time_point skipped_at{};  // when `skipped` was set
  // Collections dropped on the source before this process could map them that may still be on
  // the target (an earlier process created them there, or they were set aside): their
  // messages are not filtered out, so that their DropCollection drops them there by name.
  std::map<int64_t, std::string> drop_pending;  // id -> collection name ("" if unknown)
  // The query way reads no page before this (deps.copy_rows_per_s).
  std::chrono::steady_clock::time_point copy_paced_until{};
  std::chrono::milliseconds backoff{0};
  std::shared_ptr<target::MilvusReader> source_reader;  // the source's proxy, once connected
  // Partition loads (load_follow.cc): when the source's load state was last read; off when the
  // catalog view keeps none.
  std::chrono::steady_clock::time_point last_load_poll{};
  bool loads_off = false;
  std::string loads_error;  // the last read of the load state failed: why (in the reason)
  std::string rbac_error;   // the last read of the source's roles failed: why (likewise)
  // The step failed on the meta store or the source catalog's etcd: a retry costs one small
  // call there, so the backoff stops at kCheapMaxBackoff (a stale reason for less long).
  bool cheap_failure = false;
  bool loads_started = false;        // the load state was read once since the start
  std::set<int64_t> reconcile_once;  // followed before the start: one reconcile each
  std::set<std::pair<int64_t, int64_t>> load_waits;  // (collection, partition) logged as unknown
  // Roles and grants (rbac_follow.cc): when the source's were last read; what was reported as
  // not applied (each once per process).
  std::chrono::steady_clock::time_point last_rbac_poll{};
  std::set<std::string> rbac_reported;
  CoalesceStats coalesced;  // of the mergers a Rewind replaced
};

// What other threads read (under mu).
struct SharedState {
  std::mutex publish_mu;  // one PublishReason at a time, so that reasons arrive in order
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool catalog_moved = false;           // the catalog view changed since the loop last slept
  bool packs_queued = false;            // a reader queued a pack with content since the loop slept
  bool ticks_queued = false;            // a reader queued a tick-only pack since the loop slept
  bool wake_on_ticks = true;            // the sleeping loop waits for a tick (see Quiet())
  std::string reason;                   // as last published (on_reason)
  bool published = false;               // the first reason goes out even if "" (see Publish)
  std::string loop_error;               // the loop's part of it: its last error ("" = none),
  std::vector<std::string> loop_parts;  // and what waits or was not applied
  // The readers of the task (DML channels and the replicate channel), so that their reasons
  // reach the task's reason while the loop waits in a long call (e.g. to the target).
  std::map<std::string, const source::ChannelReader*> readers;
  int64_t step_since_ms = 0;               // when the loop's current step began; 0 between steps
  const target::Client* target = nullptr;  // set once connected; lives as long as the Impl
  std::vector<ChannelProgress> progress;
  PipelineHealth health;
  std::string applier_skipped;  // the last request the DdlApplier found moot, for Report()
};

class Pipeline::Impl {
 public:
  Impl(PipelineOptions options, PipelineDeps deps, std::atomic<uint64_t>* applied);
  void Run();
  void RequestStop();
  std::vector<ChannelProgress> Progress() const;
  PipelineHealth Health() const;
  // Publishes the task's reason (on_reason) if it changed (or `resend`): the loop's part, what
  // the readers report now, and how long the current step has waited, if long. Any thread.
  void PublishReason(bool resend = false);
  const std::string& task_id() const { return opts_.task_id; }

 private:
  // pipeline.cc
  Status Init();
  Status Step(bool* progressed);
  Status PullReaders(bool* progressed);
  Status StartChannel(const std::string& channel);
  Status SyncChannels();
  void RetireChannels();
  // Channels of rows loaded at the start whose collection is not mapped (UnmappedRowChannels).
  std::set<std::string> UnmappedRowChannels() const;
  // A checkpoint row for a collection about to be created on the target (Checkpointer::Reserve).
  Status ReserveRow(const CollectionMeta& meta);
  // Makes the catalog view cover `w` (sync after the tick was read) and maps what is new.
  // False when channels joined the merge (the watermark must be computed again).
  Result<bool> CoverCatalog(uint64_t w);
  Status SyncCatalog();
  // Creates on the target, at once, the collections and partitions the catalog's watch shows
  // created since it last looked, without waiting for a watermark to cover them (a create
  // before its data is always safe; drops, renames, aliases and properties still wait for
  // CoverCatalog). A collection whose target name another collection the task knows still
  // holds (a drop and re-create of that name) waits for CoverCatalog too.
  Status CreateEarly(bool* progressed);
  bool TargetNameHeld(const CollectionMeta& meta) const;
  // After the view covered `w`: early collections created at or below `w` that live join the
  // merge; those dropped meanwhile (no data of theirs was read) are dropped on the target.
  Status SettleEarly(uint64_t w);
  Status WriteCheckpoint(uint64_t w);
  // deps_.catalog->Sync(), noting a failure as cheap to retry (LoopState::cheap_failure).
  Status SyncSourceCatalog();
  // Sets the loop's part of the task's reason (what waits, what was not applied, or `error`)
  // and publishes the reason.
  void Report(const std::string& error = "");
  void UpdateProgress();
  std::string CollectionName(int64_t id) const;
  // Adds or removes (nullptr) a reader from the ones the published reason names.
  void ShowReader(const std::string& channel, const source::ChannelReader* reader);
  // What ends a sleep early: a change of the catalog view (also its return after an etcd
  // outage), or that and a pack a reader queued.
  enum class Wake { kNever, kOnCatalog, kOnInput };
  // Sleeps up to `d` (false once stopped). With kOnInput, a tick-only pack ends it only if
  // `on_ticks`.
  bool SleepFor(std::chrono::milliseconds d, Wake wake = Wake::kNever, bool on_ticks = true);
  // Called by the readers' threads (SetOnPack): wakes the loop's idle sleep (for a tick-only
  // pack only if the loop waits for one).
  void PackQueued(bool content);
  // Nothing waits for a watermark (no message or request buffered, no round, copy or create
  // under way): a source tick then changes nothing but the watermark, which the idle poll
  // (idle_tick / 2) takes soon enough for the target's ticks and the checkpoint.
  bool Quiet() const;
  void Shutdown();
  // Stops reading, forgets what is buffered and starts again from the checkpoint, so that the
  // `recovered` collections (set aside until now) catch up from their own rows.
  Status Rewind(const std::vector<int64_t>& recovered);

  // round.cc
  Status RunRound();
  Status Process(const RoundItem& item);
  Status ProcessDml(const MergedMessage& m);
  Status FlushData();
  Status FinishRound();

  // stream_ddl.cc
  Status ProcessDropCollection(const MergedMessage& m);
  // The drop of a collection the task replicated before a restart and no longer maps.
  Status DropUnmapped(const MergedMessage& m);
  // DropDatabase on the target; stale collections of this task there are dropped first.
  Status DropDatabase(const MergedMessage& m, const std::string& db);
  Status ProcessDropPartition(const MergedMessage& m);
  Status ProcessCreateCollection(const MergedMessage& m);
  Status ProcessCreatePartition(const MergedMessage& m);
  Status ProcessRequest(const MergedMessage& m);
  Status QueueCollectionRequest(const MergedMessage& m, const std::string& db,
                                const std::string& collection);
  // The mapped collection a request names, mapping it from the (covered) catalog if needed;
  // nullptr when the task does not replicate it (then *why says why, "" = not selected).
  Result<MappedCollection*> ForRequest(const std::string& db, const std::string& name,
                                       std::string* why);
  // Maps a collection (creating it on the target); a refusal that concerns only it sets it
  // aside and answers nullptr.
  Result<MappedCollection*> Map(const CollectionMeta& meta);
  std::vector<std::pair<std::string, std::string>> SourceProperties(const CollectionMeta& m);
  // Partitions of a mapped collection that the catalog has and the task has not yet.
  Status AddPartitions(MappedCollection& c, const CollectionMeta& meta);
  // Sets a collection aside after the target refused `s` for it.
  // `planned`: not a refusal (initial sync's copy), logged by the caller.
  void SetAside(int64_t id, const std::string& name, const Status& s, bool planned = false);
  // Tries the set-aside collections that are due; those the target takes now are returned.
  Status RetrySetAside(std::vector<int64_t>* recovered);
  // Loads the initial-sync states of the checkpoint's rows.
  Status LoadSync();
  // True while initial sync still copies a collection's rows by query (it is set aside
  // meanwhile, its stream waiting in its row); starts the copy (copy_step.cc) if needed.
  bool AwaitsCopy(const MappedCollection& c);
  // One page of every copy that is due (copy_step.cc).
  Status StepCopies(bool* progressed);
  Status StepCopy(int64_t id, CopyJob& job, CopyState& state);
  void Pace(int64_t rows);
  Status SendCopyPage(CopyJob& job, CopyState& state, const target::PkPage& page,
                      const std::string& partition);
  // The Delete (rewritten like the Insert with `overrides`) that makes a replayed Insert of a
  // copied collection an upsert.
  Result<std::string> UpsertDelete(const MappedCollection& c, std::string_view insert_payload,
                                   const FieldOverrides& overrides);
  // load_follow.cc: reads the source's load state (at most once a second) and queues the
  // partition loads and releases it shows with the replicate channel's requests.
  Status FollowPartitionLoads();
  // rbac_follow.cc: with enable_user_role, reads the source's roles and grants (at most once a
  // second) and brings the target's to them (replicate/rbac_sync.h).
  Status FollowRbac();

  // A message or request not applied: counted by kind, logged, kept in the reason.
  void Skip(const std::string& kind, const std::string& what);
  // Drops a collection on the target: true once dropped; false when the target refuses it for
  // good (counted as collection_drop_refused_by_target, named in the reason: the others go on);
  // a retryable or authentication error is returned (the whole task waits).
  Result<bool> DropOnTarget(const std::string& db, const std::string& collection, uint64_t ts);

  PipelineOptions opts_;
  PipelineDeps deps_;
  std::atomic<uint64_t>* applied_out_;
  std::unique_ptr<target::Client> target_;
  std::unique_ptr<TargetWriter> writer_;
  // Declared after target_, which it uses, so that it is destroyed first.
  std::unique_ptr<DdlApplier> ddl_;
  std::unique_ptr<CollectionMap> map_;
  Checkpointer checkpoints_;
  Sources sources_;
  Round round_;
  Quarantine quarantine_;
  SyncTracker sync_;                   // initial sync of the collections that existed at the start
  std::map<int64_t, CopyJob> copies_;  // initial sync's copies by query, by collection
  PartitionLoads loads_;               // partition loads followed from the source's etcd
  RbacSync rbac_;                      // roles and grants followed from the source's etcd
  LoopState loop_;
  SharedState shared_;
};

}  // namespace cdc::replicate

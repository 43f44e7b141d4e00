#pragma once
// replicate::MilvusReplicator: task::Replicator that runs one replicate::Pipeline per Running
// task, reading the source's channels through a source::Broker and its catalog through etcd
// (both shared by all tasks),
// writing to the task's target Milvus and checkpointing into the meta store.
//
// Threads: Start/Stop from the task manager (never concurrently for one task). Reasons and
// failures are delivered to TaskEvents from a separate notifier thread, so a pipeline never
// blocks on the manager's lock while the manager waits in Stop().
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "etcd/types.h"
#include "meta/store.h"
#include "replicate/pipeline.h"
#include "replicate/source_catalog_view.h"
#include "replicate/start_point.h"
#include "source/broker.h"
#include "source/shared_reader.h"
#include "task/replicator.h"

namespace cdc::replicate {

struct ReplicatorOptions {
  etcd::ClientOptions source_etcd;
  source::CatalogOptions catalog;
  std::string replicate_chan;  // the source's replicate-msg channel
  // The targets' own replicate-msg channel, used by the readiness probe.
  std::string target_replicate_chan = "by-dev-replicate-msg";
  std::chrono::milliseconds time_tick_interval{200};
  // Per task: source payload bytes buffered in the pipeline; each reader queues a quarter more.
  size_t read_buffer_bytes = size_t{256} << 20;
  // Backoff between retries of a failing round (retry.initBackOff / retry.maxBackOff).
  std::chrono::milliseconds init_backoff{250};
  std::chrono::milliseconds max_backoff{10000};
  // Several servers sharing tasks (src/ha): wraps each task's target client, e.g. in a gate
  // that refuses writes once this server may no longer write for the task. Unset: none.
  std::function<std::unique_ptr<target::Client>(const std::string& task_id,
                                                std::unique_ptr<target::Client> client)>
      wrap_target;
  // Test hook (milvus-cdc --test-crash-after-ack): exit at once, like kill -9, after the target
  // acknowledged a round's data and before its checkpoint. Never in production.
  bool crash_after_ack_for_tests = false;
  // The source's DML channel count (rootCoord.dmlChannelNum; sourceConfig.channelNum).
  int source_channel_num = 16;
  // How long create waits for the source's queue and catalog while it fixes a task's start.
  std::chrono::milliseconds fix_start_timeout{15000};
  // initialSync.way: query (ours): copy every collection by query even where the queue still
  // holds its history (to test or compare the two ways).
  bool initial_sync_query_only = false;
  // The source's proxy (sourceConfig.milvus), for initial sync's query way; unset = none.
  std::function<Result<std::shared_ptr<target::MilvusReader>>()> source_reader;
  // Rows per page of the query way (initialSync.queryBatchRows).
  int64_t copy_page_rows = 4000;
  // Rows per second the query way reads from the source, per task (initialSync.
  // queryRowsPerSecond); 0 = as fast as it goes.
  int64_t copy_rows_per_s = 0;
  // coalesce.enabled / coalesce.maxMessageBytes: runs of small Inserts/Deletes as one message.
  CoalesceOptions coalesce;
  // sourceConfig.sharedReaders: one reader per source channel for all tasks of this server
  // (source/shared_reader.h); false = one per task and channel.
  bool shared_readers = true;
};

// The collections a task replicates: its collection_infos / db_collections ("*" of database
// default meaning every database) minus the names other tasks own. The pipeline's rule; verify
// uses it too.
Selection TaskSelection(const task::TaskInfo& task);

class MilvusReplicator final : public task::Replicator {
 public:
  // `broker` (the source queue) and `store` are not owned and outlive the replicator.
  MilvusReplicator(ReplicatorOptions options, source::Broker* broker, meta::Store* store);
  // Prometheus text about the shared source readers ("" when sharedReaders is off).
  std::string RenderMetrics() const;
  ~MilvusReplicator() override;

  void Attach(task::TaskEvents* events) override;
  // Reads where every source channel ends now (source::Broker::LatestPositions) and stores it
  // as the task's start (replicate/start_point.h); with initial_sync, also the collections it
  // copies and how (replayed from the queue when it still holds their first message).
  Status FixStart(const task::TaskInfo& task) override;
  Status Start(const task::TaskInfo& task) override;
  Status Stop(const std::string& task_id) override;

  // Per source channel checkpoint and lag of a running task (empty if not running).
  std::vector<ChannelProgress> Progress(const std::string& task_id) const;
  // Running pipelines answer from their readers; other tasks (paused, or not started yet)
  // from their stored checkpoint and Broker::MessagesAfter (bounded).
  std::vector<task::ChannelLag> Lag(const std::string& task_id) override;
  task::TaskHealth Health(const std::string& task_id) override;

 private:
  // The selected collections that exist at the task's create, each with its indexes, load
  // state, estimated rows and whether the queue still holds it from its first message.
  Result<std::vector<SeedCollection>> InitialSyncSeeds(const task::TaskInfo& task,
                                                       const std::vector<CollectionMeta>& existing,
                                                       std::chrono::milliseconds timeout);
  void Notify(std::string task_id, std::string reason, bool failure);
  void NotifierLoop();

  ReplicatorOptions options_;
  source::Broker* broker_;
  meta::Store* store_;
  SharedSourceCatalog catalog_;
  std::unique_ptr<source::SharedReaders> shared_readers_;  // null: sharedReaders off
  // Every task's ticks per target channel (target_writer.h).
  std::shared_ptr<TickFloors> tick_floors_ = std::make_shared<TickFloors>();
  task::TaskEvents* events_ = nullptr;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines_;
  std::set<std::string> running_;

  struct Event {
    std::string task_id, reason;
    bool failure;
  };
  std::mutex events_mu_;
  std::condition_variable events_cv_;
  std::deque<Event> queue_;
  bool stop_ = false;
  std::thread notifier_;
};

}  // namespace cdc::replicate

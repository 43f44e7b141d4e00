#pragma once
// Private to pipeline.cc / round.cc: the state of one Pipeline, owned by its thread.
#include <deque>
#include <optional>
#include <set>

#include "replicate/checkpoint.h"
#include "replicate/collection_map.h"
#include "replicate/flush_retrier.h"
#include "replicate/merger.h"
#include "replicate/pipeline.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

class Pipeline::Impl {
 public:
  Impl(PipelineOptions options, PipelineDeps deps, std::atomic<uint64_t>* applied);
  void Run();
  void RequestStop();
  std::vector<ChannelProgress> Progress() const;

 private:
  struct Item {
    bool replicate = false;  // from the replicate-msg channel
    MergedMessage m;
  };
  struct Batch {
    std::vector<std::string> msgs;
    size_t bytes = 0;
    uint64_t max_ts = 0;
    std::string first_msg_id, last_msg_id;  // source MQ ids, for Start/EndPositions
  };

  // pipeline.cc
  Status Init();
  Status Step(bool* progressed);
  Status PullReaders(bool* progressed);
  Status StartChannel(const std::string& channel);
  Status SyncChannels();
  // Stops reading channels that no mapped collection uses any more.
  void RetireChannels();
  Status SyncCatalog();
  Status WriteCheckpoint(uint64_t w);
  void SetReason(const std::string& reason);
  // Recomputes progress_ (checkpoint and lag per DML channel), at most every 200 ms.
  void UpdateProgress();
  bool SleepFor(std::chrono::milliseconds d);
  void Shutdown();

  // round.cc
  Status RunRound();
  Status Process(const Item& item);
  Status ProcessDml(const MergedMessage& m);
  Status ProcessDropCollection(const MergedMessage& m);
  Status ProcessDropPartition(const MergedMessage& m);
  Status ProcessCreateCollection(const MergedMessage& m);
  Status ProcessCreatePartition(const MergedMessage& m);
  Status ProcessReplicateRequest(const MergedMessage& m);
  MappedCollection* FindForRequest(const std::string& db, const std::string& collection,
                                   Status* error);
  // Sends a drop message, rewritten by `ov`, to every target pchannel of `c`.
  Status ForwardToTargets(const MappedCollection& c, const MergedMessage& m,
                          const FieldOverrides& ov);
  Status FlushBatches();
  Status SendPack(const std::string& target_channel, std::vector<std::string> msgs,
                  uint64_t begin_ts, uint64_t end_ts, const std::string& first_id,
                  const std::string& last_id);
  Status SendTicks(uint64_t w, bool force);

  PipelineOptions opts_;
  PipelineDeps deps_;
  std::atomic<uint64_t>* applied_out_;

  std::unique_ptr<target::Client> target_;
  // Replicated Flush requests, sent beside the pipeline (replicate/flush_retrier.h); declared
  // after target_, which it uses, so that it is destroyed first.
  std::unique_ptr<FlushRetrier> flushes_;
  std::unique_ptr<CollectionMap> map_;
  // Collections the readers drop on arrival (shared with every DML reader and each map_).
  std::shared_ptr<source::CollectionFilter> ignored_ = std::make_shared<source::CollectionFilter>();
  bool initialized_ = false;

  std::map<std::string, std::unique_ptr<source::ChannelReader>> readers_;  // DML, by pchannel
  std::unique_ptr<source::ChannelReader> replicate_reader_;
  Merger merger_;
  std::deque<source::Message> replicate_queue_;

  // Checkpoint state loaded at start / written after rounds.
  std::map<std::string, source::MsgPosition> saved_positions_;  // source pchannel
  std::optional<source::MsgPosition> replicate_position_;
  std::map<std::string, TargetPosition> target_positions_;
  std::set<int64_t> dropped_rows_;             // position rows to delete at the next checkpoint
  std::map<std::string, uint64_t> last_tick_;  // target pchannel -> last tick sent
  // Per source pchannel, how far the target has got it (Merger::Drained after a round).
  std::map<std::string, source::MsgPosition> applied_positions_;
  std::chrono::steady_clock::time_point last_progress_{};

  // The round in progress (kept across retries).
  bool round_active_ = false;
  uint64_t round_w_ = 0;
  bool round_has_dml_channels_ = false;
  std::vector<Item> round_items_;
  size_t round_index_ = 0;
  std::map<std::string, Batch> batches_;  // target pchannel -> pending data
  std::set<std::string> round_data_channels_;
  bool round_data_sent_ = false;
  bool round_checkpointed_ = false;
  uint64_t applied_ = 0;

  std::chrono::steady_clock::time_point last_checkpoint_{};
  std::chrono::steady_clock::time_point last_catalog_sync_{};
  std::chrono::milliseconds backoff_ = opts_.init_backoff;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  std::string reason_;
  // The last source message that could not be replicated (kept in the task's reason so a skip
  // is never silent); pipeline thread only.
  std::string skipped_;
  std::vector<ChannelProgress> progress_;
};

}  // namespace cdc::replicate

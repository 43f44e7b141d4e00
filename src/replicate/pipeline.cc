#include "replicate/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "replicate/pipeline_impl.h"
#include "source/position.h"

namespace cdc::replicate {

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Pipeline::Pipeline(PipelineOptions options, PipelineDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(deps), &applied_)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { impl_->Run(); });
}

void Pipeline::Stop() {
  impl_->RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::vector<ChannelProgress> Pipeline::Progress() const { return impl_->Progress(); }

Pipeline::Impl::Impl(PipelineOptions options, PipelineDeps deps, std::atomic<uint64_t>* applied)
    : opts_(std::move(options)), deps_(std::move(deps)), applied_out_(applied) {}

void Pipeline::Impl::RequestStop() {
  std::lock_guard l(mu_);
  stop_ = true;
  cv_.notify_all();
}

bool Pipeline::Impl::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock l(mu_);
  cv_.wait_for(l, d, [this] { return stop_; });
  return !stop_;
}

void Pipeline::Impl::SetReason(const std::string& reason) {
  {
    std::lock_guard l(mu_);
    if (reason == reason_) return;
    reason_ = reason;
  }
  if (!reason.empty()) spdlog::warn("task {}: {}", opts_.task_id, reason);
  if (deps_.on_reason) deps_.on_reason(reason);
}

std::vector<ChannelProgress> Pipeline::Impl::Progress() const {
  std::lock_guard l(mu_);
  auto out = progress_;
  for (auto& p : out) {
    if (p.lag_messages == 0) {
      p.lag_ms = 0;  // nothing pending
    } else if (p.applied_ts > 0) {
      p.lag_ms = std::max<int64_t>(0, NowMs() - HybridToMs(p.applied_ts));
    }
  }
  return out;
}

void Pipeline::Impl::UpdateProgress() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_progress_ < std::chrono::milliseconds(200)) return;
  last_progress_ = now;
  std::vector<ChannelProgress> progress;
  for (const auto& [ch, reader] : readers_) {
    ChannelProgress p;
    p.channel = ch;
    if (auto it = saved_positions_.find(ch); it != saved_positions_.end()) {
      p.position = source::DescribePosition(it->second);
      p.checkpoint_ts = it->second.timestamp();
    }
    const source::MsgPosition* applied = nullptr;
    if (auto it = applied_positions_.find(ch); it != applied_positions_.end()) {
      applied = &it->second;
    } else if (auto s = saved_positions_.find(ch); s != saved_positions_.end()) {
      applied = &s->second;
    }
    if (applied != nullptr) {
      p.applied_ts = applied->timestamp();
      p.lag_messages = reader->MessagesAfter(*applied);
    }
    progress.push_back(std::move(p));
  }
  std::lock_guard l(mu_);
  progress_ = std::move(progress);
}

void Pipeline::Impl::Run() {
  while (true) {
    {
      std::lock_guard l(mu_);
      if (stop_) break;
    }
    bool progressed = false;
    Status s = initialized_ ? Step(&progressed) : Init();
    if (initialized_) UpdateProgress();
    if (s.ok()) {
      backoff_ = opts_.init_backoff;
      std::string reader_reason;
      for (const auto& [ch, r] : readers_) {
        auto st = r->stats();
        if (!st.reason.empty())
          reader_reason = absl::StrCat("read source channel ", ch, ": ", st.reason);
      }
      if (reader_reason.empty() && flushes_) reader_reason = flushes_->Reason();
      SetReason(reader_reason.empty() ? skipped_ : reader_reason);
      if (!progressed) SleepFor(opts_.poll);
      continue;
    }
    const bool retry = IsRetryable(s) || s.code() == StatusCode::kNotFound ||
                       s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnknown;
    if (!retry) {
      std::string reason = absl::StrCat("replication stopped: ", std::string(s.message()));
      SetReason(reason);
      Shutdown();
      if (deps_.on_failure) deps_.on_failure(reason);
      return;
    }
    SetReason(absl::StrCat(s.message(), " (retrying in ", backoff_.count(), " ms)"));
    if (!SleepFor(backoff_)) break;
    backoff_ = std::min(backoff_ * 2, opts_.max_backoff);
  }
  Shutdown();
}

void Pipeline::Impl::Shutdown() {
  // Only a finished round has a consistent checkpoint; a partial one is re-sent on resume.
  if (initialized_ && !round_active_) {
    Status s = WriteCheckpoint(applied_);
    if (!s.ok())
      spdlog::warn("task {}: final checkpoint: {}", opts_.task_id, std::string(s.message()));
  }
  if (flushes_) flushes_->Stop();
  for (auto& [_, r] : readers_) r->Close();
  if (replicate_reader_) replicate_reader_->Close();
}

Status Pipeline::Impl::Init() {
  if (!target_) {
    ASSIGN_OR_RETURN(target_, deps_.connect_target());
    flushes_ = std::make_unique<FlushRetrier>(
        opts_.task_id, target_.get(),
        FlushRetrierOptions{.init_backoff = opts_.init_backoff, .max_backoff = opts_.max_backoff});
  }
  auto ready = target_->CheckReplicationReady();
  if (!ready.ok()) {
    // Only "deny to use the replicate message" (a normal instance) and transport trouble
    // stop us; another answer means the probe channel is not the target's replicate channel.
    if (ready.status().code() == StatusCode::kFailedPrecondition || IsRetryable(ready.status()))
      return ready.status();
    spdlog::warn("task {}: readiness probe: {}", opts_.task_id,
                 std::string(ready.status().message()));
  }
  map_ = std::make_unique<CollectionMap>(opts_.selection, deps_.catalog.get(), target_.get(),
                                         ignored_);

  ASSIGN_OR_RETURN(auto rows, deps_.store->ListPositions(opts_.task_id));
  saved_positions_.clear();
  for (const auto& row : rows) {
    auto decoded = DecodeSourcePositions(row.positions_json);
    if (!decoded.ok()) {
      return Annotate(decoded.status(), absl::StrCat("load checkpoint task=", opts_.task_id,
                                                     " collection=", row.collection_id, " from ",
                                                     deps_.store->Describe()));
    }
    for (auto& [ch, pos] : *decoded) {
      if (row.collection_id == kReplicateChannelRow) {
        replicate_position_ = pos;
        continue;
      }
      auto it = saved_positions_.find(ch);
      if (it == saved_positions_.end() || it->second.timestamp() < pos.timestamp())
        saved_positions_[ch] = pos;
    }
  }
  for (const auto& [_, pos] : saved_positions_) applied_ = std::max(applied_, pos.timestamp());
  applied_out_->store(applied_);

  RETURN_IF_ERROR(SyncCatalog());
  RETURN_IF_ERROR(SyncChannels());
  if (!opts_.replicate_channel.empty() && !replicate_reader_) {
    ASSIGN_OR_RETURN(auto reader,
                     deps_.make_reader(opts_.replicate_channel, source::ChannelKind::kReplicate));
    RETURN_IF_ERROR(reader->Start(replicate_position_
                                      ? source::StartPosition::At(*replicate_position_)
                                      : source::StartPosition::Latest()));
    replicate_reader_ = std::move(reader);
  }
  last_catalog_sync_ = std::chrono::steady_clock::now();
  last_checkpoint_ = std::chrono::steady_clock::now();
  initialized_ = true;
  spdlog::info("task {}: replicating {} collections from {} channels to {}", opts_.task_id,
               map_->collections().size(), readers_.size(), target_->Describe());
  return OkStatus();
}

Status Pipeline::Impl::SyncCatalog() {
  ASSIGN_OR_RETURN(auto all, deps_.catalog->ListCollections());
  for (const auto& meta : all) {
    if (MappedCollection* c = map_->Find(meta.id)) {
      // Milvus 2.3 writes no CreatePartition to the DML channels: new partitions come from here.
      for (const auto& p : meta.partitions) {
        if (c->source_partitions.count(p.id)) continue;
        RETURN_IF_ERROR(map_->AddPartition(*c, p.id, p.name, p.create_ts));
      }
      continue;
    }
    if (map_->Known(meta.id)) continue;
    ASSIGN_OR_RETURN(auto mapped, map_->Ensure(meta));
    (void)mapped;
  }
  return OkStatus();
}

Status Pipeline::Impl::StartChannel(const std::string& channel) {
  source::StartPosition start = source::StartPosition::Latest();
  if (auto it = saved_positions_.find(channel); it != saved_positions_.end()) {
    start = source::StartPosition::At(it->second);
  } else {
    // Collections created after the task started are read from their create message. Milvus'
    // TSO can lag the wall clock that stamped the task, so a collection created right after
    // the task may carry an older ts: collections from the last kNewCollectionSlack before the
    // task count as new too (reading a create message early only copies more, never less).
    constexpr uint64_t kNewCollectionSlack = uint64_t{10000} << 18;  // 10 s as a hybrid ts
    const uint64_t new_after =
        opts_.task_start_ts > kNewCollectionSlack ? opts_.task_start_ts - kNewCollectionSlack : 0;
    std::optional<source::MsgPosition> earliest;
    for (const auto& [_, c] : map_->collections()) {
      if (c.source.create_ts <= new_after) continue;
      auto id = c.source.start_msg_ids.find(channel);
      if (id == c.source.start_msg_ids.end() || id->second.empty()) continue;
      if (earliest && earliest->timestamp() <= c.source.create_ts) continue;
      source::MsgPosition p;
      p.set_channel_name(channel);
      p.set_msgid(id->second);
      // Keep the create message itself (the reader skips ts <= position ts).
      p.set_timestamp(c.source.create_ts > 0 ? c.source.create_ts - 1 : 0);
      earliest = p;
    }
    if (earliest) start = source::StartPosition::At(*earliest);
  }
  ASSIGN_OR_RETURN(auto reader, deps_.make_reader(channel, source::ChannelKind::kDml));
  reader->SetFilter(ignored_);
  RETURN_IF_ERROR(reader->Start(start));
  spdlog::info("task {}: reading {} from {}", opts_.task_id, channel,
               start.kind == source::StartPosition::Kind::kPosition
                   ? source::DescribePosition(start.position)
                   : std::string("the latest message"));
  readers_[channel] = std::move(reader);
  merger_.AddChannel(channel);
  return OkStatus();
}

Status Pipeline::Impl::SyncChannels() {
  for (const auto& ch : map_->SourcePChannels())
    if (!readers_.count(ch)) RETURN_IF_ERROR(StartChannel(ch));
  return OkStatus();
}

Status Pipeline::Impl::PullReaders(bool* progressed) {
  for (auto& [ch, r] : readers_) {
    while (true) {
      const bool full = merger_.Buffered(ch) >= opts_.max_buffered_packs ||
                        merger_.BufferedBytes() >= opts_.max_buffered_bytes;
      // A full buffer stops every channel while a round is in progress (e.g. retrying a target
      // that is down) and otherwise the channels that are ahead; the one holding the watermark
      // back gets one pack at a time, which the next round releases, so nothing waits forever.
      if (full && (round_active_ || !merger_.HoldsBack(ch))) break;
      auto next = r->Next(std::chrono::milliseconds(0));
      if (!next.ok()) return Annotate(next.status(), "read source channel " + ch);
      if (!next->has_value()) break;
      source::Pack pack = std::move(**next);
      pack.channel = ch;
      for (const auto& e : pack.errors)
        spdlog::warn("task {}: source channel {}: {}", opts_.task_id, ch, e);
      merger_.AddPack(std::move(pack));
      *progressed = true;
      if (full) break;
    }
  }
  if (replicate_reader_) {
    while (replicate_queue_.size() < 1024) {
      auto next = replicate_reader_->Next(std::chrono::milliseconds(0));
      if (!next.ok())
        return Annotate(next.status(), "read source channel " + opts_.replicate_channel);
      if (!next->has_value()) break;
      for (auto& m : (*next)->msgs) {
        spdlog::debug("task {}: read replicate request {} ts={} (watermark {})", opts_.task_id,
                      source::MsgTypeName(m.header.type), m.header.timestamp,
                      merger_.Watermark().value_or(0));
        replicate_queue_.push_back(std::move(m));
      }
      *progressed = true;
    }
  }
  return OkStatus();
}

Status Pipeline::Impl::WriteCheckpoint(uint64_t w) {
  std::map<std::string, source::MsgPosition> positions = saved_positions_;
  for (const auto& [ch, pos] : merger_.Consumed()) positions[ch] = pos;
  for (auto& [_, pos] : positions) pos.set_timestamp(std::max<uint64_t>(pos.timestamp(), w));

  std::vector<meta::PositionRecord> rows;
  for (const auto& [id, c] : map_->collections()) {
    std::map<std::string, source::MsgPosition> mine;
    for (const auto& ch : c.source.pchannels)
      if (auto it = positions.find(ch); it != positions.end()) mine[ch] = it->second;
    std::map<std::string, TargetPosition> targets;
    for (const auto& [_, r] : c.routes)
      if (auto it = target_positions_.find(r.target_pchannel); it != target_positions_.end())
        targets[r.target_pchannel] = it->second;
    meta::PositionRecord row;
    row.task_id = opts_.task_id;
    row.collection_id = id;
    row.collection_name = c.source.name;
    row.positions_json = EncodeSourcePositions(mine);
    row.target_positions_json = EncodeTargetPositions(targets);
    rows.push_back(std::move(row));
  }
  if (replicate_position_) {
    meta::PositionRecord row;
    row.task_id = opts_.task_id;
    row.collection_id = kReplicateChannelRow;
    row.collection_name = opts_.replicate_channel;
    row.positions_json = EncodeSourcePositions({{opts_.replicate_channel, *replicate_position_}});
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) {
    RETURN_IF_ERROR(
        Annotate(deps_.store->PutPositions(rows), "write checkpoint task=" + opts_.task_id));
  }
  for (auto it = dropped_rows_.begin(); it != dropped_rows_.end();) {
    RETURN_IF_ERROR(deps_.store->DeletePosition(opts_.task_id, *it));
    it = dropped_rows_.erase(it);
  }
  saved_positions_ = positions;
  last_checkpoint_ = std::chrono::steady_clock::now();
  return OkStatus();
}

Status Pipeline::Impl::Step(bool* progressed) {
  RETURN_IF_ERROR(PullReaders(progressed));
  auto now = std::chrono::steady_clock::now();
  if (now - last_catalog_sync_ >= opts_.catalog_poll) {
    RETURN_IF_ERROR(SyncCatalog());
    RETURN_IF_ERROR(SyncChannels());
    last_catalog_sync_ = now;
  }
  if (!round_active_) {
    const bool dml = !merger_.Channels().empty();
    std::optional<uint64_t> w;
    if (dml) {
      auto wm = merger_.Watermark();
      if (wm && *wm > applied_) w = *wm;
    } else if (!replicate_queue_.empty()) {
      w = applied_;
      for (const auto& m : replicate_queue_) w = std::max(*w, m.header.timestamp);
    }
    if (!w) return OkStatus();
    round_w_ = *w;
    round_has_dml_channels_ = dml;
    round_items_.clear();
    for (auto& m : merger_.Take(round_w_)) round_items_.push_back({false, std::move(m)});
    while (!replicate_queue_.empty() && replicate_queue_.front().header.timestamp <= round_w_) {
      round_items_.push_back(
          {true, {opts_.replicate_channel, std::move(replicate_queue_.front())}});
      replicate_queue_.pop_front();
    }
    std::stable_sort(round_items_.begin(), round_items_.end(), [](const Item& a, const Item& b) {
      return a.m.msg.header.timestamp < b.m.msg.header.timestamp;
    });
    round_index_ = 0;
    round_active_ = true;
  }
  *progressed = true;
  return RunRound();
}

}  // namespace cdc::replicate

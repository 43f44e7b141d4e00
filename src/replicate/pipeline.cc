#include "replicate/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hybrid_time.h"
#include "common/thread_name.h"
#include "replicate/collection_extras.h"
#include "replicate/pipeline_impl.h"
#include "source/position.h"
#include "target/readiness.h"

namespace cdc::replicate {
namespace {
// The loop's backoff after a failure on the meta store or the source catalog (LoopState).
constexpr std::chrono::milliseconds kCheapMaxBackoff{2000};
}  // namespace

Pipeline::Pipeline(PipelineOptions options, PipelineDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(deps), &applied_)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    NameThread(absl::StrCat("task-", Tail(impl_->task_id(), 10)));
    impl_->Run();
  });
}

void Pipeline::Stop() {
  impl_->RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::vector<ChannelProgress> Pipeline::Progress() const { return impl_->Progress(); }
PipelineHealth Pipeline::Health() const { return impl_->Health(); }
void Pipeline::RefreshReason(bool resend) { impl_->PublishReason(resend); }

Pipeline::Impl::Impl(PipelineOptions options, PipelineDeps deps, std::atomic<uint64_t>* applied)
    : opts_(std::move(options)),
      deps_(std::move(deps)),
      applied_out_(applied),
      checkpoints_(opts_.task_id, deps_.store, opts_.replicate_channel),
      // A collection set aside is retried at most every 2 minutes: each resume reads its
      // channels again from where it stopped.
      quarantine_(opts_.init_backoff,
                  std::max(opts_.max_backoff, std::chrono::milliseconds(120000))) {
  loop_.backoff = opts_.init_backoff;
  sources_.merger = Merger(opts_.coalesce);
}

void Pipeline::Impl::RequestStop() {
  std::lock_guard l(shared_.mu);
  shared_.stop = true;
  shared_.cv.notify_all();
}

// A reader's thread: the loop, if it sleeps for want of work, wakes now instead of at its next
// poll (a message reaches the target up to a poll interval sooner).
void Pipeline::Impl::PackQueued(bool content) {
  std::lock_guard l(shared_.mu);
  (content ? shared_.packs_queued : shared_.ticks_queued) = true;
  if (content || shared_.wake_on_ticks) shared_.cv.notify_all();
}

bool Pipeline::Impl::SleepFor(std::chrono::milliseconds d, Wake wake, bool on_ticks) {
  std::unique_lock l(shared_.mu);
  shared_.wake_on_ticks = on_ticks;
  shared_.cv.wait_for(l, d, [&] {
    return shared_.stop || (wake != Wake::kNever && shared_.catalog_moved) ||
           (wake == Wake::kOnInput && (shared_.packs_queued || (on_ticks && shared_.ticks_queued)));
  });
  shared_.catalog_moved = false;
  shared_.packs_queued = false;
  shared_.ticks_queued = false;
  shared_.wake_on_ticks = true;
  return !shared_.stop;
}

bool Pipeline::Impl::Quiet() const {
  if (round_.active || !sources_.requests.empty() || !copies_.empty() || !loop_.early.empty())
    return false;
  for (const auto& ch : sources_.merger.Channels())
    if (sources_.merger.BufferedWithData(ch) > 0) return false;
  return true;
}

std::vector<ChannelProgress> Pipeline::Impl::Progress() const {
  std::lock_guard l(shared_.mu);
  auto out = shared_.progress;
  for (auto& p : out) {
    if (p.lag_messages == 0) {
      p.lag_ms = 0;  // nothing pending
    } else if (p.applied_ts > 0) {
      p.lag_ms = std::max<int64_t>(0, NowMs() - HybridToMs(p.applied_ts));
    }
  }
  return out;
}

PipelineHealth Pipeline::Impl::Health() const {
  std::lock_guard l(shared_.mu);
  return shared_.health;
}

// Recomputes the progress (checkpoint and lag per DML channel) and the per-collection health
// other threads read, at most every 200 ms.
void Pipeline::Impl::UpdateProgress() {
  const auto now = std::chrono::steady_clock::now();
  if (now - loop_.last_progress < std::chrono::milliseconds(200)) return;
  loop_.last_progress = now;
  std::vector<ChannelProgress> progress;
  for (const auto& [ch, reader] : sources_.dml) {
    ChannelProgress p;
    p.channel = ch;
    const auto saved = checkpoints_.StartOf(ch);
    if (saved) {
      p.position = source::DescribePosition(*saved);
      p.checkpoint_ts = saved->timestamp();
    }
    const source::MsgPosition* applied = nullptr;
    if (auto it = sources_.applied.find(ch); it != sources_.applied.end()) {
      applied = &it->second;
    } else if (saved) {
      applied = &*saved;
    }
    if (applied != nullptr) {
      p.applied_ts = applied->timestamp();
      p.lag_messages = reader->MessagesAfter(*applied);
    }
    progress.push_back(std::move(p));
  }
  std::vector<CollectionHealth> collections;
  for (const auto& q : quarantine_.View())
    collections.push_back({q.name, "set_aside", q.reason, q.since_ms});
  if (ddl_) {
    for (const auto& [id, why] : ddl_->Reasons()) {
      collections.push_back({CollectionName(id), "requests_waiting", why, 0});
    }
  }
  std::vector<CollectionSync> syncing;
  for (const auto& p : sync_.View())
    syncing.push_back({CollectionName(p.id), p.phase, p.rows_copied, p.rows_estimated, p.eta_s});
  std::lock_guard l(shared_.mu);
  shared_.progress = std::move(progress);
  shared_.health.collections = std::move(collections);
  shared_.health.initial_sync = std::move(syncing);
  if (writer_) shared_.health.applied = writer_->applied();
  shared_.health.coalesce = loop_.coalesced;
  AddCoalesceStats(sources_.merger.coalesce_stats(), &shared_.health.coalesce);
}

Status Pipeline::Impl::LoadSync() {
  std::map<int64_t, std::string> states;
  for (int64_t id : checkpoints_.SyncingCollections()) states[id] = checkpoints_.SyncState(id);
  return Annotate(sync_.Load(states), "load the initial sync state of task " + opts_.task_id);
}

// db.collection of a source collection the task maps or has set aside (e.g. while initial sync
// copies it), else "id N".
std::string Pipeline::Impl::CollectionName(int64_t id) const {
  if (const MappedCollection* c = map_ ? map_->Find(id) : nullptr)
    return absl::StrCat(c->source.db_name, ".", c->source.name);
  std::string name = quarantine_.NameOf(id);
  return name.empty() ? absl::StrCat("id ", id) : name;
}

// The loop's part of the task's reason: its error, the set-aside collections, the requests that
// wait, and the last thing not applied (for 10 minutes); then publishes the whole reason.
void Pipeline::Impl::Report(const std::string& error) {
  std::vector<std::string> parts;
  for (const auto& q : quarantine_.View())
    parts.push_back(
        absl::StrCat("collection ", q.name, " is set aside (the others go on): ", q.reason));
  if (ddl_)
    for (const auto& [_, why] : ddl_->Reasons()) parts.push_back(why);
  {
    std::lock_guard l(shared_.mu);  // a request the applier found moot (its worker set it)
    if (!shared_.applier_skipped.empty()) {
      loop_.skipped = std::move(shared_.applier_skipped);
      loop_.skipped_at = std::chrono::steady_clock::now();
      shared_.applier_skipped.clear();
    }
  }
  if (!loop_.skipped.empty() &&
      std::chrono::steady_clock::now() - loop_.skipped_at > std::chrono::minutes(10)) {
    loop_.skipped.clear();  // still counted in Health().skipped and in the log
  }
  if (!loop_.skipped.empty()) parts.push_back(loop_.skipped);
  if (!loop_.loads_error.empty()) parts.push_back(loop_.loads_error);
  if (!loop_.rbac_error.empty()) parts.push_back(loop_.rbac_error);
  {
    std::lock_guard l(shared_.mu);
    shared_.loop_error = error;
    shared_.loop_parts = std::move(parts);
  }
  PublishReason();
}

void Pipeline::Impl::ShowReader(const std::string& channel, const source::ChannelReader* reader) {
  std::lock_guard l(shared_.mu);
  if (reader != nullptr) {
    shared_.readers[channel] = reader;
  } else {
    shared_.readers.erase(channel);
  }
}

// The task's reason: the loop's error first, then what the readers report (live, so that a
// broker outage shows while the loop waits for the target), then what waits or was skipped,
// and a step that has taken over 10 s so far; "" when all is well.
void Pipeline::Impl::PublishReason(bool resend) {
  std::lock_guard p(shared_.publish_mu);
  std::string reason;
  bool changed = false;
  {
    std::lock_guard l(shared_.mu);
    std::vector<std::string> parts;
    if (!shared_.loop_error.empty()) parts.push_back(shared_.loop_error);
    for (const auto& [ch, r] : shared_.readers) {
      auto st = r->stats();
      if (!st.reason.empty())
        parts.push_back(absl::StrCat("read source channel ", ch, ": ", st.reason));
    }
    parts.insert(parts.end(), shared_.loop_parts.begin(), shared_.loop_parts.end());
    // A step that has waited 10 s (the loop's part above is from before it): name the call.
    if (shared_.step_since_ms > 0 && NowMs() - shared_.step_since_ms >= 10000) {
      std::string call = shared_.target ? shared_.target->Waiting(std::chrono::seconds(10)) : "";
      parts.push_back(call.empty() ? absl::StrCat("a replication step has waited since ",
                                                  UtcClock(shared_.step_since_ms),
                                                  " (for the meta store or the source catalog)")
                                   : absl::StrCat("waiting for ", call));
    }
    reason = absl::StrJoin(parts, "; ");
    // The first one goes out even if "": a task restarted on this server (HA takes it back after a
    // lease lapse) would otherwise keep the reason of its previous pipeline.
    if (reason == shared_.reason && !resend && shared_.published) return;
    changed = reason != shared_.reason;
    shared_.reason = reason;
    shared_.published = true;
  }
  if (changed && !reason.empty()) spdlog::warn("task {}: {}", opts_.task_id, reason);
  if (deps_.on_reason) deps_.on_reason(reason);
}

void Pipeline::Impl::Skip(const std::string& kind, const std::string& what) {
  loop_.skipped = absl::StrCat("not applied (", kind, "): ", what);
  loop_.skipped_at = std::chrono::steady_clock::now();
  spdlog::warn("task {}: {}", opts_.task_id, loop_.skipped);
  std::lock_guard l(shared_.mu);
  ++shared_.health.skipped[kind];
}

void Pipeline::Impl::Run() {
  while (true) {
    {
      std::lock_guard l(shared_.mu);
      if (shared_.stop) break;
    }
    bool progressed = false;
    {
      std::lock_guard l(shared_.mu);
      shared_.step_since_ms = NowMs();
    }
    loop_.cheap_failure = false;
    Status s = loop_.initialized ? Step(&progressed) : Init();
    {
      std::lock_guard l(shared_.mu);
      shared_.step_since_ms = 0;
    }
    if (loop_.initialized) UpdateProgress();
    if (s.ok()) {
      loop_.backoff = opts_.init_backoff;
      Report();
      if (!progressed) {
        // An idle task wakes for data at once, for ticks only every idle_tick / 2.
        const bool quiet = Quiet();
        SleepFor(quiet ? std::max(opts_.poll, opts_.idle_tick / 2) : opts_.poll, Wake::kOnInput,
                 !quiet);
      }
      continue;
    }
    const bool refused = s.code() == StatusCode::kFailedPrecondition && !loop_.initialized;
    if (refused) {
      // The target refuses replication altogether (a normal instance): nothing to retry.
      std::string reason = absl::StrCat("replication stopped: ", std::string(s.message()));
      Report(reason);
      Shutdown();
      if (deps_.on_failure) deps_.on_failure(reason);
      return;
    }
    {
      std::lock_guard l(shared_.mu);
      ++shared_.health.retries[absl::StatusCodeToString(s.code())];
    }
    Report(absl::StrCat(s.message(), " (retrying in ", loop_.backoff.count(), " ms)"));
    // A catalog that moved (or is back after an etcd outage) ends the backoff: the step may
    // have failed on it, and a stale reason would name etcd long after it is back.
    if (!SleepFor(loop_.backoff, Wake::kOnCatalog)) break;
    loop_.backoff = std::min(loop_.backoff * 2, loop_.cheap_failure
                                                    ? std::min(opts_.max_backoff, kCheapMaxBackoff)
                                                    : opts_.max_backoff);
  }
  Shutdown();
}

void Pipeline::Impl::Shutdown() {
  deps_.catalog->OnChange(nullptr);  // no call into this Impl after the loop ends
  // Only a finished round has a consistent checkpoint; a partial one is re-sent on resume.
  if (loop_.initialized && !round_.active) {
    Status s = WriteCheckpoint(loop_.applied);
    if (!s.ok())
      spdlog::warn("task {}: final checkpoint: {}", opts_.task_id, std::string(s.message()));
  }
  if (ddl_) ddl_->Stop();
  for (auto& [_, r] : sources_.dml) r->Close();
  if (sources_.replicate) sources_.replicate->Close();
}

Status Pipeline::Impl::Init() {
  if (!target_) {
    ASSIGN_OR_RETURN(target_, deps_.connect_target());
    {
      std::lock_guard l(shared_.mu);
      shared_.target = target_.get();
    }
    writer_ =
        std::make_unique<TargetWriter>(target_.get(), opts_.max_batch_bytes, deps_.tick_floors);
    ddl_ = std::make_unique<DdlApplier>(
        opts_.task_id, target_.get(),
        DdlApplierOptions{.init_backoff = opts_.init_backoff,
                          .max_backoff = opts_.max_backoff,
                          .on_skip = [this](const std::string& kind, const std::string& what) {
                            std::lock_guard l(shared_.mu);
                            ++shared_.health.skipped[kind];
                            shared_.applier_skipped =
                                absl::StrCat("not applied (", kind, "): ", what);
                          }});
  }
  // The same check as create's (target/readiness.h): connection, token, replication.
  auto ready = target::ProbeReadiness(*target_);
  if (!ready.ok()) {
    const StatusCode code = ready.status().code();
    if (code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied)
      return FailedPreconditionError(std::string(ready.status().message()));
    return ready.status();  // a normal instance stops the task; anything else is retried
  }
  deps_.catalog->OnChange([this] {
    std::lock_guard l(shared_.mu);
    shared_.catalog_moved = true;
    shared_.cv.notify_all();
  });
  if (!map_) {
    map_ = std::make_unique<CollectionMap>(opts_.selection, deps_.catalog.get(), target_.get(),
                                           sources_.ignored, opts_.names);
    map_->SetBeforeCreate([this](const CollectionMeta& m) { return ReserveRow(m); });
  }
  RETURN_IF_ERROR(checkpoints_.Load());
  RETURN_IF_ERROR(LoadSync());
  applied_out_->store(std::max(applied_out_->load(), checkpoints_.Watermark()));
  // Rounds start from where the channels are read (the smallest row), not from the highest
  // row: a collection behind the others (replayed by initial sync, set aside) catches up
  // through them, each collection skipping what it has; ticks at or below what a target
  // channel had are ignored by it. Holding rounds back to the highest row would buffer the
  // whole history in memory.
  loop_.applied = 0;
  RETURN_IF_ERROR(ddl_->Restore(checkpoints_.pending_json()));
  RETURN_IF_ERROR(loads_.Restore(checkpoints_.partition_loads_json()));
  loop_.loads_started = false;  // one reconcile of every followed collection (load_follow.cc)
  RETURN_IF_ERROR(rbac_.Restore(checkpoints_.rbac_json()));

  RETURN_IF_ERROR(SyncSourceCatalog());
  loop_.catalog_revision = -1;
  RETURN_IF_ERROR(SyncCatalog());
  RETURN_IF_ERROR(SyncChannels());
  if (!opts_.replicate_channel.empty() && !sources_.replicate) {
    ASSIGN_OR_RETURN(auto reader,
                     deps_.make_reader(opts_.replicate_channel, source::ChannelKind::kReplicate));
    reader->SetOnPack([this](bool content) { PackQueued(content); });
    const auto& saved = checkpoints_.replicate();
    RETURN_IF_ERROR(
        reader->Start(saved ? source::StartPosition::At(*saved) : source::StartPosition::Latest()));
    spdlog::info("task {}: reading {} from {}", opts_.task_id, opts_.replicate_channel,
                 saved ? source::DescribePosition(*saved) : std::string("the latest message"));
    sources_.replicate = std::move(reader);
    ShowReader(opts_.replicate_channel, sources_.replicate.get());
  }
  loop_.last_checkpoint = std::chrono::steady_clock::now();
  loop_.initialized = true;
  spdlog::info("task {}: replicating {} collections from {} channels to {}", opts_.task_id,
               map_->collections().size(), sources_.dml.size(), target_->Describe());
  return OkStatus();
}

Status Pipeline::Impl::Rewind(const std::vector<int64_t>& recovered) {
  spdlog::info("task {}: reading the source channels again from the checkpoint", opts_.task_id);
  RETURN_IF_ERROR(WriteCheckpoint(loop_.applied));  // their rows stay where they stopped
  for (int64_t id : recovered) {
    quarantine_.Remove(id);
    ddl_->SetReady(id, true);
  }
  writer_->DropPending();
  round_.Finish();
  for (auto& [ch, r] : sources_.dml) {
    ShowReader(ch, nullptr);
    r->Close();
  }
  sources_.dml.clear();
  AddCoalesceStats(sources_.merger.coalesce_stats(), &loop_.coalesced);
  sources_.merger = Merger(opts_.coalesce);
  sources_.applied.clear();
  RETURN_IF_ERROR(checkpoints_.Load());
  RETURN_IF_ERROR(LoadSync());
  // Rounds start again below the watermark already applied: each collection skips what it
  // has (its own row), the target's channels get no tick twice.
  loop_.applied = 0;
  return SyncChannels();
}

Status Pipeline::Impl::SyncCatalog() {
  const int64_t revision = deps_.catalog->Revision();
  if (revision == loop_.catalog_revision && revision != 0) return OkStatus();
  ASSIGN_OR_RETURN(auto all, deps_.catalog->ListCollections());
  CollectionExtras extras(target_.get(),
                          [this](const CollectionMeta& m) { return SourceProperties(m); });
  for (const auto& meta : all) {
    if (quarantine_.Has(meta.id)) continue;
    MappedCollection* c = map_->Find(meta.id);
    if (c != nullptr) {
      RETURN_IF_ERROR(AddPartitions(*c, meta));
    } else if (!map_->Known(meta.id)) {
      ASSIGN_OR_RETURN(c, Map(meta));
    }
    // Created early: its renames, aliases and properties follow once the view covers its
    // create (SettleEarly makes this run again then).
    if (c == nullptr || quarantine_.Has(meta.id) || loop_.early.count(meta.id)) continue;
    // Nor renames, aliases or properties: the catalog holds them.
    std::vector<std::string> refused;
    const uint64_t ts = loop_.catalog_covered ? loop_.catalog_covered : meta.create_ts;
    RETURN_IF_ERROR(extras.Apply(*map_, *c, meta, ts, &refused));
    for (const auto& r : refused) Skip("collection_change_refused_by_target", r);
  }
  loop_.catalog_revision = revision;
  return OkStatus();
}

Status Pipeline::Impl::CreateEarly(bool* progressed) {
  const int64_t revision = deps_.catalog->Revision();
  if (revision == 0 || revision == loop_.early_revision) return OkStatus();
  ASSIGN_OR_RETURN(auto all, deps_.catalog->ListCollections());
  for (const auto& meta : all) {
    if (quarantine_.Has(meta.id)) continue;
    if (MappedCollection* c = map_->Find(meta.id)) {
      RETURN_IF_ERROR(AddPartitions(*c, meta));
      continue;
    }
    if (map_->Known(meta.id) || TargetNameHeld(meta)) continue;
    ASSIGN_OR_RETURN(MappedCollection * c, Map(meta));
    if (c == nullptr) continue;
    loop_.early[meta.id] = meta.create_ts;
    *progressed = true;
  }
  loop_.early_revision = revision;
  return OkStatus();
}

Status Pipeline::Impl::SettleEarly(uint64_t w) {
  for (auto it = loop_.early.begin(); it != loop_.early.end();) {
    const int64_t id = it->first;
    if (it->second > w) {
      ++it;
      continue;
    }
    ASSIGN_OR_RETURN(auto meta, deps_.catalog->GetCollection(id));
    const MappedCollection* c = map_->Find(id);
    if (c != nullptr && (!meta || meta->dropped)) {
      ASSIGN_OR_RETURN(bool dropped, DropOnTarget(c->target.db_name, c->target.name, w));
      if (dropped) {
        spdlog::info(
            "task {}: dropped collection {}.{} on the target again: dropped on the source "
            "before its channels were read (nothing of it was replicated but its create)",
            opts_.task_id, c->target.db_name, c->target.name);
      }
      ddl_->Discard(id, "its collection was dropped on the source");
      quarantine_.Remove(id);
      map_->Drop(id);
      round_.changed = true;
    } else {
      loop_.catalog_revision = -1;  // SyncCatalog brings its aliases and properties over
    }
    it = loop_.early.erase(it);
  }
  return OkStatus();
}

bool Pipeline::Impl::TargetNameHeld(const CollectionMeta& meta) const {
  const task::FullName to = map_->TargetName(meta.db_name, meta.name);
  for (const auto& [_, c] : map_->collections())
    if (c.target.db_name == to.db && c.target.name == to.collection) return true;
  const std::string full = absl::StrCat(meta.db_name, ".", meta.name);
  for (const auto& q : quarantine_.View())
    if (q.name == full) return true;
  for (const auto& [_, name] : loop_.drop_pending)
    if (name == meta.name) return true;
  if (checkpoints_.HasRow(meta.id)) return false;
  const auto rows = checkpoints_.RowNames();
  return std::find(rows.begin(), rows.end(), meta.name) != rows.end();
}

// The properties the source's proxy answers for `m` (a 2.3.5 source keeps altered ones only
// there), else the catalog's: data replication never waits for the source's proxy.
std::vector<std::pair<std::string, std::string>> Pipeline::Impl::SourceProperties(
    const CollectionMeta& m) {
  auto props = m.properties;
  if (deps_.source_reader && !loop_.source_reader) {
    auto r = deps_.source_reader();
    if (r.ok()) loop_.source_reader = *r;
  }
  if (loop_.source_reader) {
    auto d = loop_.source_reader->DescribeCollection(m.db_name, m.name);
    if (d.ok()) {
      props.assign(d->properties.begin(), d->properties.end());
    } else {
      // Counted and in the reason: the target may keep an older value of an altered one.
      Skip(
          "source_properties_unavailable",
          absl::StrCat("properties of ", m.db_name, ".", m.name,
                       " taken from the catalog (the source's proxy: ", d.status().message(), ")"));
    }
  }
  std::sort(props.begin(), props.end());
  return props;
}

// Milvus 2.3 writes no CreatePartition to the DML channels: new partitions come from the catalog.
Status Pipeline::Impl::AddPartitions(MappedCollection& c, const CollectionMeta& meta) {
  for (const auto& p : meta.partitions) {
    if (c.source_partitions.count(p.id)) continue;
    Status s = map_->AddPartition(c, p.id, p.name, p.create_ts);
    if (IsRetryable(s)) return s;
    if (!s.ok()) {
      SetAside(meta.id, absl::StrCat(meta.db_name, ".", meta.name), s);
      return OkStatus();
    }
  }
  return OkStatus();
}

Result<bool> Pipeline::Impl::CoverCatalog(uint64_t w) {
  if (w <= loop_.catalog_covered) return true;
  RETURN_IF_ERROR(SyncSourceCatalog());
  // The sync began after the tick w was read, and Milvus finishes a DDL in etcd before any
  // time tick above its ts: the view now holds every create and drop at or below w.
  RETURN_IF_ERROR(SettleEarly(w));
  loop_.catalog_covered = w;
  const size_t channels = sources_.dml.size();
  RETURN_IF_ERROR(SyncCatalog());
  RETURN_IF_ERROR(SyncChannels());
  return sources_.dml.size() == channels;
}

Status Pipeline::Impl::StartChannel(const std::string& channel) {
  source::StartPosition start = source::StartPosition::Latest();
  if (auto saved = checkpoints_.StartOf(channel)) {
    start = source::StartPosition::At(*saved);
  } else {
    // A channel the task has no position for: one that no collection used when the task
    // started. Its collections are read from their create message. Tasks from before the fixed
    // start (no start row) read older collections from the latest message, as they did; since
    // Milvus' TSO can lag the wall clock that stamped such a task, collections from the 10 s
    // before it count as new too (reading a create message early copies more, never less).
    const uint64_t slack = MsToHybrid(10000);
    const uint64_t new_after = checkpoints_.has_start_row()  ? 0
                               : opts_.task_start_ts > slack ? opts_.task_start_ts - slack
                                                             : 0;
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
  reader->SetFilter(sources_.ignored);
  reader->SetOnPack([this](bool content) { PackQueued(content); });
  RETURN_IF_ERROR(reader->Start(start));
  spdlog::info("task {}: reading {} from {}", opts_.task_id, channel,
               start.kind == source::StartPosition::Kind::kPosition
                   ? source::DescribePosition(start.position)
                   : std::string("the latest message"));
  if (start.kind == source::StartPosition::Kind::kPosition)
    checkpoints_.SetChannel(channel, start.position);
  ShowReader(channel, reader.get());
  sources_.dml[channel] = std::move(reader);
  sources_.merger.AddChannel(channel);
  return OkStatus();
}

Status Pipeline::Impl::ReserveRow(const CollectionMeta& meta) {
  std::map<std::string, source::MsgPosition> at;
  for (const auto& ch : meta.pchannels) {
    if (auto known = checkpoints_.Known(ch)) {
      at[ch] = *known;
    } else if (auto id = meta.start_msg_ids.find(ch); id != meta.start_msg_ids.end()) {
      at[ch].set_channel_name(ch);  // a channel not read yet: from the create on
      at[ch].set_msgid(id->second);
      at[ch].set_timestamp(meta.create_ts > 0 ? meta.create_ts - 1 : 0);
    }
  }
  return checkpoints_.Reserve(meta.id, meta.name, std::move(at));
}

std::set<std::string> Pipeline::Impl::UnmappedRowChannels() const {
  return checkpoints_.UnmappedRowChannels([this](int64_t id) {
    return map_->Find(id) != nullptr || quarantine_.Has(id) || sources_.ignored->Ignored(id);
  });
}

Status Pipeline::Impl::SyncChannels() {
  std::set<std::string> wanted;
  for (const auto& [id, c] : map_->collections())
    if (!loop_.early.count(id)) wanted.insert(c.source.pchannels.begin(), c.source.pchannels.end());
  // Collections the task replicated before a restart and no longer maps (dropped on the source
  // meanwhile): their drop is still to be read.
  for (const auto& ch : UnmappedRowChannels()) wanted.insert(ch);
  // A collection set aside keeps its channels read (its messages wait in its own row, but
  // the channel's ticks still bound the watermark of the others).
  for (const auto& q : quarantine_.View())
    if (const MappedCollection* c = map_->Find(q.id); c != nullptr && !loop_.early.count(q.id))
      wanted.insert(c->source.pchannels.begin(), c->source.pchannels.end());
  for (const auto& ch : wanted)
    if (!sources_.dml.count(ch)) RETURN_IF_ERROR(StartChannel(ch));
  return OkStatus();
}

void Pipeline::Impl::RetireChannels() {
  auto in_use = map_->SourcePChannels();
  for (const auto& ch : UnmappedRowChannels()) in_use.insert(ch);
  for (auto it = sources_.dml.begin(); it != sources_.dml.end();) {
    if (in_use.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("task {}: no selected collection left on {}; not reading it any more",
                 opts_.task_id, it->first);
    ShowReader(it->first, nullptr);
    it->second->Close();
    sources_.merger.RemoveChannel(it->first);
    checkpoints_.RetireChannel(it->first);
    sources_.applied.erase(it->first);
    it = sources_.dml.erase(it);
  }
}

Status Pipeline::Impl::PullReaders(bool* progressed) {
  Merger& merger = sources_.merger;
  for (auto& [ch, r] : sources_.dml) {
    while (true) {
      // Packs of time only count against a limit 16 times larger (a few hundred bytes each):
      // a task that stopped pulling on them would stop its readers, whose clients' prefetch then
      // fills with other collections' messages (source/pack_queue.h).
      const bool full = merger.BufferedWithData(ch) >= opts_.max_buffered_packs ||
                        merger.Buffered(ch) >= opts_.max_buffered_packs * 16 ||
                        merger.BufferedBytes() >= opts_.max_buffered_bytes;
      // A full buffer stops every channel while a round is in progress (e.g. retrying a target
      // that is down) and otherwise the channels that are ahead; the one holding the watermark
      // back gets one pack at a time, which the next round releases, so nothing waits forever.
      if (full && (round_.active || !merger.HoldsBack(ch))) break;
      auto next = r->Next(std::chrono::milliseconds(0));
      if (!next.ok()) return Annotate(next.status(), "read source channel " + ch);
      if (!next->has_value()) break;
      source::Pack pack = std::move(**next);
      pack.channel = ch;
      for (const auto& e : pack.errors) Skip("undecodable_message", absl::StrCat(ch, ": ", e));
      merger.AddPack(std::move(pack));
      *progressed = true;
      if (full) break;
    }
  }
  if (sources_.replicate) {
    while (sources_.requests.size() < 1024) {
      auto next = sources_.replicate->Next(std::chrono::milliseconds(0));
      if (!next.ok())
        return Annotate(next.status(), "read source channel " + opts_.replicate_channel);
      if (!next->has_value()) break;
      for (const auto& e : (*next)->errors)
        Skip("undecodable_request", absl::StrCat(opts_.replicate_channel, ": ", e));
      for (auto& m : (*next)->msgs) {
        spdlog::debug("task {}: read replicate request {} ts={} (watermark {})", opts_.task_id,
                      source::MsgTypeName(m.header.type), m.header.timestamp,
                      merger.Watermark().value_or(0));
        sources_.requests.push_back(std::move(m));
      }
      *progressed = true;
    }
  }
  return OkStatus();
}

Status Pipeline::Impl::SyncSourceCatalog() {
  Status s = deps_.catalog->Sync();
  loop_.cheap_failure = loop_.cheap_failure || !s.ok();
  return s;
}

Status Pipeline::Impl::WriteCheckpoint(uint64_t w) {
  CheckpointView view;
  for (const auto& [id, c] : map_->collections()) {
    view.collections[id] = {c.source.name, c.source.pchannels};
    auto& targets = view.target_channels[id];
    for (const auto& [_, r] : c.routes) targets.push_back(r.target_pchannel);
  }
  for (const auto& q : quarantine_.View()) view.frozen.insert(q.id);
  view.targets = writer_->positions();
  view.pending_json = ddl_->PendingJson();
  view.partition_loads_json = loads_.Json();
  view.rbac_json = rbac_.Json();
  for (int64_t id : sync_.ids()) checkpoints_.SetSyncState(id, sync_.Encode(id));
  Status written = checkpoints_.Write(w, sources_.merger.Consumed(), view);
  loop_.cheap_failure = loop_.cheap_failure || !written.ok();
  RETURN_IF_ERROR(written);
  loop_.last_checkpoint = std::chrono::steady_clock::now();
  return OkStatus();
}

Status Pipeline::Impl::Step(bool* progressed) {
  RETURN_IF_ERROR(PullReaders(progressed));
  if (!round_.active) RETURN_IF_ERROR(CreateEarly(progressed));
  if (!round_.active) RETURN_IF_ERROR(FollowPartitionLoads());
  if (!round_.active) RETURN_IF_ERROR(FollowRbac());
  if (!round_.active && !copies_.empty()) RETURN_IF_ERROR(StepCopies(progressed));
  if (!round_.active && !quarantine_.empty()) {
    std::vector<int64_t> recovered;
    RETURN_IF_ERROR(RetrySetAside(&recovered));
    if (!recovered.empty()) {
      *progressed = true;
      return Rewind(recovered);
    }
  }
  if (!round_.active) {
    const bool dml = !sources_.merger.Channels().empty();
    std::optional<uint64_t> w;
    if (dml) {
      auto wm = sources_.merger.Watermark();
      if (wm && *wm > loop_.applied) w = *wm;
    } else if (!sources_.requests.empty()) {
      w = loop_.applied;
      for (const auto& m : sources_.requests) w = std::max(*w, m.header.timestamp);
    } else if (loop_.catalog_revision != deps_.catalog->Revision() || !loop_.early.empty()) {
      // Nothing to read yet: collections created later still have to be noticed. With no
      // watermark to cover, their channels join at once.
      loop_.early.clear();
      RETURN_IF_ERROR(SyncCatalog());
      RETURN_IF_ERROR(SyncChannels());
    }
    if (!w) return OkStatus();
    ASSIGN_OR_RETURN(bool stable, CoverCatalog(*w));
    if (!stable) {
      *progressed = true;
      return OkStatus();  // channels joined: the watermark is computed again with them
    }
    std::vector<RoundItem> items;
    for (auto& m : sources_.merger.Take(*w)) items.push_back({false, std::move(m)});
    // With no DML channel left (its collections dropped) no tick passes a followed load's hold.
    while (!sources_.requests.empty() && (dml ? ReleaseWatermark(sources_.requests.front())
                                              : sources_.requests.front().header.timestamp) <= *w) {
      items.push_back({true, {opts_.replicate_channel, std::move(sources_.requests.front())}});
      sources_.requests.pop_front();
    }
    std::stable_sort(items.begin(), items.end(), [](const RoundItem& a, const RoundItem& b) {
      return a.m.msg.header.timestamp < b.m.msg.header.timestamp;
    });
    round_.Begin(*w, dml, std::move(items));
    writer_->ResetAcked();
  }
  *progressed = true;
  return RunRound();
}

}  // namespace cdc::replicate

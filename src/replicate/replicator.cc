#include "replicate/replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "common/hybrid_time.h"
#include "common/thread_name.h"
#include "replicate/checkpoint.h"
#include "replicate/checkpointer.h"
#include "replicate/initial_sync.h"
#include "replicate/start_point.h"
#include "sink/kafka_sink.h"
#include "sink/sink_options.h"
#include "target/grpc_client.h"
#include "target/task_options.h"

namespace cdc::replicate {

MilvusReplicator::MilvusReplicator(ReplicatorOptions options, source::Broker* broker,
                                   meta::Store* store)
    : options_(std::move(options)),
      broker_(broker),
      store_(store),
      catalog_(options_.source_etcd, options_.catalog),
      notifier_([this] { NotifierLoop(); }) {
  if (options_.shared_readers) {
    source::SharedReadersOptions so;
    // Unique per process: several servers (HA) may read one channel, and a Pulsar subscription
    // name is exclusive.
    std::random_device rd;
    so.owner = fmt::format("shared-{:08x}", rd());
    so.max_queued_bytes = std::max<size_t>(options_.read_buffer_bytes / 4, 1 << 20);  // as a task's
    shared_readers_ = std::make_unique<source::SharedReaders>(
        [broker](const source::ReaderOptions& r) { return broker->OpenReader(r); }, so);
  }
}

std::string MilvusReplicator::RenderMetrics() const {
  if (!shared_readers_) return "";
  const source::SharedReadersStats s = shared_readers_->stats();
  return fmt::format(
      "# HELP milvus_cdc_shared_readers Source channels read by a shared reader.\n"
      "# TYPE milvus_cdc_shared_readers gauge\n"
      "milvus_cdc_shared_readers {}\n"
      "# HELP milvus_cdc_shared_reader_tasks Task channel readers by how they read: through the "
      "shared reader, or on their own (starting, catching up, or behind).\n"
      "# TYPE milvus_cdc_shared_reader_tasks gauge\n"
      "milvus_cdc_shared_reader_tasks{{way=\"shared\"}} {}\n"
      "milvus_cdc_shared_reader_tasks{{way=\"alone\"}} {}\n"
      "# HELP milvus_cdc_shared_reader_joins_total Task readers that joined a shared reader.\n"
      "# TYPE milvus_cdc_shared_reader_joins_total counter\n"
      "milvus_cdc_shared_reader_joins_total {}\n"
      "# HELP milvus_cdc_shared_reader_leaves_total Task readers that left a shared reader as "
      "their queue was full (their target slower than the channel).\n"
      "# TYPE milvus_cdc_shared_reader_leaves_total counter\n"
      "milvus_cdc_shared_reader_leaves_total {}\n",
      s.shared, s.joined, s.alone, s.joins, s.leaves);
}

MilvusReplicator::~MilvusReplicator() {
  std::map<std::string, std::unique_ptr<Pipeline>> all;
  {
    std::lock_guard l(mu_);
    all.swap(pipelines_);
    running_.clear();
  }
  for (auto& [_, p] : all) p->Stop();
  {
    std::lock_guard l(events_mu_);
    stop_ = true;
  }
  events_cv_.notify_all();
  notifier_.join();
}

void MilvusReplicator::Attach(task::TaskEvents* events) { events_ = events; }

void MilvusReplicator::Notify(std::string task_id, std::string reason, bool failure) {
  std::lock_guard l(events_mu_);
  queue_.push_back({std::move(task_id), std::move(reason), failure});
  events_cv_.notify_all();
}

// Delivers the pipelines' events in order and, twice a second, has every pipeline publish its
// reason again (what its readers report now, even while its thread waits in a long call).
// Every 2 s the reason goes out even unchanged: a receiver may have dropped the last one (the HA
// coordinator drops the reasons of a task it does not hold at that moment, e.g. while it takes
// the task again after a meta store outage), and a stale reason would stay until the next change.
void MilvusReplicator::NotifierLoop() {
  NameThread("notifier");
  constexpr auto kRefresh = std::chrono::milliseconds(500);
  constexpr int kResendEvery = 4;  // refreshes
  std::unique_lock l(events_mu_);
  auto next_refresh = std::chrono::steady_clock::now() + kRefresh;
  int refreshes = 0;
  while (true) {
    events_cv_.wait_until(l, next_refresh, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    if (queue_.empty()) {
      l.unlock();
      const bool resend = ++refreshes % kResendEvery == 0;
      {
        std::lock_guard g(mu_);
        for (auto& [id, p] : pipelines_)
          if (p && running_.count(id)) p->RefreshReason(resend);
      }
      l.lock();
      next_refresh = std::chrono::steady_clock::now() + kRefresh;
      continue;
    }
    Event e = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    bool running;
    {
      std::lock_guard g(mu_);
      running = running_.count(e.task_id) > 0;
      if (e.failure) running_.erase(e.task_id);
    }
    if (running && events_ != nullptr) {
      if (e.failure) {
        events_->ReportFailure(e.task_id, e.reason);
      } else {
        events_->ReportReason(e.task_id, e.reason);
      }
    }
    l.lock();
  }
}

Selection TaskSelection(const task::TaskInfo& task) {
  std::vector<std::string> include;
  for (const auto& name : task.FullCollectionNames())
    include.push_back(name == "default.*" ? "*.*" : name);  // "*" means every database
  return Selection(include, task.exclude_collections);
}

namespace {

std::string ReplicateChannelOf(const task::TaskInfo& task, const ReplicatorOptions& options) {
  return task.rpc_channel.name.empty() ? options.replicate_chan : task.rpc_channel.name;
}

}  // namespace

Status MilvusReplicator::FixStart(const task::TaskInfo& task) {
  const auto deadline = std::chrono::steady_clock::now() + options_.fix_start_timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  SourceCatalogView view(&catalog_, options_.fix_start_timeout);
  // Every collection created before the positions are read is in the list (its channels are
  // read from the start), and every one created after is new to the task.
  RETURN_IF_ERROR(Annotate(view.Sync(), "read the source catalog"));
  ASSIGN_OR_RETURN(auto before, view.ListCollections());
  const std::string replicate_channel = ReplicateChannelOf(task, options_);
  const auto dml = SourceDmlChannels(replicate_channel, options_.source_channel_num, before);
  // Positions given at create (replicate/given_start.h): those channels start there.
  ASSIGN_OR_RETURN(const GivenStart given, DecodeGivenStart(task, before, replicate_channel));
  HoldsFn holds = [this](const std::vector<source::MsgPosition>& positions,
                         std::chrono::milliseconds timeout) {
    return broker_->Holds(positions, timeout);
  };
  LatestPositionsFn latest =
      [this](
          const std::vector<std::string>& channels,
          std::chrono::milliseconds timeout) -> Result<std::map<std::string, source::MsgPosition>> {
    ASSIGN_OR_RETURN(auto v, broker_->LatestPositions(channels, timeout));
    std::map<std::string, source::MsgPosition> out;
    for (size_t i = 0; i < v.size() && i < channels.size(); ++i) out[channels[i]] = v[i];
    return out;
  };
  std::vector<SeedCollection> seeds;
  if (task.initial_sync) {
    ASSIGN_OR_RETURN(seeds, InitialSyncSeeds(task, before, left()));
  }
  Status s = replicate::FixStart(store_, task.task_id, replicate_channel, dml, latest, left(),
                                 seeds, given, holds);
  if (s.ok() && !given.empty()) {
    spdlog::info("task {}: {} starts at the given positions ({}); {} from {}", task.task_id,
                 given.collection, given.dml.size(), replicate_channel,
                 !given.replicate        ? std::string("where create answered")
                 : given.replicate_given ? source::DescribePosition(*given.replicate)
                                         : "its first message after the positions' lowest ts");
  }
  if (s.ok()) {
    spdlog::info("task {}: start fixed on {} DML channels and {}{}", task.task_id, dml.size(),
                 replicate_channel,
                 seeds.empty() ? "" : fmt::format(", {} collection(s) to copy", seeds.size()));
  }
  return s;
}

Result<std::vector<SeedCollection>> MilvusReplicator::InitialSyncSeeds(
    const task::TaskInfo& task, const std::vector<CollectionMeta>& existing,
    std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(source::Catalog * catalog, catalog_.Get());
  const Selection selection = TaskSelection(task);
  const task::NameMap names(task.name_mapping);
  // Collections created after the task are read from their create message anyway.
  const uint64_t task_ts = MsToHybrid(task.create_time_ms);
  std::vector<SeedCollection> seeds;
  std::vector<source::MsgPosition> firsts;  // each seed's create position per channel
  std::vector<size_t> owner;
  for (const auto& c : existing) {
    if (!selection.Selected(c.db_name, c.name) || c.create_ts > task_ts) continue;
    SeedCollection seed;
    seed.meta = c;
    ASSIGN_OR_RETURN(auto indexes, catalog->Indexes(c.id));
    ASSIGN_OR_RETURN(auto load, catalog->LoadState(c.id));
    seed.requests = SeedRequests(c, indexes, load, task_ts, names.Collection(c.db_name, c.name));
    auto rows = catalog->EstimatedRows(c.id);
    seed.rows_estimated = rows.ok() ? *rows : 0;
    seed.start_ts = task_ts;
    seed.replay = !options_.initial_sync_query_only;
    for (const auto& ch : c.pchannels) {
      auto id = c.start_msg_ids.find(ch);
      source::MsgPosition p;
      p.set_channel_name(ch);
      if (id != c.start_msg_ids.end()) p.set_msgid(id->second);
      firsts.push_back(p);
      owner.push_back(seeds.size());
    }
    seed.replay =
        seed.replay && !c.pchannels.empty() && c.start_msg_ids.size() >= c.pchannels.size();
    seeds.push_back(std::move(seed));
  }
  ASSIGN_OR_RETURN(auto held, broker_->Holds(firsts, timeout));
  for (size_t i = 0; i < held.size() && i < owner.size(); ++i)
    if (!held[i]) seeds[owner[i]].replay = false;
  return seeds;
}

Status MilvusReplicator::Start(const task::TaskInfo& task) {
  PipelineOptions o;
  o.task_id = task.task_id;
  o.selection = TaskSelection(task);
  o.names = task::NameMap(task.name_mapping);
  o.replicate_channel = ReplicateChannelOf(task, options_);
  o.task_start_ts = MsToHybrid(task.create_time_ms);
  o.enable_user_role = task.enable_user_role;
  o.idle_tick = options_.time_tick_interval;
  o.max_buffered_bytes = options_.read_buffer_bytes;
  o.init_backoff = options_.init_backoff;
  o.max_backoff = std::max(options_.max_backoff, options_.init_backoff);
  o.coalesce = options_.coalesce;
  // A Kafka sink writes one envelope per source message, so that its position names it.
  const bool to_kafka = !task.kafka.address.empty() && task.milvus.Empty();
  if (to_kafka) o.coalesce.enabled = false;

  PipelineDeps d;
  d.catalog = std::make_unique<SourceCatalogView>(&catalog_);
  d.store = store_;
  auto target_opts = target::OptionsForTask(task.milvus, options_.target_replicate_chan);
  d.connect_target = [target_opts, to_kafka, sink_opts = sink::OptionsForTask(task.kafka),
                      wrap = options_.wrap_target,
                      id = task.task_id]() -> Result<std::unique_ptr<target::Client>> {
    std::unique_ptr<target::Client> client;
    if (to_kafka) {
      client =
          std::make_unique<sink::KafkaSink>(std::make_unique<sink::RdKafkaProducer>(sink_opts));
    } else {
      ASSIGN_OR_RETURN(auto c, target::ConnectGrpcClient(target_opts));
      client = std::move(c);
    }
    return wrap ? wrap(id, std::move(client)) : std::move(client);
  };
  std::string id = task.task_id;
  // Each reader queues a quarter of the task's read buffer on top of what the pipeline holds.
  const size_t queued_bytes = std::max<size_t>(options_.read_buffer_bytes / 4, 1 << 20);
  d.make_reader = [broker = broker_, shared = shared_readers_.get(), id, queued_bytes](
                      const std::string& channel,
                      source::ChannelKind kind) -> Result<std::unique_ptr<source::ChannelReader>> {
    source::ReaderOptions r;
    r.channel = channel;
    r.kind = kind;
    r.owner = id;
    r.max_queued_bytes = queued_bytes;
    if (shared != nullptr) return shared->Open(r);
    return broker->OpenReader(r);
  };
  d.source_reader = options_.source_reader;
  d.tick_floors = tick_floors_;
  d.copy_page_rows = options_.copy_page_rows;
  d.copy_rows_per_s = options_.copy_rows_per_s;
  d.on_reason = [this, id](const std::string& r) { Notify(id, r, false); };
  d.on_failure = [this, id](const std::string& r) { Notify(id, r, true); };
  if (options_.crash_after_ack_for_tests) {
    d.after_ack = [id](uint64_t w) {
      spdlog::critical(
          "task {}: --test-crash-after-ack: exiting after the target acknowledged "
          "the data of round {} and before its checkpoint",
          id, w);
      spdlog::default_logger()->flush();
      std::_Exit(86);
    };
  }

  auto p = std::make_unique<Pipeline>(std::move(o), std::move(d));
  std::unique_ptr<Pipeline> old;
  {
    // Taken out, not left as an empty entry: Health(), Progress() and the notifier read the map
    // meanwhile (an empty entry there crashed the server under `get` during a restart).
    std::lock_guard l(mu_);
    if (auto it = pipelines_.find(task.task_id); it != pipelines_.end()) {
      old = std::move(it->second);
      pipelines_.erase(it);
    }
  }
  if (old) old->Stop();
  p->Start();
  std::lock_guard l(mu_);
  running_.insert(task.task_id);
  pipelines_[task.task_id] = std::move(p);
  spdlog::info("task {}: replication started", task.task_id);
  return OkStatus();
}

Status MilvusReplicator::Stop(const std::string& task_id) {
  std::unique_ptr<Pipeline> p;
  {
    std::lock_guard l(mu_);
    running_.erase(task_id);
    auto it = pipelines_.find(task_id);
    if (it == pipelines_.end()) return OkStatus();
    p = std::move(it->second);
    pipelines_.erase(it);
  }
  p->Stop();
  spdlog::info("task {}: replication stopped", task_id);
  return OkStatus();
}

std::vector<ChannelProgress> MilvusReplicator::Progress(const std::string& task_id) const {
  std::lock_guard l(mu_);
  auto it = pipelines_.find(task_id);
  return it == pipelines_.end() || !it->second ? std::vector<ChannelProgress>{}
                                               : it->second->Progress();
}

task::TaskHealth MilvusReplicator::Health(const std::string& task_id) {
  PipelineHealth h;
  uint64_t applied = 0;
  {
    std::lock_guard l(mu_);
    auto it = pipelines_.find(task_id);
    if (it == pipelines_.end() || !it->second) return {};
    h = it->second->Health();
    applied = it->second->applied_ts();
  }
  task::TaskHealth out;
  out.applied_ts = applied;
  for (const auto& c : h.collections)
    out.collections.push_back({c.name, c.state, c.reason, c.since_ms, ""});
  for (const auto& s : h.initial_sync)
    out.initial_sync.push_back({s.name, s.phase, s.rows_copied, s.rows_estimated, s.eta_s, ""});
  out.skipped = std::move(h.skipped);
  out.applied = {h.applied.messages, h.applied.rows, h.applied.bytes, h.coalesce.folded,
                 h.coalesce.fallbacks};
  out.retries = std::move(h.retries);
  return out;
}

std::vector<task::ChannelLag> MilvusReplicator::Lag(const std::string& task_id) {
  std::vector<task::ChannelLag> out;
  const auto live = Progress(task_id);
  if (!live.empty()) {
    for (const auto& p : live)
      out.push_back({p.channel, p.position, p.checkpoint_ts, p.lag_ms, p.lag_messages});
    return out;
  }
  auto resume = Checkpointer::ResumePositions(store_, task_id);
  if (!resume.ok()) return out;
  const auto& saved = *resume;
  const int64_t now_ms = NowMs();
  for (const auto& [ch, pos] : saved) {
    task::ChannelLag lag{ch, source::DescribePosition(pos), pos.timestamp(), -1, -1};
    lag.lag_messages = broker_->MessagesAfter(pos, std::chrono::milliseconds(500));
    if (lag.lag_messages == 0) {
      lag.lag_ms = 0;
    } else if (pos.timestamp() > 0) {
      lag.lag_ms = std::max<int64_t>(0, now_ms - HybridToMs(pos.timestamp()));
    }
    out.push_back(std::move(lag));
  }
  return out;
}

}  // namespace cdc::replicate

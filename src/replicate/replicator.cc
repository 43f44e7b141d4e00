#include "replicate/replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "common/hybrid_time.h"
#include "replicate/checkpoint.h"
#include "replicate/checkpointer.h"
#include "source/kafka/kafka_reader.h"
#include "source/pulsar/pulsar_reader.h"
#include "target/grpc_client.h"
#include "target/task_options.h"

namespace cdc::replicate {

namespace {
// Lag counting for a Pulsar source, over the broker's admin API; null for a Kafka source.
std::shared_ptr<source::pulsar::PulsarBacklog> MakePulsarBacklog(
    const source::pulsar::PulsarSourceSettings& s) {
  if (s.address.empty()) return nullptr;
  source::pulsar::AdminSettings a;
  a.web_url = source::pulsar::AdminUrl(s.web_address, s.web_port);
  if (auto c = source::pulsar::ClientOptionsFromSettings(s); c.ok()) a.token = c->auth_data;
  if (!s.tenant.empty()) a.tenant = s.tenant;
  if (!s.name_space.empty()) a.name_space = s.name_space;
  return std::make_shared<source::pulsar::PulsarBacklog>(std::move(a));
}
}  // namespace

ReaderFactory MakeReaderFactory(const ReplicatorOptions& options, const std::string& task_id,
                                std::shared_ptr<source::pulsar::PulsarBacklog> pulsar_backlog) {
  const size_t queued_bytes = std::max<size_t>(options.read_buffer_bytes / 4, 1 << 20);
  // librdkafka's own prefetch per consumer (queued.max.messages.kbytes): a sixteenth of the
  // buffer, 1..16 MB (16 MB for the default 256 MB). It is held by every channel of every task
  // however little of it the task keeps, so it sets the memory of many tasks under a backlog,
  // and librdkafka 2.0 refetches a full queue only after a pause, so it also bounds how fast a
  // backlog is read (bench: 30 MB/s at 4 MB, 60 MB/s at 16 MB with a 64 MB buffer). A key of the
  // same name in the Kafka config wins.
  const int prefetch_kbytes =
      static_cast<int>(std::clamp<size_t>(options.read_buffer_bytes / 16 / 1024, 1024, 16384));
  if (!options.pulsar.address.empty()) {
    auto client = source::pulsar::ClientOptionsFromSettings(options.pulsar);
    auto settings = options.pulsar;
    return [client, settings, task_id, queued_bytes, pulsar_backlog](
               const std::string& channel,
               source::ChannelKind kind) -> Result<std::unique_ptr<source::ChannelReader>> {
      if (!client.ok()) return client.status();
      source::PulsarReaderOptions po;
      po.client = *client;
      if (!settings.tenant.empty()) po.tenant = settings.tenant;
      if (!settings.name_space.empty()) po.name_space = settings.name_space;
      po.channel = channel;
      po.kind = kind;
      po.subscription = source::MakeGroupName(task_id, channel);
      po.max_queued_bytes = queued_bytes;
      po.backlog = pulsar_backlog;
      return std::unique_ptr<source::ChannelReader>(
          std::make_unique<source::PulsarChannelReader>(std::move(po)));
    };
  }
  auto brokers = options.kafka_brokers;
  auto config = options.kafka_config;
  return [brokers, config, task_id, queued_bytes, prefetch_kbytes](
             const std::string& channel,
             source::ChannelKind kind) -> Result<std::unique_ptr<source::ChannelReader>> {
    if (brokers.empty()) {
      return InvalidArgumentError(
          "neither sourceConfig.pulsar.address nor sourceConfig.kafka.address is set; "
          "milvus-cdc reads the source's channels from Pulsar or Kafka");
    }
    source::KafkaReaderOptions ko;
    ko.brokers = brokers;
    ko.channel = channel;
    ko.kind = kind;
    ko.group = source::MakeGroupName(task_id, channel);
    ko.config = config;
    ko.max_queued_bytes = queued_bytes;
    ko.queued_max_kbytes = prefetch_kbytes;
    return std::unique_ptr<source::ChannelReader>(
        std::make_unique<source::KafkaChannelReader>(std::move(ko)));
  };
}

Selection TaskSelection(const task::TaskInfo& task) {
  std::vector<std::string> include;
  for (const auto& name : task.FullCollectionNames())
    include.push_back(name == "default.*" ? "*.*" : name);  // "*" means every database
  return Selection(include, task.exclude_collections);
}

MilvusReplicator::MilvusReplicator(ReplicatorOptions options, meta::Store* store)
    : options_(std::move(options)),
      store_(store),
      catalog_(options_.source_etcd, options_.catalog),
      backlog_(options_.kafka_brokers, options_.kafka_config),
      pulsar_backlog_(MakePulsarBacklog(options_.pulsar)),
      notifier_([this] { NotifierLoop(); }) {}

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

void MilvusReplicator::NotifierLoop() {
  std::unique_lock l(events_mu_);
  while (true) {
    events_cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
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

Status MilvusReplicator::Start(const task::TaskInfo& task) {
  if (!task.kafka.address.empty() && task.milvus.Empty()) {
    return UnimplementedError("task " + task.task_id +
                              ": a Kafka target is not supported by this server; use a Milvus "
                              "target (milvus_connect_param)");
  }
  PipelineOptions o;
  o.task_id = task.task_id;
  o.selection = TaskSelection(task);
  o.replicate_channel =
      task.rpc_channel.name.empty() ? options_.replicate_chan : task.rpc_channel.name;
  o.task_start_ts = MsToHybrid(task.create_time_ms);
  o.idle_tick = options_.time_tick_interval;
  o.max_buffered_bytes = options_.read_buffer_bytes;
  o.init_backoff = options_.init_backoff;
  o.max_backoff = std::max(options_.max_backoff, options_.init_backoff);

  PipelineDeps d;
  d.catalog = std::make_unique<SourceCatalogView>(&catalog_);
  d.store = store_;
  auto target_opts = target::OptionsForTask(task.milvus, options_.target_replicate_chan);
  d.connect_target = [target_opts]() -> Result<std::unique_ptr<target::Client>> {
    ASSIGN_OR_RETURN(auto c, target::ConnectGrpcClient(target_opts));
    return std::unique_ptr<target::Client>(std::move(c));
  };
  std::string id = task.task_id;
  d.make_reader = MakeReaderFactory(options_, id, pulsar_backlog_);
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
    std::lock_guard l(mu_);
    old = std::move(pipelines_[task.task_id]);
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
  return it == pipelines_.end() ? std::vector<ChannelProgress>{} : it->second->Progress();
}

task::TaskHealth MilvusReplicator::Health(const std::string& task_id) {
  PipelineHealth h;
  uint64_t applied = 0;
  {
    std::lock_guard l(mu_);
    auto it = pipelines_.find(task_id);
    if (it == pipelines_.end()) return {};
    h = it->second->Health();
    applied = it->second->applied_ts();
  }
  task::TaskHealth out;
  out.applied_ts = applied;
  for (const auto& c : h.collections)
    out.collections.push_back({c.name, c.state, c.reason, c.since_ms});
  for (const auto& s : h.initial_sync)
    out.initial_sync.push_back({s.name, s.phase, s.rows_copied, s.rows_estimated, s.eta_s});
  out.skipped = std::move(h.skipped);
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
    lag.lag_messages = pulsar_backlog_
                           ? pulsar_backlog_->MessagesAfter(pos, std::chrono::milliseconds(500))
                           : backlog_.MessagesAfter(pos, std::chrono::milliseconds(500));
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

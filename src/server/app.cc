#include "server/app.h"

#include <unistd.h>

#include <mutex>
#include <optional>

#include "meta/factory.h"
#include "replicate/replicator.h"
#include "source/broker_factory.h"
#include "spdlog/spdlog.h"
#include "target/dial.h"
#include "target/grpc_reader.h"
#include "target/readiness_probe.h"
#include "target/task_options.h"
#include "task/sealed_store.h"

namespace cdc::server {
namespace {

// The etcd client's settings from a config etcd section (credentials only with enableAuth,
// certificates only with enableTLS, as upstream); the one conversion for both etcds.
etcd::ClientOptions EtcdClientOptions(const config::EtcdConfig& e) {
  etcd::ClientOptions o;
  o.endpoints = e.address;
  if (e.enable_auth) {
    o.username = e.username;
    o.password = e.password;
  }
  if (e.enable_tls) {
    o.tls = true;
    o.ca_path = e.tls_ca_cert_path;
    o.cert_path = e.tls_cert_path;
    o.key_path = e.tls_key_path;
  }
  return o;
}

// The store named by metaStoreConfig (deprecated etcdEndpoints honoured); `fence` guards the
// etcd store's writes (ha).
Result<std::unique_ptr<meta::Store>> OpenStore(const config::Config& c, meta::Fence* fence) {
  const auto& m = c.meta_store;
  meta::StoreOptions o;
  o.type = m.store_type;
  o.root_path = m.root_path;
  o.sqlite_path = m.sqlite_path;
  o.etcd = EtcdClientOptions(m.EffectiveEtcd());
  o.mysql_dsn = m.mysql_source_url;
  o.etcd_fence = fence;
  return meta::CreateStore(o);
}

// The source queue from sourceConfig: Pulsar when pulsar.address is set, otherwise Kafka.
source::BrokerOptions BrokerOptionsFrom(const config::Config& c) {
  source::BrokerOptions o;
  o.kafka.brokers = c.source.kafka.address;
  o.kafka.config = c.source.kafka.consumer;
  if (!c.source.kafka.sasl_username.empty()) {
    o.kafka.config["sasl.username"] = c.source.kafka.sasl_username;
    o.kafka.config["sasl.password"] = c.source.kafka.sasl_password;
    o.kafka.config["sasl.mechanisms"] = c.source.kafka.sasl_mechanisms;
    o.kafka.config["security.protocol"] = c.source.kafka.security_protocol;
  }
  o.pulsar.address = c.source.pulsar.address;
  o.pulsar.tenant = c.source.pulsar.tenant;
  o.pulsar.name_space = c.source.pulsar.name_space;
  o.pulsar.auth_plugin = c.source.pulsar.auth_plugin;
  o.pulsar.auth_params = c.source.pulsar.auth_params;
  o.pulsar.max_message_size = c.source.pulsar.max_message_size;
  o.pulsar.web_address = c.source.pulsar.web_address;
  o.pulsar.web_port = c.source.pulsar.web_port;
  return o;
}

// The source queue, or (for a sourceConfig mistake) a stand-in that fails every task with the key
// to fix: the server serves its API either way.
std::unique_ptr<source::Broker> OpenBroker(const config::Config& c) {
  auto broker = source::CreateBroker(BrokerOptionsFrom(c));
  if (broker.ok()) {
    spdlog::info("source queue: {}", (*broker)->Describe());
    return std::move(*broker);
  }
  spdlog::warn("source queue: {}; tasks cannot start until it is fixed",
               std::string(broker.status().message()));
  return source::UnusableBroker(broker.status());
}

// The replication pipeline's view of the source (etcd catalog, replicate channel, buffers) from
// sourceConfig.
verify::ReaderFactory VerifyReaders(const config::Config& c, const std::string& target_chan);

replicate::ReplicatorOptions ReplicatorOptionsFrom(const config::Config& c) {
  replicate::ReplicatorOptions o;
  const config::EtcdConfig etcd = c.source.EffectiveEtcd();
  o.source_etcd = EtcdClientOptions(etcd);
  if (!etcd.root_path.empty()) o.catalog.root_path = etcd.root_path;
  if (!etcd.meta_sub_path.empty()) o.catalog.meta_sub_path = etcd.meta_sub_path;
  o.replicate_chan = c.source.replicate_chan;
  o.initial_sync_query_only = c.initial_sync.way == "query";
  o.copy_page_rows = c.initial_sync.query_batch_rows;
  o.copy_rows_per_s = c.initial_sync.query_rows_per_second;
  if (c.source.milvus.Configured())
    o.source_reader = VerifyReaders(c, o.target_replicate_chan).source;
  if (c.source.channel_num > 0) o.source_channel_num = c.source.channel_num;
  o.read_buffer_bytes = static_cast<size_t>(c.source.read_buffer_mb) << 20;
  o.shared_readers = c.source.shared_readers;
  o.coalesce.enabled = c.coalesce.enabled;
  o.coalesce.max_bytes = static_cast<size_t>(c.coalesce.max_message_bytes);
  // Upstream's fallback when any retry key is 0 is 1 s .. 10 s; ours starts faster (250 ms).
  if (c.retry.retry_times > 0 && c.retry.init_back_off > 0 && c.retry.max_back_off > 0) {
    o.init_backoff = std::chrono::seconds(c.retry.init_back_off);
    o.max_backoff = std::chrono::seconds(c.retry.max_back_off);
  }
  if (c.source.time_tick_interval > 0)
    o.time_tick_interval = std::chrono::milliseconds(c.source.time_tick_interval);
  return o;
}

// Secrets at rest: checks the stored tasks against metaStoreConfig.secretKeyFile (or its
// absence) and, with a key, wraps the store so task secrets are sealed on every write.
Status SealStore(const config::Config& c, std::unique_ptr<meta::Store>* store) {
  const std::string& path = c.meta_store.secret_key_file;
  std::optional<crypto::AesKey> key;
  if (!path.empty()) {
    auto loaded = crypto::LoadKeyFile(path);
    if (!loaded.ok()) return Annotate(loaded.status(), "config key metaStoreConfig.secretKeyFile");
    key = std::move(*loaded);
  }
  RETURN_IF_ERROR(task::PrepareStoredSecrets(store->get(), key ? &*key : nullptr, path));
  if (key) *store = std::make_unique<task::SealedStore>(std::move(*store), *key, path);
  return OkStatus();
}

// The HTTP API's limits, tokens and TLS from the `api` section.
api::ServerOptions ApiOptionsFrom(const config::Config& c) {
  const auto& a = c.api;
  api::ServerOptions o;
  o.listener.header_timeout = std::chrono::milliseconds(a.header_timeout_ms);
  o.listener.body_timeout = std::chrono::milliseconds(a.body_timeout_ms);
  o.listener.idle_timeout = std::chrono::milliseconds(a.idle_timeout_ms);
  o.listener.max_connections = static_cast<size_t>(a.max_connections);
  o.listener.max_body_bytes = static_cast<size_t>(a.max_body_bytes);
  o.listener.tls_cert_path = a.tls.cert_path;
  o.listener.tls_key_path = a.tls.key_path;
  o.read_threads = a.read_threads;
  o.slow_threads = a.handler_threads;
  o.queue_limit = static_cast<size_t>(a.queue_limit);
  o.auth.admin_hashes = a.auth.admin_token_hashes;
  o.auth.read_hashes = a.auth.read_token_hashes;
  o.auth.token_file = a.auth.token_file;
  o.auth.max_failures_per_minute = a.auth.max_failures_per_minute;
  return o;
}

// The source's proxy from sourceConfig.milvus (the keys of a task's milvus_connect_param).
target::ConnectOptions SourceMilvusOptions(const config::MilvusSourceConfig& m) {
  target::ConnectOptions o;
  o.uri = m.uri;
  o.token = m.token;
  o.connect_timeout_s = m.connect_timeout;
  o.server_name = m.server_name;
  o.server_pem_path = m.server_pem_path;
  o.ca_pem_path = m.ca_pem_path;
  o.client_pem_path = m.client_pem_path;
  o.client_key_path = m.client_key_path;
  o.names = {"source", "sourceConfig.milvus"};
  return o;
}

// Verify's view of the tasks: the manager, and the pipeline's selection rule.
class ManagerTaskView final : public verify::TaskView {
 public:
  explicit ManagerTaskView(task::TaskManager* tasks) : tasks_(tasks) {}
  Result<task::TaskInfo> Get(const std::string& id) override { return tasks_->Get(id); }
  task::TaskHealth Health(const std::string& id) override { return tasks_->Health(id); }
  bool Selected(const task::TaskInfo& task, const std::string& db,
                const std::string& collection) override {
    return replicate::TaskSelection(task).Selected(db, collection);
  }

 private:
  task::TaskManager* tasks_;
};

// Readers for verify: one connection to the source's proxy, made at the first verify (the
// server starts without it) and kept; a task's target connected per verify.
verify::ReaderFactory VerifyReaders(const config::Config& c, const std::string& target_chan) {
  verify::ReaderFactory f;
  if (c.source.milvus.Configured()) {
    struct Source {
      std::mutex mu;
      std::shared_ptr<target::MilvusReader> reader;
    };
    auto source = std::make_shared<Source>();
    auto opts = SourceMilvusOptions(c.source.milvus);
    f.source = [source, opts]() -> Result<std::shared_ptr<target::MilvusReader>> {
      std::lock_guard l(source->mu);
      if (!source->reader) {
        ASSIGN_OR_RETURN(auto r, target::ConnectGrpcReader(opts));
        source->reader = std::move(r);
      }
      return source->reader;
    };
  }
  f.target =
      [target_chan](const task::TaskInfo& t) -> Result<std::shared_ptr<target::MilvusReader>> {
    ASSIGN_OR_RETURN(auto r,
                     target::ConnectGrpcReader(target::OptionsForTask(t.milvus, target_chan)));
    return std::shared_ptr<target::MilvusReader>(std::move(r));
  };
  return f;
}

// ha.serverId, or the address with a wildcard host replaced by the machine's name.
std::string ServerId(const config::Config& c) {
  if (!c.ha.server_id.empty()) return c.ha.server_id;
  std::string host = c.ListenHost();
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    char name[256] = {};
    host = gethostname(name, sizeof(name) - 1) == 0 && name[0] ? name : "localhost";
  }
  return host + ":" + std::to_string(c.ListenPort());
}

// The coordinator of several servers sharing an etcd meta store (none for other stores).
Result<std::unique_ptr<ha::Coordinator>> OpenHa(const config::Config& c) {
  if (c.meta_store.store_type != "etcd") return std::unique_ptr<ha::Coordinator>();
  ha::CoordinatorOptions o;
  o.server_id = ServerId(c);
  o.root_path = c.meta_store.root_path;
  o.lease_ttl = std::chrono::seconds(c.ha.lease_ttl_seconds);
  o.poll = std::chrono::milliseconds(c.ha.poll_interval_ms);
  o.drain_timeout = std::chrono::seconds(c.ha.drain_timeout_seconds);
  auto r = ha::Coordinator::Create(EtcdClientOptions(c.meta_store.EffectiveEtcd()), o);
  if (!r.ok()) return Annotate(r.status(), "ha: check metaStoreConfig.etcd.address");
  return r;
}

}  // namespace

Status App::Start() {
  if (config_.source.milvus.Configured()) {
    RETURN_IF_ERROR(Annotate(
        target::CheckConnectOptions(SourceMilvusOptions(config_.source.milvus)), "load config"));
  }
  ASSIGN_OR_RETURN(ha_, OpenHa(config_));
  ASSIGN_OR_RETURN(store_, OpenStore(config_, ha_.get()));
  spdlog::info("meta store: {}", store_->Describe());
  RETURN_IF_ERROR(SealStore(config_, &store_));
  auto ropts = ReplicatorOptionsFrom(config_);
  ropts.crash_after_ack_for_tests = crash_after_ack_for_tests_;
  if (ha_) {
    ropts.wrap_target = [c = ha_.get()](const std::string& id,
                                        std::unique_ptr<target::Client> client) {
      return c->Gate(id, std::move(client));
    };
  }
  const std::string target_chan = ropts.target_replicate_chan;
  probe_ = std::make_unique<target::ReadinessProbe>(ropts.target_replicate_chan);
  broker_ = OpenBroker(config_);
  auto milvus =
      std::make_unique<replicate::MilvusReplicator>(std::move(ropts), broker_.get(), store_.get());
  const replicate::MilvusReplicator* milvus_view = milvus.get();
  replicator_ = std::move(milvus);
  task::ManagerOptions opts;
  opts.max_task_num = config_.max_task_num;
  opts.limits.max_name_length = config_.max_name_length;
  opts.limits.replicate_chan = config_.source.replicate_chan;
  task::Replicator* replicator = replicator_.get();
  if (ha_) {
    ha_->set_inner(replicator_.get());
    replicator = ha_.get();  // pipelines start where the task's owner is
    opts.persist_reasons = false;
  }
  tasks_ =
      std::make_unique<task::TaskManager>(store_.get(), replicator, probe_.get(), std::move(opts));
  RETURN_IF_ERROR(Annotate(tasks_->Recover(), "load tasks from " + store_->Describe()));
  if (ha_) {
    ha_->set_store(store_.get());
    ha_->set_manager(tasks_.get());
    RETURN_IF_ERROR(ha_->Open());
  }
  task_view_ = std::make_unique<ManagerTaskView>(tasks_.get());
  verifier_ =
      std::make_unique<verify::Verifier>(task_view_.get(), VerifyReaders(config_, target_chan));
  api_ = std::make_unique<api::Server>(tasks_.get(), ApiOptionsFrom(config_));
  api_->handler().set_verifier(verifier_.get());
  api_->metrics().set_verifier(verifier_.get());
  api_->set_extra_metrics([c = ha_.get(), r = milvus_view] {
    return (c != nullptr ? c->RenderMetrics() : std::string()) + r->RenderMetrics();
  });
  RETURN_IF_ERROR(api_->Start(config_.ListenHost(), config_.ListenPort()));
  return OkStatus();
}

void App::Stop() {
  if (api_) api_->Stop();  // no new requests
  api_.reset();
  if (verifier_) verifier_->Stop();  // its jobs read the tasks
  verifier_.reset();
  task_view_.reset();
  if (ha_) ha_->Drain();          // the other servers take this one's tasks
  if (tasks_) tasks_->StopAll();  // replicators flush their checkpoints
  if (ha_) ha_->Close();          // threads, any pipeline left, the lease
  tasks_.reset();
  replicator_.reset();
  broker_.reset();
  probe_.reset();
  store_.reset();
  ha_.reset();
}

}  // namespace cdc::server

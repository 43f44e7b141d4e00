#include "server/app.h"

#include "meta/factory.h"
#include "spdlog/spdlog.h"

namespace cdc::server {
namespace {

// The store named by metaStoreConfig (deprecated etcdEndpoints honoured; credentials only with
// enableAuth, certificates only with enableTLS, as upstream).
Result<std::unique_ptr<meta::Store>> OpenStore(const config::Config& c) {
  const auto& m = c.meta_store;
  meta::StoreOptions o;
  o.type = m.store_type;
  o.root_path = m.root_path;
  o.sqlite_path = m.sqlite_path;
  const config::EtcdConfig etcd = m.EffectiveEtcd();
  o.etcd_endpoints = etcd.address;
  if (etcd.enable_auth) {
    o.etcd_username = etcd.username;
    o.etcd_password = etcd.password;
  }
  if (etcd.enable_tls) {
    o.etcd_tls = true;
    o.etcd_ca_path = etcd.tls_ca_cert_path;
    o.etcd_cert_path = etcd.tls_cert_path;
    o.etcd_key_path = etcd.tls_key_path;
  }
  o.mysql_dsn = m.mysql_source_url;
  return meta::CreateStore(o);
}

}  // namespace

Status App::Start() {
  ASSIGN_OR_RETURN(store_, OpenStore(config_));
  spdlog::info("meta store: {}", store_->Describe());
  replicator_ = std::make_unique<task::NoopReplicator>();
  probe_ = std::make_unique<task::GrpcTargetProbe>();
  task::ManagerOptions opts;
  opts.max_task_num = config_.max_task_num;
  opts.limits.max_name_length = config_.max_name_length;
  opts.limits.replicate_chan = config_.source.replicate_chan;
  tasks_ = std::make_unique<task::TaskManager>(store_.get(), replicator_.get(), probe_.get(),
                                               std::move(opts));
  RETURN_IF_ERROR(Annotate(tasks_->Recover(), "load tasks from " + store_->Describe()));
  api_ = std::make_unique<api::Server>(tasks_.get());
  RETURN_IF_ERROR(api_->Start(config_.ListenHost(), config_.ListenPort()));
  return OkStatus();
}

void App::Stop() {
  if (api_) api_->Stop();  // no new requests
  api_.reset();
  if (tasks_) tasks_->StopAll();  // replicators flush their checkpoints
  tasks_.reset();
  replicator_.reset();
  probe_.reset();
  store_.reset();
}

}  // namespace cdc::server

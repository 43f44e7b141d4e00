#include "server/app.h"

#include "meta/sqlite/sqlite_store.h"
#include "spdlog/spdlog.h"

namespace cdc::server {
namespace {

// The store named by metaStoreConfig.
Result<std::unique_ptr<meta::Store>> OpenStore(const config::Config& c) {
  const auto& m = c.meta_store;
  if (m.store_type == "sqlite") {
    ASSIGN_OR_RETURN(auto store, meta::SqliteStore::Open(m.sqlite_path, m.root_path));
    return std::unique_ptr<meta::Store>(std::move(store));
  }
  return UnimplementedError("metaStoreConfig.storeType " + m.store_type +
                            " is not available in this build yet; use sqlite");
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

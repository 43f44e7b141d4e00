#include "replicate/source_catalog_view.h"

#include "absl/strings/str_join.h"

namespace cdc::replicate {

SharedSourceCatalog::SharedSourceCatalog(etcd::ClientOptions etcd, source::CatalogOptions options)
    : etcd_(std::move(etcd)), options_(std::move(options)) {}

SharedSourceCatalog::~SharedSourceCatalog() {
  if (catalog_) catalog_->Stop();
}

Result<source::Catalog*> SharedSourceCatalog::Get() {
  std::lock_guard l(mu_);
  if (catalog_) return catalog_.get();
  if (!client_) {
    auto c = etcd::Client::Connect(etcd_);
    if (!c.ok()) {
      return Status(c.status().code() == StatusCode::kInvalidArgument ? StatusCode::kInvalidArgument
                                                                      : StatusCode::kUnavailable,
                    "connect source etcd " + absl::StrJoin(etcd_.endpoints, ",") + ": " +
                        std::string(c.status().message()) + "; check sourceConfig.etcd.address");
    }
    client_ = std::move(*c);
  }
  auto cat = source::Catalog::Start(client_.get(), options_, [this](const auto&) { Changed(); });
  if (!cat.ok()) {
    return UnavailableError("read the source catalog under " + options_.MetaPrefix() +
                            " from etcd " + absl::StrJoin(etcd_.endpoints, ",") + ": " +
                            std::string(cat.status().message()));
  }
  catalog_ = std::move(*cat);
  return catalog_.get();
}

int SharedSourceCatalog::Subscribe(std::function<void()> fn) {
  std::lock_guard l(listeners_mu_);
  listeners_[next_listener_] = std::move(fn);
  return next_listener_++;
}

void SharedSourceCatalog::Unsubscribe(int id) {
  std::lock_guard l(listeners_mu_);
  listeners_.erase(id);
}

void SharedSourceCatalog::Changed() {
  std::lock_guard l(listeners_mu_);
  for (const auto& [_, fn] : listeners_) fn();
}

void SourceCatalogView::OnChange(const std::function<void()>& fn) {
  if (listener_ != 0) shared_->Unsubscribe(listener_);
  listener_ = fn ? shared_->Subscribe(fn) : 0;
}

std::optional<CollectionMeta> SourceCatalogView::Convert(const source::CollectionMeta& c) {
  const auto& info = c.info;
  if (info.state() != 0) return std::nullopt;  // only Created collections
  CollectionMeta m;
  m.id = info.id();
  m.db_id = c.db_id;
  m.db_name = c.db_name.empty() ? "default" : c.db_name;
  m.name = info.schema().name();
  m.schema = info.schema().SerializeAsString();
  m.shards_num = info.shards_num();
  m.consistency_level = info.consistency_level();
  for (const auto& kv : info.properties()) m.properties.emplace_back(kv.key(), kv.value());
  m.aliases = c.aliases;
  m.revision = c.key_revision;
  m.vchannels.assign(info.virtual_channel_names().begin(), info.virtual_channel_names().end());
  m.pchannels.assign(info.physical_channel_names().begin(), info.physical_channel_names().end());
  for (const auto& kd : info.start_positions()) m.start_msg_ids[kd.key()] = kd.data();
  m.create_ts = info.create_time();
  for (const auto& [id, p] : c.partitions) {
    if (p.state != 0) continue;  // only Created partitions
    m.partitions.push_back({id, p.name, p.created_ts, false});
  }
  return m;
}

Result<std::vector<CollectionMeta>> SourceCatalogView::ListCollections() {
  ASSIGN_OR_RETURN(source::Catalog * cat, shared_->Get());
  std::vector<CollectionMeta> out;
  for (const auto& c : cat->Collections())
    if (auto m = Convert(c)) out.push_back(std::move(*m));
  return out;
}

Status SourceCatalogView::Sync() {
  ASSIGN_OR_RETURN(source::Catalog * cat, shared_->Get());
  return cat->Sync(sync_timeout_);
}

int64_t SourceCatalogView::Revision() {
  auto cat = shared_->Get();
  return cat.ok() ? (*cat)->status().revision : 0;
}

Result<std::optional<CollectionMeta>> SourceCatalogView::GetCollection(int64_t id) {
  ASSIGN_OR_RETURN(source::Catalog * cat, shared_->Get());
  if (auto c = cat->Collection(id)) return Convert(*c);
  auto gone = cat->Dropped(id);
  if (!gone) return std::optional<CollectionMeta>();
  auto m = Convert(*gone);
  if (m) m->dropped = true;
  return m;
}

Result<std::optional<PartitionMeta>> SourceCatalogView::GetPartition(int64_t collection_id,
                                                                     int64_t partition_id) {
  ASSIGN_OR_RETURN(source::Catalog * cat, shared_->Get());
  if (auto c = cat->Collection(collection_id)) {
    if (auto it = c->partitions.find(partition_id);
        it != c->partitions.end() && it->second.state == 0) {
      return std::optional<PartitionMeta>(
          PartitionMeta{partition_id, it->second.name, it->second.created_ts, false});
    }
  }
  if (auto p = cat->DroppedPartition(collection_id, partition_id))
    return std::optional<PartitionMeta>(PartitionMeta{partition_id, p->name, p->created_ts, true});
  return std::optional<PartitionMeta>();
}

Result<std::map<int64_t, LoadInfo>> SourceCatalogView::LoadStates() {
  ASSIGN_OR_RETURN(source::Catalog * c, shared_->Get());
  ASSIGN_OR_RETURN(auto states, c->LoadStates());
  std::map<int64_t, LoadInfo> out;
  for (const auto& [id, m] : states) {
    if (!m.loaded) continue;
    LoadInfo& info = out[id];
    info.by_partition = m.by_partition;
    info.replicas = m.replicas;
    info.partitions.insert(m.partitions.begin(), m.partitions.end());
  }
  return out;
}

Result<rbac::State> SourceCatalogView::Rbac() {
  ASSIGN_OR_RETURN(source::Catalog * c, shared_->Get());
  return c->Credentials();
}

}  // namespace cdc::replicate

#include "replicate/collection_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "milvus/common.pb.h"
#include "milvus/schema.pb.h"

namespace cdc::replicate {

namespace {
bool IsDefaultPartition(const std::string& name) {
  // "_default" and the partition-key partitions "_default_N" belong to the collection itself.
  return name.find("_default") != std::string::npos;
}
}  // namespace

target::milvuspb::CreateCollectionRequest CreateRequestFor(const CollectionMeta& meta,
                                                           const std::string& name) {
  const std::string& as = name.empty() ? meta.name : name;
  target::milvuspb::CreateCollectionRequest req;
  req.set_collection_name(as);
  ::milvus::proto::schema::CollectionSchema schema;
  if (schema.ParseFromString(meta.schema)) {
    ::milvus::proto::schema::CollectionSchema out = schema;
    out.clear_fields();
    bool dynamic = schema.enable_dynamic_field();
    for (const auto& f : schema.fields()) {
      if (f.is_dynamic()) {
        dynamic = true;  // the target adds its own `$meta` for enable_dynamic_field
        continue;
      }
      *out.add_fields() = f;
    }
    out.set_enable_dynamic_field(dynamic);
    out.set_name(as);
    req.set_schema(out.SerializeAsString());
  } else {
    req.set_schema(meta.schema);  // the target says what is wrong with it
  }
  req.set_shards_num(meta.shards_num > 0 ? meta.shards_num
                                         : static_cast<int32_t>(meta.vchannels.size()));
  req.set_consistency_level(
      static_cast<::milvus::proto::common::ConsistencyLevel>(meta.consistency_level));
  for (const auto& [k, v] : meta.properties) {
    auto* kv = req.add_properties();
    kv->set_key(k);
    kv->set_value(v);
  }
  int64_t key_partitions = 0;
  for (const auto& p : meta.partitions)
    if (p.name.rfind("_default_", 0) == 0) ++key_partitions;
  if (key_partitions > 0) req.set_num_partitions(key_partitions);
  return req;
}

CollectionMap::CollectionMap(Selection selection, CatalogView* catalog, target::Client* target,
                             std::shared_ptr<source::CollectionFilter> ignored, task::NameMap names)
    : selection_(std::move(selection)),
      names_(std::move(names)),
      catalog_(catalog),
      target_(target),
      ignored_(ignored ? std::move(ignored) : std::make_shared<source::CollectionFilter>()) {}

Status CollectionMap::EnsureDatabase(const std::string& db, uint64_t ts) {
  if (db.empty() || db == "default" || databases_.count(db)) return OkStatus();
  RETURN_IF_ERROR(target_->CreateDatabase(db, ts));
  databases_.insert(db);
  return OkStatus();
}

Result<MappedCollection*> CollectionMap::Ensure(const CollectionMeta& meta) {
  if (auto it = mapped_.find(meta.id); it != mapped_.end()) return &it->second;
  if (!selection_.Selected(meta.db_name, meta.name)) {
    ignored_->Ignore(meta.id);
    return nullptr;
  }
  const task::FullName to = TargetName(meta.db_name, meta.name);
  const std::string& db = to.db;
  for (const auto& [id, other] : mapped_) {
    if (other.target.db_name == to.db && other.target.name == to.collection) {
      return FailedPreconditionError(absl::StrCat(
          "map collection ", meta.db_name, ".", meta.name, " to ", to.Text(), ": source ",
          other.source.db_name, ".", other.source.name,
          " is already replicated there; change the task's name_mapping so that each source "
          "collection has a target name of its own"));
    }
  }
  RETURN_IF_ERROR(EnsureDatabase(db, meta.create_ts));
  auto described = target_->DescribeCollection(db, to.collection);
  if (!described.ok() && described.status().code() == StatusCode::kNotFound) {
    if (before_create_) RETURN_IF_ERROR(before_create_(meta));
    RETURN_IF_ERROR(
        target_->CreateCollection(db, CreateRequestFor(meta, to.collection), meta.create_ts));
    described = target_->DescribeCollection(db, to.collection);
  }
  if (!described.ok()) return described.status();

  MappedCollection c;
  c.source = meta;
  c.target = *described;
  if (c.source.vchannels.size() != c.target.vchannels.size() ||
      c.target.pchannels.size() != c.target.vchannels.size()) {
    return FailedPreconditionError(absl::StrCat(
        "map collection ", to.Text(), ": the source has ", c.source.vchannels.size(),
        " shards but ", target_->Describe(), " has ", c.target.vchannels.size(),
        "; drop the collection on the target so that it is created with the source's shards"));
  }
  std::vector<std::string> src = c.source.vchannels;
  std::vector<std::pair<std::string, std::string>> tgt;
  for (size_t i = 0; i < c.target.vchannels.size(); ++i)
    tgt.emplace_back(c.target.vchannels[i], c.target.pchannels[i]);
  std::sort(src.begin(), src.end());
  std::sort(tgt.begin(), tgt.end());
  for (size_t i = 0; i < src.size(); ++i) c.routes[src[i]] = {tgt[i].first, tgt[i].second};
  for (const auto& p : meta.partitions) c.source_partitions[p.id] = p.name;
  auto [it, _] = mapped_.emplace(meta.id, std::move(c));
  MappedCollection& mc = it->second;
  RETURN_IF_ERROR(RefreshTargetPartitions(mc));
  for (const auto& p : meta.partitions) {
    if (IsDefaultPartition(p.name) || mc.target_partitions.count(p.name)) continue;
    RETURN_IF_ERROR(AddPartition(mc, p.id, p.name, p.create_ts));
  }
  return &mc;
}

Status CollectionMap::RefreshTargetPartitions(MappedCollection& c) {
  ASSIGN_OR_RETURN(auto parts, target_->ShowPartitions(c.target.db_name, c.target.name));
  c.target_partitions.clear();
  for (const auto& p : parts) c.target_partitions[p.name] = p.id;
  return OkStatus();
}

Status CollectionMap::AddPartition(MappedCollection& c, int64_t source_partition_id,
                                   const std::string& name, uint64_t ts) {
  if (source_partition_id != 0) c.source_partitions[source_partition_id] = name;
  if (IsDefaultPartition(name)) return RefreshTargetPartitions(c);
  if (!c.target_partitions.count(name)) {
    RETURN_IF_ERROR(target_->CreatePartition(c.target.db_name, c.target.name, name, ts));
  }
  return RefreshTargetPartitions(c);
}

void CollectionMap::RemovePartition(MappedCollection& c, const std::string& name) {
  c.target_partitions.erase(name);
  for (auto it = c.source_partitions.begin(); it != c.source_partitions.end();) {
    it = it->second == name ? c.source_partitions.erase(it) : std::next(it);
  }
}

Result<int64_t> CollectionMap::TargetPartition(MappedCollection& c, int64_t source_partition_id) {
  auto name_it = c.source_partitions.find(source_partition_id);
  if (name_it == c.source_partitions.end()) {
    ASSIGN_OR_RETURN(auto meta, catalog_->GetCollection(c.source.id));
    if (meta) {
      for (const auto& p : meta->partitions) c.source_partitions[p.id] = p.name;
    }
    name_it = c.source_partitions.find(source_partition_id);
    if (name_it == c.source_partitions.end()) {
      return NotFoundError(absl::StrCat("partition id ", source_partition_id, " of collection ",
                                        c.source.db_name, ".", c.source.name,
                                        " is not in the source catalog"));
    }
    for (const auto& p : meta->partitions) {
      if (p.id == source_partition_id && !c.target_partitions.count(p.name))
        RETURN_IF_ERROR(AddPartition(c, p.id, p.name, p.create_ts));
    }
  }
  auto tgt = c.target_partitions.find(name_it->second);
  if (tgt == c.target_partitions.end()) {
    RETURN_IF_ERROR(RefreshTargetPartitions(c));
    tgt = c.target_partitions.find(name_it->second);
    if (tgt == c.target_partitions.end()) {
      return NotFoundError(absl::StrCat("partition ", name_it->second, " of collection ",
                                        c.target.db_name, ".", c.target.name, " is missing on ",
                                        target_->Describe()));
    }
  }
  return tgt->second;
}

MappedCollection* CollectionMap::Find(int64_t source_id) {
  auto it = mapped_.find(source_id);
  return it == mapped_.end() ? nullptr : &it->second;
}

void CollectionMap::Drop(int64_t source_id) {
  mapped_.erase(source_id);
  ignored_->Ignore(source_id);
}

MappedCollection* CollectionMap::FindByName(const std::string& db, const std::string& name) {
  const std::string d = db.empty() ? "default" : db;
  for (auto& [_, c] : mapped_)
    if ((c.source.db_name.empty() ? "default" : c.source.db_name) == d && c.source.name == name)
      return &c;
  return nullptr;
}

std::set<std::string> CollectionMap::SourcePChannels() const {
  std::set<std::string> out;
  for (const auto& [_, c] : mapped_)
    out.insert(c.source.pchannels.begin(), c.source.pchannels.end());
  return out;
}

std::set<std::string> CollectionMap::TargetPChannels() const {
  std::set<std::string> out;
  for (const auto& [_, c] : mapped_)
    for (const auto& [__, r] : c.routes) out.insert(r.target_pchannel);
  return out;
}

}  // namespace cdc::replicate

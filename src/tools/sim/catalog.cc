#include "tools/sim/catalog.h"

#include "absl/strings/str_cat.h"
#include "milvus/etcd_meta.pb.h"
#include "source/position.h"
#include "source/vchannel.h"

namespace cdc::sim {
namespace etcdpb = milvus::proto::etcd;

Kv DatabaseKv(const CatalogLayout& l, int64_t id, const std::string& name, uint64_t created_ns) {
  etcdpb::DatabaseInfo db;
  db.set_name(name);
  db.set_id(id);
  db.set_state(etcdpb::DatabaseCreated);
  db.set_created_time(created_ns);
  return {absl::StrCat(l.Root(), "database/db-info/", id), db.SerializeAsString()};
}

etcdpb::CollectionInfo CollectionInfoValue(const CollectionSpec& c,
                                           const std::vector<std::string>& pchannels,
                                           const std::vector<int64_t>& start_offsets,
                                           uint64_t create_ts) {
  etcdpb::CollectionInfo ci;
  ci.set_id(c.id);
  ci.mutable_schema()->set_name(c.name);
  ci.mutable_schema()->set_enable_dynamic_field(c.dynamic_field);
  ci.set_create_time(create_ts);
  for (size_t i = 0; i < pchannels.size(); ++i) {
    ci.add_virtual_channel_names(source::MakeVChannel(pchannels[i], c.id, static_cast<int>(i)));
  }
  for (const auto& p : pchannels) ci.add_physical_channel_names(p);
  ci.set_shards_num(static_cast<int32_t>(pchannels.size()));
  for (size_t i = 0; i < pchannels.size() && i < start_offsets.size(); ++i) {
    auto* sp = ci.add_start_positions();
    sp->set_key(pchannels[i]);
    sp->set_data(source::EncodeKafkaMsgId(start_offsets[i]));
  }
  ci.set_consistency_level(milvus::proto::common::Bounded);
  ci.set_db_id(c.db_id);
  return ci;
}

std::vector<Kv> CollectionKvs(const CatalogLayout& l, const CollectionSpec& c,
                              const std::vector<std::string>& pchannels,
                              const std::vector<int64_t>& start_offsets,
                              int64_t default_partition_id, uint64_t create_ts) {
  std::vector<Kv> out;
  out.push_back({absl::StrCat(l.Root(), "database/collection-info/", c.db_id, "/", c.id),
                 CollectionInfoValue(c, pchannels, start_offsets, create_ts).SerializeAsString()});
  const auto schema = MakeSchemaWithSystemFields(c);
  for (const auto& f : schema.fields()) {
    out.push_back(
        {absl::StrCat(l.Root(), "fields/", c.id, "/", f.fieldid()), f.SerializeAsString()});
  }
  out.push_back(PartitionKv(l, c.id, default_partition_id, "_default", create_ts));
  return out;
}

Kv PartitionKv(const CatalogLayout& l, int64_t collection_id, int64_t partition_id,
               const std::string& name, uint64_t create_ts, int state) {
  etcdpb::PartitionInfo p;
  p.set_partitionid(partition_id);
  p.set_partitionname(name);
  p.set_partition_created_timestamp(create_ts);
  p.set_collection_id(collection_id);
  p.set_state(static_cast<etcdpb::PartitionState>(state));
  return {absl::StrCat(l.Root(), "partitions/", collection_id, "/", partition_id),
          p.SerializeAsString()};
}

Kv DropCollectionKv(const CatalogLayout& l, const CollectionSpec& c,
                    const std::vector<std::string>& pchannels,
                    const std::vector<int64_t>& start_offsets, uint64_t create_ts) {
  auto ci = CollectionInfoValue(c, pchannels, start_offsets, create_ts);
  ci.set_state(etcdpb::CollectionDropping);
  return {absl::StrCat(l.Root(), "database/collection-info/", c.db_id, "/", c.id),
          ci.SerializeAsString()};
}

Kv DropDatabaseKv(const CatalogLayout& l, int64_t id) {
  return {absl::StrCat(l.Root(), "database/db-info/", id), std::string("\xE2\x9B\xBC", 3)};
}

}  // namespace cdc::sim

#include "tools/sim/messages.h"

namespace cdc::sim {
namespace common = milvus::proto::common;
namespace schema = milvus::proto::schema;
namespace msg = milvus::proto::msg;

namespace {
void FillBase(common::MsgBase* b, common::MsgType type, uint64_t ts, int64_t msg_id,
              int64_t source_id) {
  b->set_msg_type(type);
  b->set_msgid(msg_id);
  b->set_timestamp(ts);
  b->set_sourceid(source_id);
}

void AddSystemField(schema::CollectionSchema* s, int64_t id, const char* name,
                    const char* description) {
  auto* f = s->add_fields();
  f->set_fieldid(id);
  f->set_name(name);
  f->set_description(description);
  f->set_data_type(schema::Int64);
}

// Create and Drop partition requests share one field layout.
template <typename Req>
Req PartitionRequest(common::MsgType type, const CollectionSpec& c, int64_t partition_id,
                     const std::string& name, uint64_t ts) {
  Req r;
  FillBase(r.mutable_base(), type, ts, 0, 1);
  r.set_partition_name(name);
  r.set_collectionid(c.id);
  r.set_partitionid(partition_id);
  return r;
}
}  // namespace

schema::CollectionSchema MakeSchema(const CollectionSpec& c) {
  schema::CollectionSchema s;
  s.set_name(c.name);
  s.set_enable_dynamic_field(c.dynamic_field);
  auto* pk = s.add_fields();
  pk->set_fieldid(100);
  pk->set_name(c.pk_field);
  pk->set_is_primary_key(true);
  pk->set_data_type(schema::Int64);
  auto* vec = s.add_fields();
  vec->set_fieldid(101);
  vec->set_name(c.vector_field);
  vec->set_data_type(schema::FloatVector);
  auto* dim = vec->add_type_params();
  dim->set_key("dim");
  dim->set_value(std::to_string(c.dim));
  return s;
}

schema::CollectionSchema MakeSchemaWithSystemFields(const CollectionSpec& c) {
  schema::CollectionSchema s = MakeSchema(c);
  AddSystemField(&s, 0, "RowID", "row id");
  AddSystemField(&s, 1, "Timestamp", "time stamp");
  return s;
}

msg::InsertRequest MakeInsert(const CollectionSpec& c, const InsertSpec& s) {
  msg::InsertRequest r;
  FillBase(r.mutable_base(), common::Insert, s.ts, s.msg_id, 1);
  r.set_shardname(s.vchannel);
  r.set_collection_name(c.name);
  r.set_partition_name(s.partition_name);
  r.set_collectionid(c.id);
  r.set_partitionid(s.partition_id);
  r.set_segmentid(s.segment_id);
  auto* pks = r.add_fields_data();
  pks->set_type(schema::Int64);
  pks->set_field_name(c.pk_field);
  pks->set_field_id(100);
  auto* pk_data = pks->mutable_scalars()->mutable_long_data();
  auto* vecs = r.add_fields_data();
  vecs->set_type(schema::FloatVector);
  vecs->set_field_name(c.vector_field);
  vecs->set_field_id(101);
  vecs->mutable_vectors()->set_dim(c.dim);
  auto* fv = vecs->mutable_vectors()->mutable_float_vector()->mutable_data();
  fv->Reserve(s.rows * c.dim);
  const int64_t first_row = s.first_row_id ? s.first_row_id : s.first_pk;
  for (int i = 0; i < s.rows; ++i) {
    int64_t pk = s.first_pk + i;
    r.add_timestamps(s.ts);
    r.add_rowids(first_row + i);
    pk_data->add_data(pk);
    for (int d = 0; d < c.dim; ++d) fv->Add(static_cast<float>(pk));
  }
  r.set_num_rows(s.rows);
  r.set_version(msg::ColumnBased);
  return r;
}

msg::DeleteRequest MakeDelete(const CollectionSpec& c, const std::string& vchannel, uint64_t ts,
                              int64_t msg_id, const std::vector<int64_t>& pks) {
  msg::DeleteRequest r;
  FillBase(r.mutable_base(), common::Delete, ts, msg_id, 1);
  r.set_shardname(vchannel);
  r.set_collection_name(c.name);
  r.set_collectionid(c.id);
  r.set_partitionid(-1);
  auto* ids = r.mutable_primary_keys()->mutable_int_id();
  for (int64_t pk : pks) {
    ids->add_data(pk);
    r.add_timestamps(ts);
  }
  r.set_num_rows(static_cast<int64_t>(pks.size()));
  return r;
}

msg::TimeTickMsg MakeTimeTick(uint64_t ts, int64_t source_id) {
  msg::TimeTickMsg t;
  FillBase(t.mutable_base(), common::TimeTick, ts, 0, source_id);
  return t;
}

msg::CreateCollectionRequest MakeCreateCollection(const CollectionSpec& c,
                                                  const std::vector<std::string>& vchannels,
                                                  const std::vector<std::string>& pchannels,
                                                  int64_t default_partition_id, uint64_t ts) {
  msg::CreateCollectionRequest r;
  FillBase(r.mutable_base(), common::CreateCollection, ts, 0, 0);
  r.set_collectionid(c.id);
  r.set_schema(MakeSchemaWithSystemFields(c).SerializeAsString());
  for (const auto& v : vchannels) r.add_virtualchannelnames(v);
  for (const auto& p : pchannels) r.add_physicalchannelnames(p);
  r.add_partitionids(default_partition_id);
  return r;
}

msg::DropCollectionRequest MakeDropCollection(const CollectionSpec& c, uint64_t ts) {
  msg::DropCollectionRequest r;
  FillBase(r.mutable_base(), common::DropCollection, ts, 0, 1);
  r.set_collectionname(c.name);
  r.set_collectionid(c.id);
  return r;
}

msg::CreatePartitionRequest MakeCreatePartition(const CollectionSpec& c, int64_t partition_id,
                                                const std::string& name, uint64_t ts) {
  return PartitionRequest<msg::CreatePartitionRequest>(common::CreatePartition, c, partition_id,
                                                       name, ts);
}

msg::DropPartitionRequest MakeDropPartition(const CollectionSpec& c, int64_t partition_id,
                                            const std::string& name, uint64_t ts) {
  return PartitionRequest<msg::DropPartitionRequest>(common::DropPartition, c, partition_id, name,
                                                     ts);
}

}  // namespace cdc::sim

#include "replicate/row_copy.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace cdc::replicate {

namespace schemapb = milvus::proto::schema;

uint32_t Murmur3Hash32(std::string_view data, uint32_t seed) {
  constexpr uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
  auto rotl = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t n = data.size();
  uint32_t h = seed;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t k = static_cast<uint32_t>(p[i]) | (static_cast<uint32_t>(p[i + 1]) << 8) |
                 (static_cast<uint32_t>(p[i + 2]) << 16) | (static_cast<uint32_t>(p[i + 3]) << 24);
    k *= c1;
    k = rotl(k, 15);
    k *= c2;
    h ^= k;
    h = rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  }
  uint32_t k = 0;
  switch (n & 3) {
    case 3:
      k ^= static_cast<uint32_t>(p[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(p[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= p[i];
      k *= c1;
      k = rotl(k, 15);
      k *= c2;
      h ^= k;
      break;
    default:
      break;
  }
  h ^= static_cast<uint32_t>(n);
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

uint32_t HashInt64Key(int64_t key) {
  char bytes[8];
  auto v = static_cast<uint64_t>(key);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return Murmur3Hash32(std::string_view(bytes, 8)) & 0x7fffffff;
}

uint32_t HashStringKey(std::string_view key) {
  const size_t n = std::min<size_t>(key.size(), 100);
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(key.data()), static_cast<uInt>(n)));
}

namespace {
// The hash of row `i` of a key column (int64 or varchar).
Result<uint32_t> KeyHash(const schemapb::FieldData& col, int64_t i) {
  const auto& s = col.scalars();
  if (s.has_long_data()) return HashInt64Key(s.long_data().data(static_cast<int>(i)));
  if (s.has_string_data()) return HashStringKey(s.string_data().data(static_cast<int>(i)));
  return InvalidArgumentError(
      absl::StrCat("key column ", col.field_name(), " is neither int64 nor varchar"));
}

int64_t Rows(const schemapb::FieldData& col) {
  const auto& s = col.scalars();
  if (s.has_long_data()) return s.long_data().data_size();
  if (s.has_string_data()) return s.string_data().data_size();
  return 0;
}
}  // namespace

Result<std::vector<RowGroup>> GroupRows(const schemapb::FieldData& pk,
                                        const schemapb::FieldData* partition_key, int64_t num_rows,
                                        int num_shards, int64_t key_partitions,
                                        const std::string& partition) {
  if (num_shards <= 0) return InvalidArgumentError("group copied rows: no shards");
  if (Rows(pk) < num_rows || (partition_key && Rows(*partition_key) < num_rows)) {
    return InvalidArgumentError("group copied rows: a key column has fewer values than rows");
  }
  std::map<std::pair<int, std::string>, RowGroup> groups;
  for (int64_t i = 0; i < num_rows; ++i) {
    ASSIGN_OR_RETURN(uint32_t h, KeyHash(pk, i));
    std::string part = partition;
    if (partition_key != nullptr && key_partitions > 0) {
      ASSIGN_OR_RETURN(uint32_t k, KeyHash(*partition_key, i));
      part = absl::StrCat("_default_", k % static_cast<uint32_t>(key_partitions));
    }
    const int shard = static_cast<int>(h % static_cast<uint32_t>(num_shards));
    RowGroup& g = groups[{shard, part}];
    g.shard = shard;
    g.partition = part;
    g.rows.push_back(i);
  }
  std::vector<RowGroup> out;
  out.reserve(groups.size());
  for (auto& [_, g] : groups) out.push_back(std::move(g));
  return out;
}

namespace {
template <typename Repeated>
void Pick(const Repeated& from, const std::vector<int64_t>& rows, Repeated* to) {
  to->Reserve(static_cast<int>(rows.size()));
  for (int64_t r : rows) *to->Add() = from.Get(static_cast<int>(r));
}

// Picks `rows` of a flat array holding `width` values per row.
template <typename T>
Status PickFlat(const T& from, int64_t width, const std::vector<int64_t>& rows, T* to,
                const std::string& what) {
  for (int64_t r : rows) {
    const int64_t begin = r * width;
    if (begin + width > static_cast<int64_t>(from.size())) {
      return InvalidArgumentError(absl::StrCat("copy rows: ", what, " holds too few values"));
    }
    to->append(from.data() + begin, from.data() + begin + width);
  }
  return OkStatus();
}
}  // namespace

Result<schemapb::FieldData> SelectRows(const schemapb::FieldData& column,
                                       const std::vector<int64_t>& rows) {
  schemapb::FieldData out;
  out.set_type(column.type());
  out.set_field_name(column.field_name());
  out.set_field_id(column.field_id());
  out.set_is_dynamic(column.is_dynamic());
  if (column.has_scalars()) {
    const auto& s = column.scalars();
    auto* o = out.mutable_scalars();
    if (s.has_bool_data()) Pick(s.bool_data().data(), rows, o->mutable_bool_data()->mutable_data());
    if (s.has_int_data()) Pick(s.int_data().data(), rows, o->mutable_int_data()->mutable_data());
    if (s.has_long_data()) Pick(s.long_data().data(), rows, o->mutable_long_data()->mutable_data());
    if (s.has_float_data())
      Pick(s.float_data().data(), rows, o->mutable_float_data()->mutable_data());
    if (s.has_double_data())
      Pick(s.double_data().data(), rows, o->mutable_double_data()->mutable_data());
    if (s.has_string_data())
      Pick(s.string_data().data(), rows, o->mutable_string_data()->mutable_data());
    if (s.has_bytes_data())
      Pick(s.bytes_data().data(), rows, o->mutable_bytes_data()->mutable_data());
    if (s.has_json_data()) Pick(s.json_data().data(), rows, o->mutable_json_data()->mutable_data());
    if (s.has_array_data())
      Pick(s.array_data().data(), rows, o->mutable_array_data()->mutable_data());
    return out;
  }
  if (column.has_vectors()) {
    const auto& v = column.vectors();
    auto* o = out.mutable_vectors();
    o->set_dim(v.dim());
    if (v.has_float_vector()) {
      std::vector<float> picked;
      const auto& from = v.float_vector().data();
      for (int64_t r : rows) {
        const int64_t begin = r * v.dim();
        if (begin + v.dim() > from.size()) {
          return InvalidArgumentError("copy rows: float vector column holds too few values");
        }
        picked.insert(picked.end(), from.begin() + begin, from.begin() + begin + v.dim());
      }
      o->mutable_float_vector()->mutable_data()->Add(picked.begin(), picked.end());
    } else if (v.has_binary_vector()) {
      RETURN_IF_ERROR(PickFlat(v.binary_vector(), v.dim() / 8, rows, o->mutable_binary_vector(),
                               "binary vector column"));
    } else if (v.has_float16_vector()) {
      RETURN_IF_ERROR(PickFlat(v.float16_vector(), v.dim() * 2, rows, o->mutable_float16_vector(),
                               "float16 vector column"));
    }
    return out;
  }
  return out;  // an empty column (no rows) stays empty
}

Result<schemapb::IDs> SelectKeys(const schemapb::FieldData& pk, const std::vector<int64_t>& rows) {
  schemapb::IDs ids;
  const auto& s = pk.scalars();
  if (s.has_long_data()) {
    Pick(s.long_data().data(), rows, ids.mutable_int_id()->mutable_data());
  } else if (s.has_string_data()) {
    Pick(s.string_data().data(), rows, ids.mutable_str_id()->mutable_data());
  } else {
    return InvalidArgumentError("copy rows: the primary key is neither int64 nor varchar");
  }
  return ids;
}

namespace {
namespace cpb = milvus::proto::common;
namespace msgpb = milvus::proto::msg;

template <typename Req>
void FillTarget(const CopyDestination& to, uint64_t ts, int64_t msg_id, cpb::MsgType type,
                Req* req) {
  req->mutable_base()->set_msg_type(type);
  req->mutable_base()->set_msgid(msg_id);
  req->mutable_base()->set_timestamp(ts);
  req->mutable_base()->set_sourceid(-1);
  req->set_shardname(to.vchannel);
  req->set_db_name(to.db);
  req->set_collection_name(to.collection);
  req->set_partition_name(to.partition);
  req->set_collectionid(to.collection_id);
  req->set_partitionid(to.partition_id);
}
}  // namespace

int64_t CopyMsgId(uint64_t ts, int kind, int group) {
  // Unique within a tick window (Milvus drops a repeated id there): the timestamp's low 49
  // bits wrap only after weeks.
  const uint64_t low = (ts & ((uint64_t{1} << 49) - 1)) << 12;
  return static_cast<int64_t>((uint64_t{1} << 62) | low | (static_cast<uint64_t>(kind & 1) << 11) |
                              static_cast<uint64_t>(group & 2047));
}

Result<std::string> CopyInsert(const CopyDestination& to,
                               const std::vector<schemapb::FieldData>& columns,
                               const std::vector<int64_t>& rows, uint64_t ts, int64_t msg_id) {
  msgpb::InsertRequest req;
  FillTarget(to, ts, msg_id, cpb::Insert, &req);
  for (const auto& col : columns) {
    ASSIGN_OR_RETURN(auto picked, SelectRows(col, rows));
    *req.add_fields_data() = std::move(picked);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    req.add_timestamps(ts);
    req.add_rowids(static_cast<int64_t>(i));
  }
  req.set_num_rows(rows.size());
  req.set_version(msgpb::ColumnBased);
  return req.SerializeAsString();
}

Result<std::string> CopyDelete(const CopyDestination& to, const schemapb::FieldData& pk,
                               const std::vector<int64_t>& rows, uint64_t ts, int64_t msg_id) {
  msgpb::DeleteRequest req;
  FillTarget(to, ts, msg_id, cpb::Delete, &req);
  ASSIGN_OR_RETURN(*req.mutable_primary_keys(), SelectKeys(pk, rows));
  for (size_t i = 0; i < rows.size(); ++i) req.add_timestamps(ts);
  req.set_num_rows(static_cast<int64_t>(rows.size()));
  return req.SerializeAsString();
}

Result<std::string> DeleteOfInsert(std::string_view insert_payload, int64_t pk_field_id) {
  msgpb::InsertRequest ins;
  if (!ins.ParseFromArray(insert_payload.data(), static_cast<int>(insert_payload.size()))) {
    return InvalidArgumentError("an Insert that does not decode");
  }
  const schemapb::FieldData* pk = nullptr;
  for (const auto& f : ins.fields_data())
    if (f.field_id() == pk_field_id) pk = &f;
  if (pk == nullptr) {
    return InvalidArgumentError(
        absl::StrCat("an Insert without its primary key (field id ", pk_field_id, ")"));
  }
  std::vector<int64_t> rows(static_cast<size_t>(ins.num_rows()));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  msgpb::DeleteRequest del;
  del.mutable_base()->set_msg_type(cpb::Delete);
  // Beside the Insert's own id: the target drops a repeated id within one tick window.
  del.mutable_base()->set_msgid(ins.base().msgid() ^ (int64_t{1} << 61));
  del.mutable_base()->set_timestamp(ins.base().timestamp());
  del.mutable_base()->set_sourceid(ins.base().sourceid());
  del.set_shardname(ins.shardname());
  del.set_db_name(ins.db_name());
  del.set_collection_name(ins.collection_name());
  del.set_partition_name(ins.partition_name());
  del.set_dbid(ins.dbid());
  del.set_collectionid(ins.collectionid());
  del.set_partitionid(ins.partitionid());
  ASSIGN_OR_RETURN(*del.mutable_primary_keys(), SelectKeys(*pk, rows));
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    del.add_timestamps(i < ins.timestamps_size() ? ins.timestamps(i) : ins.base().timestamp());
  del.set_num_rows(static_cast<int64_t>(rows.size()));
  return del.SerializeAsString();
}

}  // namespace cdc::replicate

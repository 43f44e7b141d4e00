#include "replicate/coalescer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"

namespace cdc::replicate {

namespace {
namespace cpb = ::milvus::proto::common;
namespace msgpb = ::milvus::proto::msg;
namespace schemapb = ::milvus::proto::schema;

// Sized once: a stream that grows the string would copy a merged message of megabytes several
// times over.
std::string SerializeDeterministic(const google::protobuf::Message& m) {
  std::string out(m.ByteSizeLong(), '\0');
  google::protobuf::io::ArrayOutputStream stream(out.data(), static_cast<int>(out.size()));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
  return out;
}

// A field this version's protos do not know would be copied blindly (or lost) by a merge.
Status NoUnknown(const google::protobuf::Message& m, const std::string& what) {
  if (m.GetReflection()->GetUnknownFields(m).empty()) return OkStatus();
  return InvalidArgumentError(absl::StrCat(what,
                                           " carries protobuf fields this version does not "
                                           "know"));
}

Status CheckScalars(const schemapb::ScalarField& s, const std::string& field) {
  RETURN_IF_ERROR(NoUnknown(s, "field " + field));
  switch (s.data_case()) {
    case schemapb::ScalarField::kBoolData:
      return NoUnknown(s.bool_data(), "field " + field);
    case schemapb::ScalarField::kIntData:
      return NoUnknown(s.int_data(), "field " + field);
    case schemapb::ScalarField::kLongData:
      return NoUnknown(s.long_data(), "field " + field);
    case schemapb::ScalarField::kFloatData:
      return NoUnknown(s.float_data(), "field " + field);
    case schemapb::ScalarField::kDoubleData:
      return NoUnknown(s.double_data(), "field " + field);
    case schemapb::ScalarField::kStringData:
      return NoUnknown(s.string_data(), "field " + field);
    case schemapb::ScalarField::kBytesData:
      return NoUnknown(s.bytes_data(), "field " + field);
    case schemapb::ScalarField::kJsonData:
      return NoUnknown(s.json_data(), "field " + field);
    case schemapb::ScalarField::kArrayData:
      RETURN_IF_ERROR(NoUnknown(s.array_data(), "field " + field));
      for (const auto& e : s.array_data().data()) RETURN_IF_ERROR(CheckScalars(e, field));
      return OkStatus();
    default:
      return InvalidArgumentError(absl::StrCat("field ", field,
                                               " has no scalar data of a known "
                                               "type"));
  }
}

Status CheckField(const schemapb::FieldData& f) {
  RETURN_IF_ERROR(NoUnknown(f, "field " + f.field_name()));
  if (f.has_scalars()) return CheckScalars(f.scalars(), f.field_name());
  if (!f.has_vectors()) {
    return InvalidArgumentError(absl::StrCat("field ", f.field_name(), " carries no data"));
  }
  const auto& v = f.vectors();
  RETURN_IF_ERROR(NoUnknown(v, "field " + f.field_name()));
  switch (v.data_case()) {
    case schemapb::VectorField::kFloatVector:
      return NoUnknown(v.float_vector(), "field " + f.field_name());
    case schemapb::VectorField::kBinaryVector:
    case schemapb::VectorField::kFloat16Vector:
    case schemapb::VectorField::kBfloat16Vector:
      return OkStatus();
    default:
      return InvalidArgumentError(absl::StrCat("field ", f.field_name(),
                                               " has vectors of a kind this version does not "
                                               "merge"));
  }
}

Status CheckInsert(const msgpb::InsertRequest& in) {
  RETURN_IF_ERROR(NoUnknown(in, "the Insert"));
  RETURN_IF_ERROR(NoUnknown(in.base(), "the Insert's base"));
  if (in.row_data_size() > 0) return InvalidArgumentError("a row-based Insert");
  const auto rows = static_cast<int>(in.num_rows());
  if (in.timestamps_size() != rows || (in.rowids_size() != 0 && in.rowids_size() != rows)) {
    return InvalidArgumentError(absl::StrCat("an Insert of ", rows, " rows with ",
                                             in.timestamps_size(), " timestamps and ",
                                             in.rowids_size(), " row ids"));
  }
  for (const auto& f : in.fields_data()) RETURN_IF_ERROR(CheckField(f));
  return OkStatus();
}

// Both FieldData hold the same field the same way.
Status SameField(const schemapb::FieldData& a, const schemapb::FieldData& b) {
  const bool same = a.field_id() == b.field_id() && a.type() == b.type() &&
                    a.field_name() == b.field_name() && a.is_dynamic() == b.is_dynamic() &&
                    a.field_case() == b.field_case() &&
                    (a.has_scalars() ? a.scalars().data_case() == b.scalars().data_case()
                                     : a.vectors().data_case() == b.vectors().data_case() &&
                                           a.vectors().dim() == b.vectors().dim());
  if (same) return OkStatus();
  return InvalidArgumentError(absl::StrCat("field ", a.field_name(), " (id ", a.field_id(),
                                           ") differs between the messages"));
}

void AppendField(const schemapb::FieldData& from, schemapb::FieldData* to) {
  if (from.has_scalars()) {
    // Every scalar kind (arrays and JSON included) is repeated data: a merge appends it.
    to->mutable_scalars()->MergeFrom(from.scalars());
    return;
  }
  const auto& v = from.vectors();
  auto* out = to->mutable_vectors();
  switch (v.data_case()) {
    case schemapb::VectorField::kFloatVector:
      out->mutable_float_vector()->mutable_data()->Add(v.float_vector().data().begin(),
                                                       v.float_vector().data().end());
      break;
    case schemapb::VectorField::kBinaryVector:
      out->mutable_binary_vector()->append(v.binary_vector());
      break;
    case schemapb::VectorField::kFloat16Vector:
      out->mutable_float16_vector()->append(v.float16_vector());
      break;
    case schemapb::VectorField::kBfloat16Vector:
      out->mutable_bfloat16_vector()->append(v.bfloat16_vector());
      break;
    default:
      break;  // refused by CheckField
  }
}

Status AppendInsert(const msgpb::InsertRequest& in, msgpb::InsertRequest* out) {
  if (in.shardname() != out->shardname() || in.collectionid() != out->collectionid() ||
      in.partitionid() != out->partitionid() || in.version() != out->version() ||
      (in.rowids_size() == 0) != (out->rowids_size() == 0) ||
      in.fields_data_size() != out->fields_data_size()) {
    return InvalidArgumentError("Inserts of different shards, partitions or layouts");
  }
  for (int i = 0; i < in.fields_data_size(); ++i)
    RETURN_IF_ERROR(SameField(out->fields_data(i), in.fields_data(i)));
  for (int i = 0; i < in.fields_data_size(); ++i)
    AppendField(in.fields_data(i), out->mutable_fields_data(i));
  out->mutable_timestamps()->Add(in.timestamps().begin(), in.timestamps().end());
  out->mutable_rowids()->Add(in.rowids().begin(), in.rowids().end());
  out->set_num_rows(out->num_rows() + in.num_rows());
  out->mutable_base()->set_timestamp(std::max(out->base().timestamp(), in.base().timestamp()));
  return OkStatus();
}

Status CheckDelete(const msgpb::DeleteRequest& in) {
  RETURN_IF_ERROR(NoUnknown(in, "the Delete"));
  RETURN_IF_ERROR(NoUnknown(in.base(), "the Delete's base"));
  RETURN_IF_ERROR(NoUnknown(in.primary_keys(), "the Delete's keys"));
  int64_t keys = in.int64_primary_keys_size();
  if (in.primary_keys().has_int_id()) keys += in.primary_keys().int_id().data_size();
  if (in.primary_keys().has_str_id()) keys += in.primary_keys().str_id().data_size();
  if (keys != in.num_rows() || in.timestamps_size() != in.num_rows()) {
    return InvalidArgumentError(absl::StrCat("a Delete of ", in.num_rows(), " rows with ", keys,
                                             " keys and ", in.timestamps_size(), " timestamps"));
  }
  return OkStatus();
}

Status AppendDelete(const msgpb::DeleteRequest& in, msgpb::DeleteRequest* out) {
  if (in.shardname() != out->shardname() || in.collectionid() != out->collectionid() ||
      in.partitionid() != out->partitionid() ||
      in.primary_keys().id_field_case() != out->primary_keys().id_field_case() ||
      (in.int64_primary_keys_size() == 0) != (out->int64_primary_keys_size() == 0)) {
    return InvalidArgumentError("Deletes of different shards, partitions or key kinds");
  }
  if (in.has_primary_keys()) out->mutable_primary_keys()->MergeFrom(in.primary_keys());
  out->mutable_int64_primary_keys()->Add(in.int64_primary_keys().begin(),
                                         in.int64_primary_keys().end());
  out->mutable_timestamps()->Add(in.timestamps().begin(), in.timestamps().end());
  out->set_num_rows(out->num_rows() + in.num_rows());
  out->mutable_base()->set_timestamp(std::max(out->base().timestamp(), in.base().timestamp()));
  return OkStatus();
}

// Makes room in the first Insert's repeated data for the rows of all of them, so that appending
// copies each value once instead of growing by doubling.
void ReserveInserts(const std::vector<msgpb::InsertRequest*>& ins) {
  msgpb::InsertRequest* out = ins.front();
  int rows = 0;
  for (const auto* in : ins) rows += in->timestamps_size();
  out->mutable_timestamps()->Reserve(rows);
  if (out->rowids_size() > 0) out->mutable_rowids()->Reserve(rows);
  for (int f = 0; f < out->fields_data_size(); ++f) {
    auto* to = out->mutable_fields_data(f);
    size_t total = 0;
    for (const auto* in : ins) {
      if (f >= in->fields_data_size()) return;  // refused by AppendInsert
      const auto& from = in->fields_data(f);
      if (from.has_vectors() && from.vectors().has_float_vector()) {
        total += static_cast<size_t>(from.vectors().float_vector().data_size());
      } else if (from.has_vectors()) {
        total += from.vectors().binary_vector().size() + from.vectors().float16_vector().size() +
                 from.vectors().bfloat16_vector().size();
      } else if (from.has_scalars() && from.scalars().has_long_data()) {
        total += static_cast<size_t>(from.scalars().long_data().data_size());
      }
    }
    if (to->has_vectors() && to->vectors().has_float_vector()) {
      to->mutable_vectors()->mutable_float_vector()->mutable_data()->Reserve(
          static_cast<int>(total));
    } else if (to->has_vectors() && to->vectors().has_binary_vector()) {
      to->mutable_vectors()->mutable_binary_vector()->reserve(total);
    } else if (to->has_scalars() && to->scalars().has_long_data()) {
      to->mutable_scalars()->mutable_long_data()->mutable_data()->Reserve(static_cast<int>(total));
    }
  }
}

void ReserveDeletes(const std::vector<msgpb::DeleteRequest*>& ins) {
  msgpb::DeleteRequest* out = ins.front();
  int rows = 0;
  for (const auto* in : ins) rows += in->timestamps_size();
  out->mutable_timestamps()->Reserve(rows);
  if (out->primary_keys().has_int_id())
    out->mutable_primary_keys()->mutable_int_id()->mutable_data()->Reserve(rows);
}

// Parses each payload as T, checks it, and appends all to the first (room made once). Not on a
// protobuf arena: TSan's allocator crashes freeing one built by Debian's uninstrumented
// libprotobuf.
template <typename T>
Result<std::string> Merge(const std::vector<std::string_view>& payloads, int64_t msg_id,
                          const std::string& kind, Status (*check)(const T&),
                          void (*reserve)(const std::vector<T*>&), Status (*append)(const T&, T*)) {
  if (payloads.empty()) return InvalidArgumentError("nothing to merge");
  std::vector<T> parsed(payloads.size());
  std::vector<T*> ins;
  ins.reserve(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    T* in = &parsed[i];
    if (!in->ParseFromArray(payloads[i].data(), static_cast<int>(payloads[i].size())))
      return InvalidArgumentError(absl::StrCat("a", kind, " that does not decode"));
    RETURN_IF_ERROR(check(*in));
    ins.push_back(in);
  }
  reserve(ins);
  T* out = ins.front();
  for (size_t i = 1; i < ins.size(); ++i) RETURN_IF_ERROR(append(*ins[i], out));
  out->mutable_base()->set_msgid(msg_id);
  return SerializeDeterministic(*out);
}

bool IsDml(int type) { return type == cpb::Insert || type == cpb::Delete; }
}  // namespace

Result<std::string> MergeInserts(const std::vector<std::string_view>& payloads, int64_t msg_id) {
  return Merge<msgpb::InsertRequest>(payloads, msg_id, "n Insert", &CheckInsert, &ReserveInserts,
                                     &AppendInsert);
}

Result<std::string> MergeDeletes(const std::vector<std::string_view>& payloads, int64_t msg_id) {
  return Merge<msgpb::DeleteRequest>(payloads, msg_id, " Delete", &CheckDelete, &ReserveDeletes,
                                     &AppendDelete);
}

void AddCoalesceStats(const CoalesceStats& from, CoalesceStats* to) {
  to->merged += from.merged;
  to->folded += from.folded;
  to->fallbacks += from.fallbacks;
  if (!from.last_fallback.empty()) to->last_fallback = from.last_fallback;
}

int64_t CoalescedMsgId(const std::vector<int64_t>& ids) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits, over each id's bytes
  for (int64_t id : ids) {
    auto v = static_cast<uint64_t>(id);
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ULL;
    }
  }
  const auto id = static_cast<int64_t>(h & 0x7fffffffffffffffULL);
  return id == 0 ? 1 : id;
}

std::vector<CoalescedMessage> Coalescer::Apply(std::vector<source::Message> msgs,
                                               const std::function<uint64_t(uint64_t)>& bucket) {
  std::vector<CoalescedMessage> out;
  out.reserve(msgs.size());
  if (!options_.enabled || msgs.size() < 2) {
    for (auto& m : msgs) {
      const uint64_t ts = m.header.timestamp;
      out.push_back({std::move(m), ts, 1});
    }
    return out;
  }
  struct Run {
    int type = 0;
    int64_t partition = 0;
    size_t bytes = 0;
    std::vector<source::Message> msgs;
  };
  std::vector<Run> runs;  // in the order of each run's first message
  // Per (collection, shard, bucket): the type of its open runs and the open run of each
  // partition (Inserts, or Deletes, of different partitions commute; a change of type ends them
  // all).
  struct Open {
    int type = 0;
    std::map<int64_t, size_t> by_partition;
  };
  std::map<std::tuple<int64_t, std::string, uint64_t>, Open> open;
  for (auto& m : msgs) {
    const source::Header& h = m.header;
    const size_t size = m.payload.size();
    if (!IsDml(h.type)) {
      // A drop (or anything else) ends the runs of its collection; one naming none ends all.
      for (auto it = open.begin(); it != open.end();) {
        it = (h.collection_id == 0 || std::get<0>(it->first) == h.collection_id) ? open.erase(it)
                                                                                 : std::next(it);
      }
      runs.push_back({h.type, h.partition_id, size, {}});
      runs.back().msgs.push_back(std::move(m));
      continue;
    }
    Open& o = open[std::make_tuple(h.collection_id, h.shard_name, bucket(h.timestamp))];
    if (o.type != h.type) {
      o.by_partition.clear();  // a Delete after Inserts (or the reverse) ends every run here
      o.type = h.type;
    }
    if (auto it = o.by_partition.find(h.partition_id); it != o.by_partition.end()) {
      Run& r = runs[it->second];
      if (r.bytes + size <= options_.max_bytes) {
        r.bytes += size;
        r.msgs.push_back(std::move(m));
        continue;
      }
    }
    runs.push_back({h.type, h.partition_id, size, {}});
    runs.back().msgs.push_back(std::move(m));
    o.by_partition[h.partition_id] = runs.size() - 1;
  }
  for (auto& r : runs) Emit(std::move(r.msgs), &out);
  return out;
}

void Coalescer::Emit(std::vector<source::Message> run, std::vector<CoalescedMessage>* out) {
  if (run.size() == 1) {
    const uint64_t ts = run[0].header.timestamp;
    out->push_back({std::move(run[0]), ts, 1});
    return;
  }
  std::vector<std::string_view> payloads;
  std::vector<int64_t> ids;
  uint64_t first_ts = UINT64_MAX, last_ts = 0;
  for (const auto& m : run) {
    payloads.push_back(m.payload);
    ids.push_back(m.header.msg_id);
    first_ts = std::min(first_ts, m.header.timestamp);
    last_ts = std::max(last_ts, m.header.timestamp);
  }
  const int64_t id = CoalescedMsgId(ids);
  auto merged =
      run[0].header.type == cpb::Insert ? MergeInserts(payloads, id) : MergeDeletes(payloads, id);
  if (!merged.ok()) {
    stats_.fallbacks += run.size();
    stats_.last_fallback = absl::StrCat(
        source::MsgTypeName(run[0].header.type), " at ", source::DescribePosition(run[0].position),
        " and ", run.size() - 1, " more sent as they were: ", merged.status().message());
    if (stats_.fallbacks == run.size() || stats_.fallbacks % 1000 < run.size())
      spdlog::warn("coalescing: {} (fallbacks so far: {})", stats_.last_fallback, stats_.fallbacks);
    for (auto& m : run) {
      const uint64_t ts = m.header.timestamp;
      out->push_back({std::move(m), ts, 1});
    }
    return;
  }
  ++stats_.merged;
  stats_.folded += run.size();
  auto owner = std::make_shared<const std::string>(std::move(*merged));
  source::Message m;
  m.payload = *owner;
  m.owner = std::move(owner);
  m.position = run[0].position;
  m.offset = run[0].offset;
  m.header = run[0].header;
  m.header.timestamp = last_ts;
  m.header.msg_id = id;
  out->push_back({std::move(m), first_ts, run.size()});
}

}  // namespace cdc::replicate

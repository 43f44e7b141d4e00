#include "replicate/dml_log.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/msg_log.h"
#include "milvus/msg.pb.h"
#include "source/position.h"

namespace cdc::replicate {

namespace msgpb = ::milvus::proto::msg;
namespace schemapb = ::milvus::proto::schema;
namespace cpb = ::milvus::proto::common;

namespace {

constexpr int kShown = 10;  // values shown per field, as upstream

template <typename Repeated>
std::string Head(const Repeated& values) {
  const int n = std::min(values.size(), kShown);
  std::string out = absl::StrCat("[", absl::StrJoin(values.begin(), values.begin() + n, ","));
  if (values.size() > n) absl::StrAppend(&out, ",...");
  return out + "]";
}

std::string Ids(const schemapb::IDs& ids) {
  if (ids.has_int_id()) return Head(ids.int_id().data());
  if (ids.has_str_id()) return Head(ids.str_id().data());
  return "[]";
}

}  // namespace

std::string DescribeDml(const source::Message& m, const std::string& db,
                        const std::string& collection) {
  const auto& h = m.header;
  std::string out = absl::StrCat(source::MsgTypeName(h.type), " ", db, ".", collection,
                                 " partition_id=", h.partition_id, " shard=", h.shard_name,
                                 " ts=", h.timestamp, " at ", source::DescribePosition(m.position));
  const int size = static_cast<int>(m.payload.size());
  if (h.type == cpb::Insert) {
    msgpb::InsertRequest req;
    if (!req.ParseFromArray(m.payload.data(), size)) return out + " (undecodable)";
    absl::StrAppend(&out, " rows=", req.num_rows());
    for (const auto& f : req.fields_data()) {
      if (!f.has_scalars()) continue;
      if (f.scalars().has_long_data()) {
        absl::StrAppend(&out, " ", f.field_name(), "=", Head(f.scalars().long_data().data()));
      } else if (f.scalars().has_string_data()) {
        absl::StrAppend(&out, " ", f.field_name(), "=", Head(f.scalars().string_data().data()));
      }
    }
  } else if (h.type == cpb::Delete) {
    msgpb::DeleteRequest req;
    if (!req.ParseFromArray(m.payload.data(), size)) return out + " (undecodable)";
    absl::StrAppend(
        &out, " rows=", req.num_rows(), " primary_keys=",
        req.has_primary_keys() ? Ids(req.primary_keys()) : Head(req.int64_primary_keys()));
  }
  return out;
}

void LogDml(const std::string& task_id, const source::Message& m, const std::string& db,
            const std::string& collection) {
  if (!MsgLog::Global().Admit()) return;
  spdlog::info("task {}: replicate {}", task_id, DescribeDml(m, db, collection));
}

}  // namespace cdc::replicate

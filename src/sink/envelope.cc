#include "sink/envelope.h"

#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/hybrid_time.h"

namespace cdc::sink {

namespace schemapb = ::milvus::proto::schema;
namespace msgpb = ::milvus::proto::msg;
namespace commonpb = ::milvus::proto::common;
using json = nlohmann::json;

namespace {

Status RowOutOfRange(const std::string& field, int64_t row, int64_t rows) {
  return InvalidArgumentError(
      absl::StrCat("field ", field, ": row ", row, " but the column has ", rows, " values"));
}

template <typename Repeated>
Result<json> At(const Repeated& values, int64_t row, const std::string& field) {
  if (row < 0 || row >= values.size()) return RowOutOfRange(field, row, values.size());
  return json(values.Get(static_cast<int>(row)));
}

// A JSON column's value as JSON; text that does not parse stays a string.
json ParsedJson(const std::string& text) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? json(text) : v;
}

// One element list of an Array column, by its own oneof.
json ScalarList(const schemapb::ScalarField& s) {
  switch (s.data_case()) {
    case schemapb::ScalarField::kBoolData:
      return json(std::vector<bool>(s.bool_data().data().begin(), s.bool_data().data().end()));
    case schemapb::ScalarField::kIntData:
      return json(s.int_data().data());
    case schemapb::ScalarField::kLongData:
      return json(s.long_data().data());
    case schemapb::ScalarField::kFloatData:
      return json(s.float_data().data());
    case schemapb::ScalarField::kDoubleData:
      return json(s.double_data().data());
    case schemapb::ScalarField::kStringData:
      return json(s.string_data().data());
    default:
      return json::array();
  }
}

// The fixed-width bytes of one row of a packed vector column, base64.
Result<json> PackedRow(const std::string& bytes, int64_t row, size_t width,
                       const std::string& field) {
  const int64_t rows = width == 0 ? 0 : static_cast<int64_t>(bytes.size() / width);
  if (row < 0 || row >= rows) return RowOutOfRange(field, row, rows);
  return json(crypto::Base64Encode(std::string_view(bytes).substr(row * width, width)));
}

// A sparse row (2.4: pairs of little-endian uint32 index and float32 value) as {"index": value}.
json SparseRow(const std::string& bytes) {
  json out = json::object();
  for (size_t at = 0; at + 8 <= bytes.size(); at += 8) {
    uint32_t index = 0;
    float value = 0;
    std::memcpy(&index, bytes.data() + at, 4);
    std::memcpy(&value, bytes.data() + at + 4, 4);
    out[std::to_string(index)] = value;
  }
  return out;
}

Result<json> ScalarValue(const schemapb::FieldData& f, int64_t row) {
  const auto& s = f.scalars();
  const std::string& name = f.field_name();
  switch (f.type()) {
    case schemapb::Bool:
      return At(s.bool_data().data(), row, name);
    case schemapb::Int8:
    case schemapb::Int16:
    case schemapb::Int32:
      return At(s.int_data().data(), row, name);
    case schemapb::Int64:
      return At(s.long_data().data(), row, name);
    case schemapb::Float:
      return At(s.float_data().data(), row, name);
    case schemapb::Double:
      return At(s.double_data().data(), row, name);
    case schemapb::String:
    case schemapb::VarChar:
      return At(s.string_data().data(), row, name);
    case schemapb::JSON: {
      const auto& v = s.json_data().data();
      if (row < 0 || row >= v.size()) return RowOutOfRange(name, row, v.size());
      return ParsedJson(v.Get(static_cast<int>(row)));
    }
    case schemapb::Array: {
      const auto& v = s.array_data().data();
      if (row < 0 || row >= v.size()) return RowOutOfRange(name, row, v.size());
      return ScalarList(v.Get(static_cast<int>(row)));
    }
    default:
      return InvalidArgumentError(absl::StrCat("field ", name, ": type ",
                                               schemapb::DataType_Name(f.type()),
                                               " is not encoded by envelope version 1"));
  }
}

Result<json> VectorValue(const schemapb::FieldData& f, int64_t row) {
  const auto& v = f.vectors();
  const std::string& name = f.field_name();
  const auto dim = static_cast<size_t>(v.dim());
  switch (f.type()) {
    case schemapb::FloatVector: {
      const auto& data = v.float_vector().data();
      const int64_t rows = dim == 0 ? 0 : static_cast<int64_t>(data.size() / dim);
      if (row < 0 || row >= rows) return RowOutOfRange(name, row, rows);
      const auto first = static_cast<std::ptrdiff_t>(row * static_cast<int64_t>(dim));
      return json(std::vector<float>(data.begin() + first,
                                     data.begin() + first + static_cast<std::ptrdiff_t>(dim)));
    }
    case schemapb::BinaryVector:
      return PackedRow(v.binary_vector(), row, dim / 8, name);
    case schemapb::Float16Vector:
      return PackedRow(v.float16_vector(), row, dim * 2, name);
    case schemapb::BFloat16Vector:
      return PackedRow(v.bfloat16_vector(), row, dim * 2, name);
    case schemapb::SparseFloatVector: {
      const auto& c = v.sparse_float_vector().contents();
      if (row < 0 || row >= c.size()) return RowOutOfRange(name, row, c.size());
      return SparseRow(c.Get(static_cast<int>(row)));
    }
    default:
      return ScalarValue(f, row);
  }
}

json PrimaryKeys(const schemapb::IDs& ids, std::string* type) {
  if (ids.has_str_id()) {
    *type = "VarChar";
    return json(ids.str_id().data());
  }
  *type = "Int64";
  return json(ids.int_id().data());
}

}  // namespace

json EnvelopeHead(std::string_view op, const std::string& db, const std::string& collection,
                  uint64_t ts, const std::optional<SourcePosition>& position) {
  json e = json::object();
  e["version"] = kEnvelopeVersion;
  e["op"] = op;
  e["database"] = db.empty() ? "default" : db;
  if (!collection.empty()) e["collection"] = collection;
  e["ts"] = ts;
  e["time_ms"] = HybridToMs(ts);
  e["position"] = position ? json{{"channel", position->channel},
                                  {"msg_id", crypto::Base64Encode(position->msg_id)}}
                           : json(nullptr);
  return e;
}

Result<json> FieldValue(const schemapb::FieldData& f, int64_t row) {
  if (f.has_vectors()) return VectorValue(f, row);
  return ScalarValue(f, row);
}

json FieldDescription(const schemapb::FieldData& f) {
  json d = {{"name", f.field_name()}, {"type", schemapb::DataType_Name(f.type())}};
  if (f.has_vectors()) d["dim"] = f.vectors().dim();
  if (f.type() == schemapb::Array)
    d["element_type"] = schemapb::DataType_Name(f.scalars().array_data().element_type());
  if (f.is_dynamic()) d["dynamic"] = true;
  return d;
}

Result<json> InsertEnvelope(const msgpb::InsertRequest& req,
                            const std::optional<SourcePosition>& position) {
  uint64_t ts = req.base().timestamp();
  for (uint64_t t : req.timestamps()) ts = std::max(ts, t);  // a 2.3 upsert leaves base 0
  json e = EnvelopeHead("insert", req.db_name(), req.collection_name(), ts, position);
  e["partition"] = req.partition_name();
  json fields = json::array();
  for (const auto& f : req.fields_data()) fields.push_back(FieldDescription(f));
  e["fields"] = std::move(fields);
  json rows = json::array();
  const auto n = static_cast<int64_t>(req.num_rows());
  for (int64_t r = 0; r < n; ++r) {
    json row = json::object();
    for (const auto& f : req.fields_data()) {
      ASSIGN_OR_RETURN(row[f.field_name()], FieldValue(f, r));
    }
    rows.push_back(std::move(row));
  }
  e["rows"] = std::move(rows);
  return e;
}

Result<json> DeleteEnvelope(const msgpb::DeleteRequest& req,
                            const std::optional<SourcePosition>& position) {
  uint64_t ts = req.base().timestamp();
  for (uint64_t t : req.timestamps()) ts = std::max(ts, t);
  json e = EnvelopeHead("delete", req.db_name(), req.collection_name(), ts, position);
  e["partition"] = req.partition_name();
  std::string type;
  if (req.has_primary_keys()) {
    e["primary_keys"] = PrimaryKeys(req.primary_keys(), &type);
  } else {
    type = "Int64";
    e["primary_keys"] = json(req.int64_primary_keys());
  }
  e["pk_type"] = type;
  return e;
}

Result<json> CreateCollectionEnvelope(const std::string& db,
                                      const ::milvus::proto::milvus::CreateCollectionRequest& req,
                                      uint64_t ts) {
  schemapb::CollectionSchema schema;
  if (!schema.ParseFromString(req.schema())) {
    return InvalidArgumentError(
        absl::StrCat("create collection ", req.collection_name(), ": the schema does not parse"));
  }
  json e = EnvelopeHead("create_collection", db, req.collection_name(), ts, std::nullopt);
  json fields = json::array();
  for (const auto& f : schema.fields()) {
    json d = {{"name", f.name()},
              {"type", schemapb::DataType_Name(f.data_type())},
              {"primary_key", f.is_primary_key()},
              {"auto_id", f.autoid()},
              {"partition_key", f.is_partition_key()}};
    if (f.data_type() == schemapb::Array)
      d["element_type"] = schemapb::DataType_Name(f.element_type());
    json params = json::object();
    for (const auto& kv : f.type_params()) params[kv.key()] = kv.value();
    d["params"] = std::move(params);
    fields.push_back(std::move(d));
  }
  e["schema"] = {{"description", schema.description()},
                 {"enable_dynamic_field", schema.enable_dynamic_field()},
                 {"fields", std::move(fields)}};
  e["shards_num"] = req.shards_num();
  e["consistency_level"] = commonpb::ConsistencyLevel_Name(req.consistency_level());
  json props = json::object();
  for (const auto& kv : req.properties()) props[kv.key()] = kv.value();
  e["properties"] = std::move(props);
  e["num_partitions"] = req.num_partitions();
  return e;
}

}  // namespace cdc::sink

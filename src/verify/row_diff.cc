#include "verify/row_diff.h"

#include <cstring>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace cdc::verify {
namespace {

namespace schemapb = target::schemapb;

template <typename T>
std::string_view Bytes(const T& v) {
  return {reinterpret_cast<const char*>(&v), sizeof(T)};
}

// A fixed-width slice of a packed vector column.
std::string_view Slice(const std::string& data, int64_t row, int64_t width) {
  const auto start = static_cast<size_t>(row * width);
  if (width <= 0 || start + width > data.size()) return {};
  return std::string_view(data).substr(start, static_cast<size_t>(width));
}

// The value of row `i` as bytes equal exactly when the values are (JSON aside).
std::string Cell(const schemapb::FieldData& f, int64_t i) {
  if (f.has_vectors()) {
    const auto& v = f.vectors();
    const int64_t dim = v.dim();
    switch (v.data_case()) {
      case schemapb::VectorField::kFloatVector: {
        const auto& d = v.float_vector().data();
        if (dim <= 0 || (i + 1) * dim > d.size()) return {};
        return std::string(reinterpret_cast<const char*>(d.data() + i * dim),
                           sizeof(float) * static_cast<size_t>(dim));
      }
      case schemapb::VectorField::kBinaryVector:
        return std::string(Slice(v.binary_vector(), i, (dim + 7) / 8));
      case schemapb::VectorField::kFloat16Vector:
        return std::string(Slice(v.float16_vector(), i, 2 * dim));
      case schemapb::VectorField::kBfloat16Vector:
        return std::string(Slice(v.bfloat16_vector(), i, 2 * dim));
      case schemapb::VectorField::kSparseFloatVector:
        return i < v.sparse_float_vector().contents_size()
                   ? v.sparse_float_vector().contents(static_cast<int>(i))
                   : std::string();
      default:
        return {};
    }
  }
  const auto& s = f.scalars();
  const int r = static_cast<int>(i);
  auto at = [r](const auto& repeated) { return r < repeated.size(); };
  switch (s.data_case()) {
    case schemapb::ScalarField::kBoolData:
      return at(s.bool_data().data()) ? std::string(s.bool_data().data(r) ? "1" : "0") : "";
    case schemapb::ScalarField::kIntData:
      return at(s.int_data().data()) ? std::string(Bytes(s.int_data().data(r))) : "";
    case schemapb::ScalarField::kLongData:
      return at(s.long_data().data()) ? std::string(Bytes(s.long_data().data(r))) : "";
    case schemapb::ScalarField::kFloatData:
      return at(s.float_data().data()) ? std::string(Bytes(s.float_data().data(r))) : "";
    case schemapb::ScalarField::kDoubleData:
      return at(s.double_data().data()) ? std::string(Bytes(s.double_data().data(r))) : "";
    case schemapb::ScalarField::kStringData:
      return at(s.string_data().data()) ? s.string_data().data(r) : "";
    case schemapb::ScalarField::kBytesData:
      return at(s.bytes_data().data()) ? s.bytes_data().data(r) : "";
    case schemapb::ScalarField::kArrayData:
      return at(s.array_data().data()) ? s.array_data().data(r).SerializeAsString() : "";
    case schemapb::ScalarField::kJsonData:
      return at(s.json_data().data()) ? s.json_data().data(r) : "";
    default:
      return {};
  }
}

bool IsJson(const schemapb::FieldData& f) {
  return f.type() == schemapb::JSON || f.scalars().has_json_data();
}

// Row index of each key of an answer.
Result<std::map<target::PrimaryKey, int64_t>> RowsByKey(const target::QueryResult& r,
                                                        const std::string& pk_field,
                                                        const char* side) {
  std::map<target::PrimaryKey, int64_t> out;
  if (r.num_rows == 0) return out;
  const auto* column = r.Field(pk_field);
  if (column == nullptr) {
    return InternalError(absl::StrCat("the ", side, "'s answer has no key column ", pk_field));
  }
  ASSIGN_OR_RETURN(auto keys, target::KeysOf(*column));
  for (size_t i = 0; i < keys.size(); ++i) out.emplace(keys[i], static_cast<int64_t>(i));
  return out;
}

}  // namespace

bool SameValue(const schemapb::FieldData& a, int64_t i, const schemapb::FieldData& b, int64_t j) {
  const std::string va = Cell(a, i), vb = Cell(b, j);
  if (va == vb) return true;
  if (!IsJson(a) || !IsJson(b)) return false;
  auto ja = nlohmann::json::parse(va, nullptr, false);
  auto jb = nlohmann::json::parse(vb, nullptr, false);
  return !ja.is_discarded() && !jb.is_discarded() && ja == jb;
}

Result<std::vector<KeyDiff>> CompareRows(const target::QueryResult& source,
                                         const target::QueryResult& target,
                                         const std::string& pk_field, size_t max) {
  ASSIGN_OR_RETURN(auto src_rows, RowsByKey(source, pk_field, "source"));
  ASSIGN_OR_RETURN(auto tgt_rows, RowsByKey(target, pk_field, "target"));
  std::vector<KeyDiff> out;
  auto full = [&] { return max > 0 && out.size() >= max; };
  auto s = src_rows.begin();
  auto t = tgt_rows.begin();
  while ((s != src_rows.end() || t != tgt_rows.end()) && !full()) {
    if (t == tgt_rows.end() || (s != src_rows.end() && s->first < t->first)) {
      out.push_back({(s++)->first, KeyDiffKind::kMissingOnTarget, "", ""});
      continue;
    }
    if (s == src_rows.end() || t->first < s->first) {
      out.push_back({(t++)->first, KeyDiffKind::kExtraOnTarget, "", ""});
      continue;
    }
    std::vector<std::string> fields;
    for (const auto& col : source.fields) {
      const auto* other = target.Field(col.field_name());
      if (other == nullptr || !SameValue(col, s->second, *other, t->second))
        fields.push_back(col.field_name());
    }
    if (!fields.empty()) {
      out.push_back(
          {s->first, KeyDiffKind::kValuesDiffer, "", "fields " + absl::StrJoin(fields, ", ")});
    }
    ++s;
    ++t;
  }
  return out;
}

}  // namespace cdc::verify

#include "target/primary_key.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cdc::target {

namespace schemapb = ::milvus::proto::schema;

Result<std::vector<PrimaryKey>> KeysOf(const schemapb::FieldData& column) {
  std::vector<PrimaryKey> out;
  const auto& s = column.scalars();
  if (s.has_long_data()) {
    out.reserve(s.long_data().data_size());
    for (int64_t v : s.long_data().data()) out.emplace_back(v);
  } else if (s.has_string_data()) {
    out.reserve(s.string_data().data_size());
    for (const auto& v : s.string_data().data()) out.emplace_back(v);
  } else if (column.type() != schemapb::Int64 && column.type() != schemapb::VarChar) {
    return InvalidArgumentError(
        absl::StrCat("field ", column.field_name(), " is not an Int64 or VarChar primary key"));
  }
  return out;
}

std::string KeyLiteral(const PrimaryKey& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return std::to_string(*i);
  std::string out = "\"";
  for (unsigned char c : std::get<std::string>(key)) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

std::string KeyText(const PrimaryKey& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return std::to_string(*i);
  return std::get<std::string>(key);
}

std::string RangeExpr(const std::string& pk_field, const std::optional<PrimaryKey>& after,
                      const std::optional<PrimaryKey>& upto) {
  std::string lo = after ? absl::StrCat(pk_field, " > ", KeyLiteral(*after)) : "";
  std::string hi = upto ? absl::StrCat(pk_field, " <= ", KeyLiteral(*upto)) : "";
  if (lo.empty()) return hi;
  if (hi.empty()) return lo;
  return absl::StrCat(lo, " && ", hi);
}

std::string InExpr(const std::string& pk_field, const std::vector<PrimaryKey>& keys) {
  std::string out = pk_field + " in [";
  for (size_t i = 0; i < keys.size(); ++i)
    absl::StrAppend(&out, i ? ", " : "", KeyLiteral(keys[i]));
  out.push_back(']');
  return out;
}

}  // namespace cdc::target

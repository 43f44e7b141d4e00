#include "verify/meta_diff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace cdc::verify {
namespace {

namespace commonpb = target::commonpb;
namespace schemapb = target::schemapb;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string KvText(const std::map<std::string, std::string>& kv) {
  std::vector<std::string> parts;
  parts.reserve(kv.size());
  for (const auto& [k, v] : kv) parts.push_back(absl::StrCat(k, "=", v));
  return "{" + absl::StrJoin(parts, ", ") + "}";
}

std::map<std::string, std::string> ToMap(
    const google::protobuf::RepeatedPtrField<commonpb::KeyValuePair>& kvs) {
  std::map<std::string, std::string> out;
  for (const auto& kv : kvs) out[kv.key()] = kv.value();
  return out;
}

// Adds "<what>: <a> on the source, <b> on the target" when a != b.
void Check(std::vector<Difference>* out, const std::string& aspect, const std::string& what,
           const std::string& a, const std::string& b) {
  if (a == b) return;
  out->push_back({aspect, absl::StrCat(what, ": ", a, " on the source, ", b, " on the target")});
}

void CompareField(int pos, const schemapb::FieldSchema& a, const schemapb::FieldSchema& b,
                  std::vector<Difference>* out) {
  const std::string what = absl::StrCat("field ", pos, " (", a.name(), ")");
  auto yes = [](bool v) { return std::string(v ? "true" : "false"); };
  Check(out, "schema", what + " name", a.name(), b.name());
  Check(out, "schema", what + " field id", std::to_string(a.fieldid()),
        std::to_string(b.fieldid()));
  Check(out, "schema", what + " data_type", schemapb::DataType_Name(a.data_type()),
        schemapb::DataType_Name(b.data_type()));
  Check(out, "schema", what + " element_type", schemapb::DataType_Name(a.element_type()),
        schemapb::DataType_Name(b.element_type()));
  Check(out, "schema", what + " is_primary_key", yes(a.is_primary_key()), yes(b.is_primary_key()));
  Check(out, "schema", what + " autoID", yes(a.autoid()), yes(b.autoid()));
  Check(out, "schema", what + " is_partition_key", yes(a.is_partition_key()),
        yes(b.is_partition_key()));
  Check(out, "schema", what + " is_dynamic", yes(a.is_dynamic()), yes(b.is_dynamic()));
  Check(out, "schema", what + " description", Quote(a.description()), Quote(b.description()));
  Check(out, "schema", what + " type_params", KvText(ToMap(a.type_params())),
        KvText(ToMap(b.type_params())));
  Check(out, "schema", what + " default_value", a.default_value().ShortDebugString(),
        b.default_value().ShortDebugString());
}

// Fields a create request carries: a 2.3 DescribeCollection leaves out the dynamic `$meta`
// field (the collection says enable_dynamic_field instead), but skip it if a peer shows it.
std::vector<const schemapb::FieldSchema*> UserFields(const schemapb::CollectionSchema& s) {
  std::vector<const schemapb::FieldSchema*> out;
  for (const auto& f : s.fields())
    if (!f.is_dynamic()) out.push_back(&f);
  return out;
}

void CompareSchema(const target::CollectionDescription& a, const target::CollectionDescription& b,
                   std::vector<Difference>* out) {
  Check(out, "schema", "description", Quote(a.schema.description()), Quote(b.schema.description()));
  Check(out, "schema", "enable_dynamic_field", a.schema.enable_dynamic_field() ? "true" : "false",
        b.schema.enable_dynamic_field() ? "true" : "false");
  const auto fa = UserFields(a.schema), fb = UserFields(b.schema);
  auto names = [](const std::vector<const schemapb::FieldSchema*>& fs) {
    std::vector<std::string> n;
    n.reserve(fs.size());
    for (const auto* f : fs) n.push_back(f->name());
    return "[" + absl::StrJoin(n, ", ") + "]";
  };
  if (fa.size() != fb.size()) {
    Check(out, "schema", "fields", names(fa), names(fb));
  } else {
    for (size_t i = 0; i < fa.size(); ++i) CompareField(static_cast<int>(i), *fa[i], *fb[i], out);
  }
  Check(out, "schema", "shards_num", std::to_string(a.shards_num), std::to_string(b.shards_num));
  Check(out, "schema", "consistency_level", commonpb::ConsistencyLevel_Name(a.consistency_level),
        commonpb::ConsistencyLevel_Name(b.consistency_level));
  Check(out, "schema", "properties", KvText(a.properties), KvText(b.properties));
}

// Index params, with the "params" JSON text compared as JSON (key order may differ).
bool SameParams(const std::map<std::string, std::string>& a,
                const std::map<std::string, std::string>& b) {
  if (a == b) return true;
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return false;
    if (it->second == v) continue;
    auto ja = nlohmann::json::parse(v, nullptr, false);
    auto jb = nlohmann::json::parse(it->second, nullptr, false);
    if (ja.is_discarded() || jb.is_discarded() || ja != jb) return false;
  }
  return true;
}

void CompareIndexes(const std::vector<target::IndexInfo>& a,
                    const std::vector<target::IndexInfo>& b, std::vector<Difference>* out) {
  std::map<std::string, const target::IndexInfo*> by_name_a, by_name_b;
  for (const auto& i : a) by_name_a[i.index_name] = &i;
  for (const auto& i : b) by_name_b[i.index_name] = &i;
  for (const auto& [name, ia] : by_name_a) {
    auto it = by_name_b.find(name);
    if (it == by_name_b.end()) {
      out->push_back({"indexes", absl::StrCat("index ", name, " on field ", ia->field_name, " ",
                                              KvText(ia->params), " missing on the target")});
      continue;
    }
    Check(out, "indexes", "index " + name + " field", ia->field_name, it->second->field_name);
    if (!SameParams(ia->params, it->second->params)) {
      Check(out, "indexes", "index " + name + " params", KvText(ia->params),
            KvText(it->second->params));
    }
  }
  for (const auto& [name, ib] : by_name_b) {
    if (!by_name_a.count(name)) {
      out->push_back({"indexes", absl::StrCat("index ", name, " on field ", ib->field_name,
                                              " only on the target")});
    }
  }
}

void ComparePartitions(const CollectionMeta& a, const CollectionMeta& b,
                       std::vector<Difference>* out) {
  std::vector<std::string> missing, extra;
  std::set_difference(a.partitions.begin(), a.partitions.end(), b.partitions.begin(),
                      b.partitions.end(), std::back_inserter(missing));
  std::set_difference(b.partitions.begin(), b.partitions.end(), a.partitions.begin(),
                      a.partitions.end(), std::back_inserter(extra));
  if (!missing.empty())
    out->push_back({"partitions", "missing on the target: " + absl::StrJoin(missing, ", ")});
  if (!extra.empty())
    out->push_back({"partitions", "only on the target: " + absl::StrJoin(extra, ", ")});
}

void CompareLoad(const CollectionMeta& a, const CollectionMeta& b, std::vector<Difference>* out) {
  Check(out, "load_state", "collection", LoadStateName(a.load), LoadStateName(b.load));
  for (const auto& [p, sa] : a.partition_load) {
    auto it = b.partition_load.find(p);
    if (it != b.partition_load.end())
      Check(out, "load_state", "partition " + p, LoadStateName(sa), LoadStateName(it->second));
  }
}

}  // namespace

std::string LoadStateName(commonpb::LoadState s) {
  std::string n = commonpb::LoadState_Name(s);
  return n.rfind("LoadState", 0) == 0 ? n.substr(9) : n;
}

Result<CollectionMeta> ReadMeta(target::MilvusReader& reader, const std::string& db,
                                const std::string& collection) {
  CollectionMeta m;
  auto desc = reader.DescribeCollection(db, collection);
  if (!desc.ok() && desc.status().code() == StatusCode::kNotFound) return m;
  RETURN_IF_ERROR(desc.status());
  m.exists = true;
  m.desc = std::move(*desc);
  ASSIGN_OR_RETURN(auto parts, reader.ShowPartitions(db, collection));
  for (const auto& p : parts) m.partitions.push_back(p.name);
  std::sort(m.partitions.begin(), m.partitions.end());
  ASSIGN_OR_RETURN(m.indexes, reader.DescribeIndexes(db, collection));
  ASSIGN_OR_RETURN(m.load, reader.GetLoadState(db, collection, {}));
  // Partition-key partitions are loaded with their collection, never one by one.
  const auto& fields = m.desc.schema.fields();
  if (std::any_of(fields.begin(), fields.end(),
                  [](const schemapb::FieldSchema& f) { return f.is_partition_key(); }))
    return m;
  for (const auto& p : m.partitions) {
    ASSIGN_OR_RETURN(m.partition_load[p], reader.GetLoadState(db, collection, {p}));
  }
  return m;
}

std::vector<Difference> CompareMeta(const CollectionMeta& source, const CollectionMeta& target) {
  std::vector<Difference> out;
  if (!source.exists || !target.exists) {
    if (source.exists) out.push_back({"collection", "missing on the target"});
    if (target.exists) out.push_back({"collection", "missing on the source, still on the target"});
    return out;
  }
  CompareSchema(source.desc, target.desc, &out);
  ComparePartitions(source, target, &out);
  CompareIndexes(source.indexes, target.indexes, &out);
  CompareLoad(source, target, &out);
  return out;
}

}  // namespace cdc::verify

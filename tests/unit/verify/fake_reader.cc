#include "unit/verify/fake_reader.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace cdc::verify::testing {
namespace {

using target::PrimaryKey;
namespace schemapb = target::schemapb;

// Reads one literal (an integer or a Go-quoted string) at `*pos`.
PrimaryKey ParseLiteral(const std::string& s, size_t* pos) {
  while (s[*pos] == ' ') ++*pos;
  if (s[*pos] != '"') {
    size_t end = s.find_first_of(" ,]", *pos);
    if (end == std::string::npos) end = s.size();
    PrimaryKey k = std::stoll(s.substr(*pos, end - *pos));
    *pos = end;
    return k;
  }
  std::string out;
  for (++*pos; s[*pos] != '"'; ++*pos) {
    if (s[*pos] != '\\') {
      out.push_back(s[*pos]);
    } else if (s[++*pos] == 'x') {
      out.push_back(static_cast<char>(std::stoi(s.substr(*pos + 1, 2), nullptr, 16)));
      *pos += 2;
    } else {
      out.push_back(s[*pos]);
    }
  }
  ++*pos;
  return out;
}

// The rows an expression of target/primary_key.h selects.
struct Filter {
  std::optional<PrimaryKey> after, upto;
  std::optional<std::set<PrimaryKey>> in;
  bool Keeps(const PrimaryKey& k) const {
    if (in) return in->count(k) > 0;
    return (!after || *after < k) && (!upto || !(*upto < k));
  }
};

Filter ParseExpr(const std::string& e) {
  Filter f;
  if (e.empty()) return f;
  if (size_t p = e.find(" in ["); p != std::string::npos) {
    f.in.emplace();
    size_t pos = p + 5;
    while (e[pos] != ']') {
      f.in->insert(ParseLiteral(e, &pos));
      if (e[pos] == ',') ++pos;
    }
    return f;
  }
  if (size_t p = e.find(" > "); p != std::string::npos) {
    size_t pos = p + 3;
    f.after = ParseLiteral(e, &pos);
  }
  if (size_t p = e.find(" <= "); p != std::string::npos) {
    size_t pos = p + 4;
    f.upto = ParseLiteral(e, &pos);
  }
  return f;
}

void AddKey(schemapb::FieldData* f, const PrimaryKey& k) {
  if (const auto* i = std::get_if<int64_t>(&k)) {
    f->mutable_scalars()->mutable_long_data()->add_data(*i);
  } else {
    f->mutable_scalars()->mutable_string_data()->add_data(std::get<std::string>(k));
  }
}

}  // namespace

FakeCollection MakeCollection(const std::string& name, bool varchar_key) {
  FakeCollection c;
  c.desc.name = name;
  c.desc.db_name = "default";
  c.desc.shards_num = 1;
  auto* s = &c.desc.schema;
  s->set_name(name);
  s->set_enable_dynamic_field(true);
  auto* pk = s->add_fields();
  pk->set_fieldid(100);
  pk->set_name(varchar_key ? "pk" : "id");
  pk->set_is_primary_key(true);
  pk->set_data_type(varchar_key ? schemapb::VarChar : schemapb::Int64);
  auto* n = s->add_fields();
  n->set_fieldid(101);
  n->set_name("n");
  n->set_data_type(schemapb::Int64);
  auto* v = s->add_fields();
  v->set_fieldid(102);
  v->set_name("vec");
  v->set_data_type(schemapb::FloatVector);
  auto* dim = v->add_type_params();
  dim->set_key("dim");
  dim->set_value("2");
  target::IndexInfo idx;
  idx.index_name = "vec_idx";
  idx.field_name = "vec";
  idx.params = {{"index_type", "FLAT"}, {"metric_type", "L2"}, {"params", "{}"}};
  c.indexes.push_back(idx);
  return c;
}

Result<FakeCollection*> FakeReader::Find(const std::string& c) {
  auto it = collections.find(c);
  if (it == collections.end())
    return NotFoundError(absl::StrCat(Describe(), ": collection not found[collection=", c, "]"));
  return &it->second;
}

Result<uint64_t> FakeReader::AllocTimestamp() {
  if (alloc_unimplemented) return UnimplementedError("no AllocTimestamp");
  return ++ts;
}

Result<std::vector<std::string>> FakeReader::ListDatabases() {
  return std::vector<std::string>{"default"};
}

Result<std::vector<std::string>> FakeReader::ListCollections(const std::string&) {
  std::vector<std::string> out;
  for (const auto& [name, _] : collections) out.push_back(name);
  return out;
}

Result<target::CollectionDescription> FakeReader::DescribeCollection(const std::string&,
                                                                     const std::string& c) {
  ASSIGN_OR_RETURN(FakeCollection * f, Find(c));
  return f->desc;
}

Result<std::vector<target::PartitionInfo>> FakeReader::ShowPartitions(const std::string&,
                                                                      const std::string& c) {
  ASSIGN_OR_RETURN(FakeCollection * f, Find(c));
  std::vector<target::PartitionInfo> out;
  int64_t id = 1;
  for (const auto& p : f->partitions) out.push_back({p, id++});
  return out;
}

Result<std::vector<target::IndexInfo>> FakeReader::DescribeIndexes(const std::string&,
                                                                   const std::string& c) {
  ASSIGN_OR_RETURN(FakeCollection * f, Find(c));
  return f->indexes;
}

Result<target::commonpb::LoadState> FakeReader::GetLoadState(const std::string&,
                                                             const std::string& c,
                                                             const std::vector<std::string>&) {
  ASSIGN_OR_RETURN(FakeCollection * f, Find(c));
  return f->load;
}

Result<target::QueryResult> FakeReader::Query(const target::QueryRequest& req) {
  ++queries;
  if (before_query) before_query(req);
  ASSIGN_OR_RETURN(FakeCollection * c, Find(req.collection));
  if (c->load != target::commonpb::LoadStateLoaded)
    return FailedPreconditionError("collection not loaded");
  const auto& pk = c->desc.schema.fields(0);
  const Filter filter = ParseExpr(req.expr);
  target::QueryResult r;
  if (req.output_fields == std::vector<std::string>{"count(*)"}) {
    int64_t n = 0;
    for (const auto& [k, row] : c->rows) n += filter.Keeps(k) ? 1 : 0;
    schemapb::FieldData f;
    f.set_field_name("count(*)");
    f.mutable_scalars()->mutable_long_data()->add_data(n + c->extra_count);
    r.fields.push_back(f);
    r.num_rows = 1;
    return r;
  }
  const bool all =
      std::find(req.output_fields.begin(), req.output_fields.end(), "*") != req.output_fields.end();
  schemapb::FieldData key, n, vec, meta;
  key.set_field_name(pk.name());
  key.set_type(pk.data_type());
  n.set_field_name("n");
  n.set_type(schemapb::Int64);
  vec.set_field_name("vec");
  vec.set_type(schemapb::FloatVector);
  vec.mutable_vectors()->set_dim(2);
  meta.set_field_name("$meta");
  meta.set_type(schemapb::JSON);
  meta.set_is_dynamic(true);
  for (const auto& [k, row] : c->rows) {
    if (!filter.Keeps(k)) continue;
    if (!req.partition_names.empty() &&
        std::find(req.partition_names.begin(), req.partition_names.end(), row.partition) ==
            req.partition_names.end())
      continue;
    if (req.limit > 0 && r.num_rows >= req.limit) break;
    ++r.num_rows;
    AddKey(&key, k);
    n.mutable_scalars()->mutable_long_data()->add_data(row.n);
    vec.mutable_vectors()->mutable_float_vector()->add_data(row.vec[0]);
    vec.mutable_vectors()->mutable_float_vector()->add_data(row.vec[1]);
    meta.mutable_scalars()->mutable_json_data()->add_data(row.meta);
  }
  r.fields.push_back(key);
  if (all) {
    r.fields.push_back(n);
    r.fields.push_back(vec);
    r.fields.push_back(meta);
  }
  return r;
}

Result<int64_t> FakeReader::Count(const std::string& db, const std::string& c,
                                  const std::string& expr,
                                  const std::vector<std::string>& partitions,
                                  target::ReadConsistency consistency) {
  target::QueryRequest q;
  q.db = db;
  q.collection = c;
  q.expr = expr;
  q.output_fields = {"count(*)"};
  q.partition_names = partitions;
  q.consistency = consistency;
  ASSIGN_OR_RETURN(auto r, Query(q));
  return r.fields[0].scalars().long_data().data(0);
}

}  // namespace cdc::verify::testing

#include "target/grpc_reader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "target/grpc_connection.h"

namespace cdc::target {
namespace {

namespace milvuspb = ::milvus::proto::milvus;
using Stub = GrpcConnection::Stub;

std::string Object(const std::string& db, const std::string& collection) {
  return absl::StrCat("db=", db, " collection=", collection);
}

// Number of values in one column of a query answer.
int64_t RowsOf(const schemapb::FieldData& f) {
  if (f.has_vectors()) {
    const auto& v = f.vectors();
    const int64_t dim = v.dim() > 0 ? v.dim() : 1;
    switch (v.data_case()) {
      case schemapb::VectorField::kFloatVector:
        return v.float_vector().data_size() / dim;
      case schemapb::VectorField::kBinaryVector:
        return static_cast<int64_t>(v.binary_vector().size()) / ((dim + 7) / 8);
      case schemapb::VectorField::kFloat16Vector:
        return static_cast<int64_t>(v.float16_vector().size()) / (2 * dim);
      case schemapb::VectorField::kBfloat16Vector:
        return static_cast<int64_t>(v.bfloat16_vector().size()) / (2 * dim);
      case schemapb::VectorField::kSparseFloatVector:
        return v.sparse_float_vector().contents_size();
      default:
        return 0;
    }
  }
  const auto& s = f.scalars();
  switch (s.data_case()) {
    case schemapb::ScalarField::kBoolData:
      return s.bool_data().data_size();
    case schemapb::ScalarField::kIntData:
      return s.int_data().data_size();
    case schemapb::ScalarField::kLongData:
      return s.long_data().data_size();
    case schemapb::ScalarField::kFloatData:
      return s.float_data().data_size();
    case schemapb::ScalarField::kDoubleData:
      return s.double_data().data_size();
    case schemapb::ScalarField::kStringData:
      return s.string_data().data_size();
    case schemapb::ScalarField::kBytesData:
      return s.bytes_data().data_size();
    case schemapb::ScalarField::kArrayData:
      return s.array_data().data_size();
    case schemapb::ScalarField::kJsonData:
      return s.json_data().data_size();
    default:
      return 0;
  }
}

void SetConsistency(const ReadConsistency& c, milvuspb::QueryRequest* req) {
  req->set_use_default_consistency(false);
  switch (c.level) {
    case ReadConsistency::Level::kStrong:
      req->set_consistency_level(commonpb::Strong);
      break;
    case ReadConsistency::Level::kGuaranteeTs:
      req->set_consistency_level(commonpb::Customized);
      req->set_guarantee_timestamp(c.guarantee_ts);
      break;
    case ReadConsistency::Level::kEventually:
      req->set_consistency_level(commonpb::Eventually);
      break;
  }
}

}  // namespace

const schemapb::FieldSchema* CollectionDescription::PrimaryKey() const {
  for (const auto& f : schema.fields())
    if (f.is_primary_key()) return &f;
  return nullptr;
}

const schemapb::FieldData* QueryResult::Field(const std::string& name) const {
  for (const auto& f : fields)
    if (f.field_name() == name) return &f;
  return nullptr;
}

GrpcReader::GrpcReader(std::shared_ptr<GrpcConnection> conn) : conn_(std::move(conn)) {}
GrpcReader::~GrpcReader() = default;

void GrpcReader::Cancel() { conn_->Cancel(); }

std::string GrpcReader::Describe() const { return conn_->Describe(); }

Result<uint64_t> GrpcReader::AllocTimestamp() {
  milvuspb::AllocTimestampRequest req;
  milvuspb::AllocTimestampResponse resp;
  RETURN_IF_ERROR(
      conn_->Call(conn_->Where("AllocTimestamp", ""), "", &Stub::AllocTimestamp, req, &resp));
  return resp.timestamp();
}

Result<std::vector<std::string>> GrpcReader::ListDatabases() { return ListDatabasesOn(*conn_); }

Result<std::vector<std::string>> GrpcReader::ListCollections(const std::string& db) {
  milvuspb::ShowCollectionsRequest req;
  req.set_db_name(db);
  milvuspb::ShowCollectionsResponse resp;
  RETURN_IF_ERROR(conn_->Call(conn_->Where("ShowCollections", "db=" + db), db,
                              &Stub::ShowCollections, req, &resp));
  return std::vector<std::string>(resp.collection_names().begin(), resp.collection_names().end());
}

Result<CollectionDescription> GrpcReader::DescribeCollection(const std::string& db,
                                                             const std::string& collection) {
  ASSIGN_OR_RETURN(milvuspb::DescribeCollectionResponse resp,
                   DescribeCollectionOn(*conn_, db, collection));
  CollectionDescription d;
  d.id = resp.collectionid();
  d.db_name = db;
  d.name = resp.collection_name().empty() ? collection : resp.collection_name();
  d.schema = resp.schema();
  d.shards_num = resp.shards_num();
  d.consistency_level = resp.consistency_level();
  for (const auto& kv : resp.properties()) d.properties[kv.key()] = kv.value();
  d.num_partitions = resp.num_partitions();
  d.created_ts = resp.created_timestamp();
  d.vchannels.assign(resp.virtual_channel_names().begin(), resp.virtual_channel_names().end());
  d.pchannels.assign(resp.physical_channel_names().begin(), resp.physical_channel_names().end());
  return d;
}

Result<std::vector<PartitionInfo>> GrpcReader::ShowPartitions(const std::string& db,
                                                              const std::string& collection) {
  return ShowPartitionsOn(*conn_, db, collection);
}

Result<std::vector<IndexInfo>> GrpcReader::DescribeIndexes(const std::string& db,
                                                           const std::string& collection) {
  milvuspb::DescribeIndexRequest req;
  req.set_db_name(db);
  req.set_collection_name(collection);
  milvuspb::DescribeIndexResponse resp;
  Status s = conn_->Call(conn_->Where("DescribeIndex", Object(db, collection)), db,
                         &Stub::DescribeIndex, req, &resp);
  // Milvus answers "index not found" (700) for a collection without index; a missing
  // collection is "collection not found" (100), which stays an error.
  const int code = resp.status().code() & (kMilvusRetryableFlag - 1);
  if (s.code() == StatusCode::kNotFound && (code == 700 || resp.status().error_code() == 25)) {
    return std::vector<IndexInfo>{};
  }
  RETURN_IF_ERROR(s);
  std::vector<IndexInfo> out;
  for (const auto& d : resp.index_descriptions()) {
    IndexInfo i;
    i.index_name = d.index_name();
    i.field_name = d.field_name();
    i.index_id = d.indexid();
    for (const auto& kv : d.params()) i.params[kv.key()] = kv.value();
    i.state = d.state();
    i.indexed_rows = d.indexed_rows();
    i.total_rows = d.total_rows();
    i.pending_index_rows = d.pending_index_rows();
    out.push_back(std::move(i));
  }
  return out;
}

Result<commonpb::LoadState> GrpcReader::GetLoadState(const std::string& db,
                                                     const std::string& collection,
                                                     const std::vector<std::string>& partitions) {
  return GetLoadStateOn(*conn_, db, collection, partitions);
}

Result<QueryResult> GrpcReader::Query(const QueryRequest& q) {
  if (q.limit < 0 || q.limit > kMaxQueryWindow) {
    return InvalidArgumentError(absl::StrCat("query ", q.db, ".", q.collection, ": limit ", q.limit,
                                             " is not in 0..", kMaxQueryWindow));
  }
  milvuspb::QueryRequest req;
  req.set_db_name(q.db);
  req.set_collection_name(q.collection);
  req.set_expr(q.expr);
  for (const auto& f : q.output_fields) req.add_output_fields(f);
  for (const auto& p : q.partition_names) req.add_partition_names(p);
  if (q.limit > 0) {
    auto* kv = req.add_query_params();
    kv->set_key("limit");
    kv->set_value(std::to_string(q.limit));
  }
  SetConsistency(q.consistency, &req);
  milvuspb::QueryResults resp;
  RETURN_IF_ERROR(conn_->Call(
      conn_->Where("Query", absl::StrCat(Object(q.db, q.collection), " expr=", q.expr,
                                         q.limit > 0 ? absl::StrCat(" limit=", q.limit) : "")),
      q.db, &Stub::Query, req, &resp));
  QueryResult out;
  out.fields.assign(resp.fields_data().begin(), resp.fields_data().end());
  for (const auto& f : out.fields) out.num_rows = std::max(out.num_rows, RowsOf(f));
  return out;
}

Result<int64_t> GrpcReader::Count(const std::string& db, const std::string& collection,
                                  const std::string& expr,
                                  const std::vector<std::string>& partitions,
                                  ReadConsistency consistency) {
  QueryRequest q;
  q.db = db;
  q.collection = collection;
  q.expr = expr;
  q.output_fields = {"count(*)"};
  q.partition_names = partitions;
  q.consistency = consistency;
  ASSIGN_OR_RETURN(QueryResult r, Query(q));
  const schemapb::FieldData* f = r.Field("count(*)");
  if (f == nullptr || f->scalars().long_data().data_size() != 1) {
    return InternalError(absl::StrCat(Describe(), ": count(*) of ", db, ".", collection,
                                      " answered no Int64 count(*) column"));
  }
  return f->scalars().long_data().data(0);
}

Result<std::unique_ptr<GrpcReader>> ConnectGrpcReader(const ConnectOptions& opts) {
  ASSIGN_OR_RETURN(auto conn, GrpcConnection::Open(opts));
  return std::make_unique<GrpcReader>(std::move(conn));
}

}  // namespace cdc::target

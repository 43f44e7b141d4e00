#include "lag/recording_sink.h"

#include <chrono>
#include <cstring>

#include "absl/strings/escaping.h"
#include "source/message.h"

namespace cdc::bench {
namespace mpb = ::milvus::proto::milvus;
namespace cpb = ::milvus::proto::common;

namespace {
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
void Fail(cpb::Status* st, int code, const std::string& reason) {
  st->set_code(code);
  st->set_reason(reason);
}
// Base64 of the 8-byte little-endian offset, as a Milvus on Kafka answers.
std::string Position(int64_t offset) {
  std::string raw(8, '\0');
  std::memcpy(raw.data(), &offset, 8);
  return absl::Base64Escape(raw);
}
}  // namespace

RecordingSink::~RecordingSink() { Stop(); }

int RecordingSink::Start(int port) {
  int bound = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                     &bound);
  b.SetMaxReceiveMessageSize(256 << 20);
  b.RegisterService(this);
  server_ = b.BuildAndStart();
  return server_ ? bound : 0;
}

void RecordingSink::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server_.reset();
  }
}

RecordingSink::Stats RecordingSink::stats() const {
  std::lock_guard l(mu_);
  Stats s = stats_;
  s.distinct_inserts = static_cast<int64_t>(seen_inserts_.size());
  s.collections = static_cast<int64_t>(collections_.size());
  return s;
}

std::vector<RecordingSink::Arrival> RecordingSink::Arrivals() const {
  std::lock_guard l(mu_);
  return arrivals_;
}

void RecordingSink::ClearArrivals() {
  std::lock_guard l(mu_);
  arrivals_.clear();
}

std::string RecordingSink::Db(grpc::ServerContext* ctx, const std::string& req_db) const {
  if (!req_db.empty()) return req_db;
  auto it = ctx->client_metadata().find("dbname");
  if (it == ctx->client_metadata().end() || it->second.empty()) return "default";
  return std::string(it->second.data(), it->second.size());
}

grpc::Status RecordingSink::GetVersion(grpc::ServerContext*, const mpb::GetVersionRequest*,
                                       mpb::GetVersionResponse* resp) {
  resp->set_version("v2.3.5-recording-sink");
  return grpc::Status::OK;
}

grpc::Status RecordingSink::ReplicateMessage(grpc::ServerContext*,
                                             const mpb::ReplicateMessageRequest* req,
                                             mpb::ReplicateMessageResponse* resp) {
  const int64_t now = NowUs();
  if (blocked_.load()) {
    std::lock_guard l(mu_);
    ++stats_.refused_calls;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "recording sink: blocked (target down)");
  }
  if (req->channel_name().empty()) {
    Fail(resp->mutable_status(), 1100, "invalid parameter[expected=channel name]");
    return grpc::Status::OK;
  }
  std::lock_guard l(mu_);
  ++stats_.replicate_calls;
  for (const auto& m : req->msgs()) {
    stats_.bytes += static_cast<int64_t>(m.size());
    auto h = source::DecodeHeader(m);
    if (!h.ok()) continue;
    if (h->type == cpb::Insert) {
      ++stats_.inserts;
      seen_inserts_.insert(h->msg_id);
      arrivals_.push_back({h->msg_id, now});
    } else if (h->type == cpb::Delete) {
      ++stats_.deletes;
    } else if (h->type == cpb::TimeTick) {
      ++stats_.ticks;
    }
  }
  int64_t& off = offsets_[req->channel_name()];
  off += req->msgs_size();
  resp->set_position(Position(off));
  return grpc::Status::OK;
}

grpc::Status RecordingSink::CreateCollection(grpc::ServerContext* ctx,
                                             const mpb::CreateCollectionRequest* req,
                                             cpb::Status* resp) {
  std::lock_guard l(mu_);
  std::string db = Db(ctx, req->db_name());
  if (!databases_.count(db)) {
    Fail(resp, 800, "database not found[database=" + db + "]");
    return grpc::Status::OK;
  }
  auto key = db + "/" + req->collection_name();
  if (collections_.count(key)) return grpc::Status::OK;
  Collection c;
  c.id = next_id_;
  next_id_ += 10;
  c.shards = req->shards_num() > 0 ? req->shards_num() : 1;
  c.partitions["_default"] = c.id + 1;
  collections_[key] = c;
  return grpc::Status::OK;
}

grpc::Status RecordingSink::DropCollection(grpc::ServerContext* ctx,
                                           const mpb::DropCollectionRequest* req,
                                           cpb::Status* resp) {
  std::lock_guard l(mu_);
  if (!collections_.erase(Db(ctx, req->db_name()) + "/" + req->collection_name()))
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
  return grpc::Status::OK;
}

grpc::Status RecordingSink::DescribeCollection(grpc::ServerContext* ctx,
                                               const mpb::DescribeCollectionRequest* req,
                                               mpb::DescribeCollectionResponse* resp) {
  std::lock_guard l(mu_);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp->mutable_status(), 100,
         "can't find collection collection not found[collection=" + req->collection_name() + "]");
    return grpc::Status::OK;
  }
  const Collection& c = it->second;
  resp->set_collectionid(c.id);
  resp->set_collection_name(req->collection_name());
  resp->set_shards_num(c.shards);
  for (int i = 0; i < c.shards; ++i) {
    // Shared pchannels, as a Milvus with dmlChannelNum = shards.
    std::string p = "sink-dml_" + std::to_string(i);
    resp->add_physical_channel_names(p);
    resp->add_virtual_channel_names(p + "_" + std::to_string(c.id) + "v" + std::to_string(i));
  }
  return grpc::Status::OK;
}

grpc::Status RecordingSink::CreatePartition(grpc::ServerContext* ctx,
                                            const mpb::CreatePartitionRequest* req,
                                            cpb::Status* resp) {
  std::lock_guard l(mu_);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp, 100, "collection not found[collection=" + req->collection_name() + "]");
  } else if (!it->second.partitions.count(req->partition_name())) {
    it->second.partitions[req->partition_name()] = next_id_++;
  }
  return grpc::Status::OK;
}

grpc::Status RecordingSink::ShowPartitions(grpc::ServerContext* ctx,
                                           const mpb::ShowPartitionsRequest* req,
                                           mpb::ShowPartitionsResponse* resp) {
  std::lock_guard l(mu_);
  auto it = collections_.find(Db(ctx, req->db_name()) + "/" + req->collection_name());
  if (it == collections_.end()) {
    Fail(resp->mutable_status(), 100, "collection not found");
    return grpc::Status::OK;
  }
  for (const auto& [name, id] : it->second.partitions) {
    resp->add_partition_names(name);
    resp->add_partitionids(id);
  }
  return grpc::Status::OK;
}

grpc::Status RecordingSink::CreateDatabase(grpc::ServerContext*,
                                           const mpb::CreateDatabaseRequest* req,
                                           cpb::Status* resp) {
  std::lock_guard l(mu_);
  databases_.insert(req->db_name());
  return grpc::Status::OK;
}

grpc::Status RecordingSink::ListDatabases(grpc::ServerContext*, const mpb::ListDatabasesRequest*,
                                          mpb::ListDatabasesResponse* resp) {
  std::lock_guard l(mu_);
  for (const auto& d : databases_) resp->add_db_names(d);
  return grpc::Status::OK;
}

}  // namespace cdc::bench

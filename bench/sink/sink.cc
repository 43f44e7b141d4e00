// milvus-sink: a recording fake of the MilvusService calls milvus-cdc makes on a target, for
// benchmarks only. It answers at once and records what it got, so that a replicator's own cost
// is visible when a real target Milvus would be the bottleneck.
//
//   milvus-sink [--port 0] [--stats FILE]
//
// Prints "listening on 127.0.0.1:PORT" on stdout once it serves. Keeps collections and
// partitions in memory (created by CreateCollection / CreatePartition, one vchannel per shard
// on pchannels "sink-dml_<i>"); ReplicateMessage counts calls, messages by type and bytes and
// answers a position (base64 of an 8-byte counter). Every 100 ms and at SIGTERM/SIGINT it
// writes the counters as JSON to --stats (atomically, via a temporary file).
// Threads: gRPC's server threads; all state behind one mutex.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/escaping.h"
#include "milvus/milvus.grpc.pb.h"
#include "source/message.h"

namespace {
namespace milvuspb = ::milvus::proto::milvus;
namespace commonpb = ::milvus::proto::common;
using grpc::ServerContext;

std::atomic<bool> g_stop{false};

struct Collection {
  int64_t id = 0;
  int32_t shards = 1;
  uint64_t created_ts = 0;
  std::map<std::string, int64_t> partitions;
};

struct Counters {
  uint64_t calls = 0, msgs = 0, bytes = 0, inserts = 0, deletes = 0, ticks = 0, other = 0;
  uint64_t last_end_ts = 0;
};

void NotFound(commonpb::Status* st, const std::string& what) {
  st->set_code(100);
  st->set_reason(what + " not found");
}

class Sink final : public milvuspb::MilvusService::Service {
 public:
  std::string DbOf(ServerContext* ctx, const std::string& req_db) {
    if (!req_db.empty()) return req_db;
    auto it = ctx->client_metadata().find("dbname");
    if (it != ctx->client_metadata().end())
      return std::string(it->second.data(), it->second.size());
    return "default";
  }

  grpc::Status GetVersion(ServerContext*, const milvuspb::GetVersionRequest*,
                          milvuspb::GetVersionResponse* resp) override {
    resp->set_version("v2.3.5-sink");
    return grpc::Status::OK;
  }

  grpc::Status ReplicateMessage(ServerContext*, const milvuspb::ReplicateMessageRequest* req,
                                milvuspb::ReplicateMessageResponse* resp) override {
    Counters delta;
    delta.calls = 1;
    for (const auto& m : req->msgs()) {
      ++delta.msgs;
      delta.bytes += m.size();
      auto h = cdc::source::DecodeHeader(m);
      int type = h.ok() ? h->type : 0;
      if (type == commonpb::Insert) {
        ++delta.inserts;
      } else if (type == commonpb::Delete) {
        ++delta.deletes;
      } else if (type == commonpb::TimeTick) {
        ++delta.ticks;
      } else {
        ++delta.other;
      }
    }
    uint64_t pos;
    {
      std::lock_guard l(mu_);
      c_.calls += delta.calls;
      c_.msgs += delta.msgs;
      c_.bytes += delta.bytes;
      c_.inserts += delta.inserts;
      c_.deletes += delta.deletes;
      c_.ticks += delta.ticks;
      c_.other += delta.other;
      c_.last_end_ts = std::max<uint64_t>(c_.last_end_ts, req->endts());
      pos = ++position_;
    }
    std::string id(reinterpret_cast<const char*>(&pos), sizeof(pos));
    resp->set_position(absl::Base64Escape(id));
    return grpc::Status::OK;
  }

  grpc::Status ListDatabases(ServerContext*, const milvuspb::ListDatabasesRequest*,
                             milvuspb::ListDatabasesResponse* resp) override {
    std::lock_guard l(mu_);
    for (const auto& [db, _] : dbs_) resp->add_db_names(db);
    return grpc::Status::OK;
  }

  grpc::Status CreateDatabase(ServerContext*, const milvuspb::CreateDatabaseRequest* req,
                              commonpb::Status*) override {
    std::lock_guard l(mu_);
    dbs_[req->db_name()];
    return grpc::Status::OK;
  }

  grpc::Status DropDatabase(ServerContext*, const milvuspb::DropDatabaseRequest* req,
                            commonpb::Status*) override {
    std::lock_guard l(mu_);
    dbs_.erase(req->db_name());
    return grpc::Status::OK;
  }

  grpc::Status CreateCollection(ServerContext* ctx, const milvuspb::CreateCollectionRequest* req,
                                commonpb::Status*) override {
    std::lock_guard l(mu_);
    auto& colls = dbs_[DbOf(ctx, req->db_name())];
    if (colls.count(req->collection_name())) return grpc::Status::OK;
    Collection c;
    c.id = next_id_++;
    c.shards = req->shards_num() > 0 ? req->shards_num() : 1;
    c.created_ts = req->base().replicateinfo().msgtimestamp();
    c.partitions["_default"] = next_id_++;
    colls[req->collection_name()] = c;
    return grpc::Status::OK;
  }

  grpc::Status DropCollection(ServerContext* ctx, const milvuspb::DropCollectionRequest* req,
                              commonpb::Status*) override {
    std::lock_guard l(mu_);
    dbs_[DbOf(ctx, req->db_name())].erase(req->collection_name());
    return grpc::Status::OK;
  }

  grpc::Status DescribeCollection(ServerContext* ctx,
                                  const milvuspb::DescribeCollectionRequest* req,
                                  milvuspb::DescribeCollectionResponse* resp) override {
    std::lock_guard l(mu_);
    const Collection* c = Find(DbOf(ctx, req->db_name()), req->collection_name());
    if (!c) {
      NotFound(resp->mutable_status(), "collection " + req->collection_name());
      return grpc::Status::OK;
    }
    resp->set_collectionid(c->id);
    resp->set_collection_name(req->collection_name());
    resp->set_shards_num(c->shards);
    resp->set_created_timestamp(c->created_ts);
    for (int i = 0; i < c->shards; ++i) {
      std::string p = "sink-dml_" + std::to_string(i);
      resp->add_physical_channel_names(p);
      resp->add_virtual_channel_names(p + "_" + std::to_string(c->id) + "v" + std::to_string(i));
    }
    return grpc::Status::OK;
  }

  grpc::Status ShowPartitions(ServerContext* ctx, const milvuspb::ShowPartitionsRequest* req,
                              milvuspb::ShowPartitionsResponse* resp) override {
    std::lock_guard l(mu_);
    const Collection* c = Find(DbOf(ctx, req->db_name()), req->collection_name());
    if (!c) {
      NotFound(resp->mutable_status(), "collection " + req->collection_name());
      return grpc::Status::OK;
    }
    for (const auto& [name, id] : c->partitions) {
      resp->add_partition_names(name);
      resp->add_partitionids(id);
    }
    return grpc::Status::OK;
  }

  grpc::Status CreatePartition(ServerContext* ctx, const milvuspb::CreatePartitionRequest* req,
                               commonpb::Status* st) override {
    std::lock_guard l(mu_);
    Collection* c = Find(DbOf(ctx, req->db_name()), req->collection_name());
    if (!c) {
      NotFound(st, "collection " + req->collection_name());
      return grpc::Status::OK;
    }
    if (!c->partitions.count(req->partition_name()))
      c->partitions[req->partition_name()] = next_id_++;
    return grpc::Status::OK;
  }

  grpc::Status DropPartition(ServerContext* ctx, const milvuspb::DropPartitionRequest* req,
                             commonpb::Status*) override {
    std::lock_guard l(mu_);
    if (Collection* c = Find(DbOf(ctx, req->db_name()), req->collection_name())) {
      c->partitions.erase(req->partition_name());
    }
    return grpc::Status::OK;
  }

  // DDL the sink only acknowledges.
  grpc::Status CreateIndex(ServerContext*, const milvuspb::CreateIndexRequest*,
                           commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status DropIndex(ServerContext*, const milvuspb::DropIndexRequest*,
                         commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status LoadCollection(ServerContext*, const milvuspb::LoadCollectionRequest*,
                              commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status ReleaseCollection(ServerContext*, const milvuspb::ReleaseCollectionRequest*,
                                 commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status LoadPartitions(ServerContext*, const milvuspb::LoadPartitionsRequest*,
                              commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status ReleasePartitions(ServerContext*, const milvuspb::ReleasePartitionsRequest*,
                                 commonpb::Status*) override {
    return grpc::Status::OK;
  }
  grpc::Status Flush(ServerContext*, const milvuspb::FlushRequest*,
                     milvuspb::FlushResponse*) override {
    return grpc::Status::OK;
  }

  std::string StatsJson() {
    std::lock_guard l(mu_);
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "{\"calls\": %llu, \"msgs\": %llu, \"bytes\": %llu, \"inserts\": %llu, "
                  "\"deletes\": %llu, \"ticks\": %llu, \"other\": %llu, \"last_end_ts\": %llu}\n",
                  (unsigned long long)c_.calls, (unsigned long long)c_.msgs,
                  (unsigned long long)c_.bytes, (unsigned long long)c_.inserts,
                  (unsigned long long)c_.deletes, (unsigned long long)c_.ticks,
                  (unsigned long long)c_.other, (unsigned long long)c_.last_end_ts);
    return buf;
  }

 private:
  Collection* Find(const std::string& db, const std::string& name) {
    auto d = dbs_.find(db);
    if (d == dbs_.end()) return nullptr;
    auto c = d->second.find(name);
    return c == d->second.end() ? nullptr : &c->second;
  }

  std::mutex mu_;
  std::map<std::string, std::map<std::string, Collection>> dbs_{{"default", {}}};
  int64_t next_id_ = 500000;
  uint64_t position_ = 0;
  Counters c_;
};

void WriteStats(const std::string& path, const std::string& json) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"recording fake Milvus target for benchmarks"};
  int port = 0;
  std::string stats;
  app.add_option("--port", port, "port on 127.0.0.1 (0 = any free port)");
  app.add_option("--stats", stats, "file the counters are written to as JSON");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });

  Sink sink;
  grpc::ServerBuilder b;
  int chosen = 0;
  b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                     &chosen);
  b.SetMaxReceiveMessageSize(512 * 1024 * 1024);
  b.RegisterService(&sink);
  auto server = b.BuildAndStart();
  if (!server || chosen == 0) {
    std::fprintf(stderr, "milvus-sink: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", chosen);
  std::fflush(stdout);
  while (!g_stop) {
    WriteStats(stats, sink.StatsJson());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  WriteStats(stats, sink.StatsJson());
  return 0;
}

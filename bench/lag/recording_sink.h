#pragma once
// RecordingSink: a lean gRPC MilvusService that stands in for a target Milvus in benchmarks.
// It answers what milvus-cdc calls (version, readiness probe, database / collection /
// partition DDL, ReplicateMessage) and records, for every Insert and Delete it receives, the
// message's Milvus msgID and the wall-clock arrival time (the target's acknowledgement time:
// the RPC returns right after). Payloads are never kept or fully parsed (header decode only),
// so the sink's own cost stays small beside milvus-cdc's.
//
// Block mode: while blocked every ReplicateMessage fails with gRPC UNAVAILABLE ("target down"),
// so the data stays behind milvus-cdc (in the broker) until unblocked.
// Thread-safe: gRPC calls arrive on server threads; the accessors may be called from any thread.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "milvus/milvus.grpc.pb.h"

namespace cdc::bench {

class RecordingSink final : public ::milvus::proto::milvus::MilvusService::Service {
 public:
  struct Arrival {
    int64_t msg_id = 0;
    int64_t arrival_us = 0;  // system_clock microseconds
  };
  struct Stats {
    int64_t replicate_calls = 0, refused_calls = 0;
    int64_t inserts = 0, distinct_inserts = 0, deletes = 0, ticks = 0, bytes = 0;
    int64_t collections = 0;
  };

  RecordingSink() = default;
  ~RecordingSink() override;

  // Listens on 127.0.0.1:port (0 = a free port); returns the bound port, 0 on failure.
  int Start(int port);
  void Stop();

  void set_blocked(bool blocked) { blocked_.store(blocked); }
  Stats stats() const;
  // Insert arrivals recorded since the last ClearArrivals(), in arrival order.
  std::vector<Arrival> Arrivals() const;
  void ClearArrivals();

#define SINK_RPC(Name, Req, Resp)                                                                  \
  grpc::Status Name(grpc::ServerContext* ctx, const ::milvus::proto::milvus::Req* req, Resp* resp) \
      override;
  SINK_RPC(GetVersion, GetVersionRequest, ::milvus::proto::milvus::GetVersionResponse)
  SINK_RPC(ReplicateMessage, ReplicateMessageRequest,
           ::milvus::proto::milvus::ReplicateMessageResponse)
  SINK_RPC(CreateCollection, CreateCollectionRequest, ::milvus::proto::common::Status)
  SINK_RPC(DropCollection, DropCollectionRequest, ::milvus::proto::common::Status)
  SINK_RPC(DescribeCollection, DescribeCollectionRequest,
           ::milvus::proto::milvus::DescribeCollectionResponse)
  SINK_RPC(CreatePartition, CreatePartitionRequest, ::milvus::proto::common::Status)
  SINK_RPC(ShowPartitions, ShowPartitionsRequest, ::milvus::proto::milvus::ShowPartitionsResponse)
  SINK_RPC(CreateDatabase, CreateDatabaseRequest, ::milvus::proto::common::Status)
  SINK_RPC(ListDatabases, ListDatabasesRequest, ::milvus::proto::milvus::ListDatabasesResponse)
#undef SINK_RPC

 private:
  struct Collection {
    int64_t id = 0;
    int32_t shards = 1;
    std::map<std::string, int64_t> partitions;
  };
  std::string Db(grpc::ServerContext* ctx, const std::string& req_db) const;

  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> blocked_{false};
  mutable std::mutex mu_;
  int64_t next_id_ = 5000;
  std::set<std::string> databases_{"default"};
  std::map<std::string, Collection> collections_;  // db + "/" + name
  std::map<std::string, int64_t> offsets_;         // target pchannel -> messages written
  std::unordered_set<int64_t> seen_inserts_;
  std::vector<Arrival> arrivals_;
  Stats stats_;
};

}  // namespace cdc::bench

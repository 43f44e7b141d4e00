#pragma once
// sink::KafkaSink: a target::Client that writes a task's changes to a Kafka topic as JSON
// envelopes (sink/envelope.h, docs/kafka-sink.md) instead of applying them to a Milvus.
//
// Every call that changes something produces its envelopes and returns only after the brokers
// acknowledged all of them, so the pipeline's checkpoint after a call is after Kafka's ack.
// Records are keyed "<db>.<collection>" (database ops: "<db>"): one collection stays in one
// partition, in source order.
//
// ReplicateMessage turns the pack's Insert and Delete messages into "insert" / "delete"
// envelopes (ticks and the drop messages the pipeline also sends are skipped: the drop calls
// produce those). With PositionPerMessage(), the pipeline gives each message's source position
// as startpositions[i], which becomes the envelope's "position".
//
// State: only what it was sent since it was made (collections with their shard count,
// partitions and loaded partitions, databases), so that Describe*/ShowPartitions/ListDatabases
// answer the way the pipeline expects of a Milvus target. A new sink (a restart, a resumed task)
// knows nothing: the pipeline then creates the task's collections again, and their create_database,
// create_collection and create_partition envelopes are produced again with their original ts.
//
// Threading: safe from several threads (one mutex for the state; the producer serializes).
// Errors: the producer's (sink/producer.h); kNotFound for Describe* of a collection it was
// never sent; kInvalidArgument for a message that does not decode.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sink/producer.h"
#include "target/client.h"

namespace cdc::sink {

class KafkaSink final : public target::Client {
 public:
  explicit KafkaSink(std::unique_ptr<Producer> producer);

  std::string Describe() const override;
  Result<std::string> GetVersion() override;
  Result<std::string> CheckReplicationReady() override;
  bool PositionPerMessage() const override { return true; }
  Result<std::string> ReplicateMessage(
      const target::milvuspb::ReplicateMessageRequest& req) override;

  Result<target::CollectionInfo> DescribeCollection(const std::string& db,
                                                    const std::string& collection) override;
  Result<std::vector<target::PartitionInfo>> ShowPartitions(const std::string& db,
                                                            const std::string& collection) override;
  Result<std::vector<std::string>> ListDatabases() override;
  // As loaded by the load/release envelopes this sink produced (loads followed from the
  // source's load state are reconciled against it: replicate/partition_loads.h).
  Result<::milvus::proto::common::LoadState> GetLoadState(
      const std::string& db, const std::string& collection,
      const std::vector<std::string>& partitions) override;

  Status CreateCollection(const std::string& db, target::milvuspb::CreateCollectionRequest req,
                          uint64_t replicate_ts) override;
  Status DropCollection(const std::string& db, const std::string& collection,
                        uint64_t replicate_ts) override;
  Status CreatePartition(const std::string& db, const std::string& collection,
                         const std::string& partition, uint64_t replicate_ts) override;
  Status DropPartition(const std::string& db, const std::string& collection,
                       const std::string& partition, uint64_t replicate_ts) override;
  Status CreateIndex(const std::string& db, target::milvuspb::CreateIndexRequest req,
                     uint64_t replicate_ts) override;
  Status DropIndex(const std::string& db, target::milvuspb::DropIndexRequest req,
                   uint64_t replicate_ts) override;
  Status LoadCollection(const std::string& db, target::milvuspb::LoadCollectionRequest req,
                        uint64_t replicate_ts) override;
  Status ReleaseCollection(const std::string& db, target::milvuspb::ReleaseCollectionRequest req,
                           uint64_t replicate_ts) override;
  Status LoadPartitions(const std::string& db, target::milvuspb::LoadPartitionsRequest req,
                        uint64_t replicate_ts) override;
  Status ReleasePartitions(const std::string& db, target::milvuspb::ReleasePartitionsRequest req,
                           uint64_t replicate_ts) override;
  Status Flush(const std::string& db, target::milvuspb::FlushRequest req,
               uint64_t replicate_ts) override;
  Status AlterCollection(const std::string& db, const std::string& collection,
                         const std::vector<std::pair<std::string, std::string>>& props,
                         uint64_t replicate_ts) override;
  Status RenameCollection(const std::string& db, const std::string& from, const std::string& to,
                          uint64_t replicate_ts) override;
  Status CreateAlias(const std::string& db, const std::string& collection, const std::string& alias,
                     uint64_t replicate_ts) override;
  Status AlterAlias(const std::string& db, const std::string& collection, const std::string& alias,
                    uint64_t replicate_ts) override;
  Status DropAlias(const std::string& db, const std::string& alias, uint64_t replicate_ts) override;
  Status CreateDatabase(const std::string& db, uint64_t replicate_ts) override;
  Status DropDatabase(const std::string& db, uint64_t replicate_ts) override;

 private:
  struct Known {
    target::CollectionInfo info;
    std::map<std::string, int64_t> partitions;  // name -> id made up by the sink
    std::set<std::string> loaded;               // partitions loaded by what was produced
  };
  using Key = std::pair<std::string, std::string>;  // database ("default" for ""), collection

  // Produces one envelope keyed by its database and collection and waits for the ack.
  Status Produce(const nlohmann::json& envelope);
  static Key KeyOf(const std::string& db, const std::string& collection);
  int64_t NextId();  // mu_ held
  // Records what a produced load (or release, `load` false) of `partitions` (all when empty)
  // leaves loaded.
  void NoteLoad(const std::string& db, const std::string& collection, bool load,
                const std::vector<std::string>& partitions);

  std::unique_ptr<Producer> producer_;
  mutable std::mutex mu_;
  std::map<Key, Known> collections_;
  std::set<std::string> databases_;
  int64_t next_id_ = 1;
};

}  // namespace cdc::sink

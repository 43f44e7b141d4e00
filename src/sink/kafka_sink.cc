#include "sink/kafka_sink.h"

#include "absl/strings/str_cat.h"
#include "milvus/msg.pb.h"
#include "sink/envelope.h"
#include "source/message.h"

namespace cdc::sink {

namespace msgpb = ::milvus::proto::msg;
namespace commonpb = ::milvus::proto::common;
using json = nlohmann::json;

namespace {

std::string DbName(const std::string& db) { return db.empty() ? "default" : db; }

std::string RecordKey(const json& e) {
  std::string key = e.value("database", "default");
  if (e.contains("collection")) absl::StrAppend(&key, ".", e["collection"].get<std::string>());
  return key;
}

json Partitions(const google::protobuf::RepeatedPtrField<std::string>& names) {
  return json(std::vector<std::string>(names.begin(), names.end()));
}

// One data envelope of a pack message, or null for a message the sink does not write.
Result<json> DataEnvelope(const std::string& bytes, const std::optional<SourcePosition>& pos) {
  ASSIGN_OR_RETURN(auto h, source::DecodeHeader(bytes));
  if (h.type == commonpb::Insert) {
    msgpb::InsertRequest req;
    if (!req.ParseFromString(bytes)) return InvalidArgumentError("an Insert does not parse");
    return InsertEnvelope(req, pos);
  }
  if (h.type == commonpb::Delete) {
    msgpb::DeleteRequest req;
    if (!req.ParseFromString(bytes)) return InvalidArgumentError("a Delete does not parse");
    return DeleteEnvelope(req, pos);
  }
  switch (h.type) {
    case commonpb::TimeTick:        // no change
    case commonpb::DropCollection:  // written by the DropCollection call that follows it
    case commonpb::DropPartition:   // written by the DropPartition call that follows it
      return json(nullptr);
    default:  // refused, not dropped: the pipeline sets the collection aside and says why
      return InvalidArgumentError(absl::StrCat("a ", source::MsgTypeName(h.type),
                                               " message has no envelope in the Kafka sink"));
  }
}

}  // namespace

KafkaSink::KafkaSink(std::unique_ptr<Producer> producer) : producer_(std::move(producer)) {}

std::string KafkaSink::Describe() const { return "kafka sink " + producer_->Describe(); }

Result<std::string> KafkaSink::GetVersion() {
  RETURN_IF_ERROR(producer_->EnsureTopic());
  return absl::StrCat("kafka sink envelope v", kEnvelopeVersion);
}

Result<std::string> KafkaSink::CheckReplicationReady() {
  RETURN_IF_ERROR(producer_->EnsureTopic());
  return std::string();
}

KafkaSink::Key KafkaSink::KeyOf(const std::string& db, const std::string& collection) {
  return {DbName(db), collection};
}

int64_t KafkaSink::NextId() { return next_id_++; }

Status KafkaSink::Produce(const json& envelope) {
  return producer_->ProduceAll({{RecordKey(envelope), envelope.dump()}});
}

Result<std::string> KafkaSink::ReplicateMessage(
    const target::milvuspb::ReplicateMessageRequest& req) {
  const bool per_message = req.startpositions_size() == req.msgs_size();
  std::vector<Record> records;
  for (int i = 0; i < req.msgs_size(); ++i) {
    std::optional<SourcePosition> pos;
    if (per_message) {
      const auto& p = req.startpositions(i);
      pos = SourcePosition{p.channel_name(), p.msgid()};
    }
    auto e = DataEnvelope(req.msgs(i), pos);
    if (!e.ok()) {
      return InvalidArgumentError(absl::StrCat(Describe(), ": message ", i, " of the pack for ",
                                               req.channel_name(), ": ", e.status().message()));
    }
    if (e->is_null()) continue;
    records.push_back({RecordKey(*e), e->dump()});
  }
  RETURN_IF_ERROR(producer_->ProduceAll(records));
  return std::string();
}

Result<target::CollectionInfo> KafkaSink::DescribeCollection(const std::string& db,
                                                             const std::string& collection) {
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it == collections_.end()) {
    return NotFoundError(absl::StrCat(Describe(), ": collection ", DbName(db), ".", collection,
                                      " was not created through this sink"));
  }
  return it->second.info;
}

Result<std::vector<target::PartitionInfo>> KafkaSink::ShowPartitions(
    const std::string& db, const std::string& collection) {
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it == collections_.end()) {
    return NotFoundError(absl::StrCat(Describe(), ": collection ", DbName(db), ".", collection,
                                      " was not created through this sink"));
  }
  std::vector<target::PartitionInfo> out;
  for (const auto& [name, id] : it->second.partitions) out.push_back({name, id});
  return out;
}

Result<::milvus::proto::common::LoadState> KafkaSink::GetLoadState(
    const std::string& db, const std::string& collection,
    const std::vector<std::string>& partitions) {
  namespace cpb = ::milvus::proto::common;
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it == collections_.end()) return cpb::LoadStateNotExist;
  const auto& loaded = it->second.loaded;
  bool all = !loaded.empty();
  for (const auto& p : partitions) all = all && loaded.count(p) > 0;
  return all ? cpb::LoadStateLoaded : cpb::LoadStateNotLoad;
}

void KafkaSink::NoteLoad(const std::string& db, const std::string& collection, bool load,
                         const std::vector<std::string>& partitions) {
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it == collections_.end()) return;
  auto& loaded = it->second.loaded;
  if (partitions.empty()) {
    loaded.clear();
    if (load)
      for (const auto& [name, _] : it->second.partitions) loaded.insert(name);
    return;
  }
  for (const auto& p : partitions) {
    if (load) {
      loaded.insert(p);
    } else {
      loaded.erase(p);
    }
  }
}

Result<std::vector<std::string>> KafkaSink::ListDatabases() {
  std::lock_guard l(mu_);
  std::vector<std::string> out = {"default"};
  for (const auto& d : databases_)
    if (d != "default") out.push_back(d);
  return out;
}

Status KafkaSink::CreateCollection(const std::string& db,
                                   target::milvuspb::CreateCollectionRequest req,
                                   uint64_t replicate_ts) {
  ASSIGN_OR_RETURN(json e, CreateCollectionEnvelope(db, req, replicate_ts));
  RETURN_IF_ERROR(Produce(e));
  std::lock_guard l(mu_);
  Known k;
  k.info.id = NextId();
  k.info.name = req.collection_name();
  k.info.db_name = DbName(db);
  k.info.shards_num = std::max(req.shards_num(), 1);
  k.info.created_ts = replicate_ts;
  for (int i = 0; i < k.info.shards_num; ++i) {
    // Channel names of the sink's own, one per shard, so the pipeline routes as to a Milvus.
    const std::string ch = absl::StrCat("kafka-sink_", k.info.db_name, ".", k.info.name, "_", i);
    k.info.pchannels.push_back(ch);
    k.info.vchannels.push_back(absl::StrCat(ch, "v0"));
  }
  if (req.num_partitions() > 0) {
    for (int64_t i = 0; i < req.num_partitions(); ++i)
      k.partitions[absl::StrCat("_default_", i)] = NextId();
  } else {
    k.partitions["_default"] = NextId();
  }
  collections_[KeyOf(db, req.collection_name())] = std::move(k);
  return OkStatus();
}

Status KafkaSink::DropCollection(const std::string& db, const std::string& collection,
                                 uint64_t replicate_ts) {
  RETURN_IF_ERROR(
      Produce(EnvelopeHead("drop_collection", db, collection, replicate_ts, std::nullopt)));
  std::lock_guard l(mu_);
  collections_.erase(KeyOf(db, collection));
  return OkStatus();
}

Status KafkaSink::CreatePartition(const std::string& db, const std::string& collection,
                                  const std::string& partition, uint64_t replicate_ts) {
  json e = EnvelopeHead("create_partition", db, collection, replicate_ts, std::nullopt);
  e["partition"] = partition;
  RETURN_IF_ERROR(Produce(e));
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it != collections_.end() && !it->second.partitions.count(partition))
    it->second.partitions[partition] = NextId();
  return OkStatus();
}

Status KafkaSink::DropPartition(const std::string& db, const std::string& collection,
                                const std::string& partition, uint64_t replicate_ts) {
  json e = EnvelopeHead("drop_partition", db, collection, replicate_ts, std::nullopt);
  e["partition"] = partition;
  RETURN_IF_ERROR(Produce(e));
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it != collections_.end()) {
    it->second.partitions.erase(partition);
    it->second.loaded.erase(partition);
  }
  return OkStatus();
}

Status KafkaSink::CreateIndex(const std::string& db, target::milvuspb::CreateIndexRequest req,
                              uint64_t replicate_ts) {
  json e = EnvelopeHead("create_index", db, req.collection_name(), replicate_ts, std::nullopt);
  e["field"] = req.field_name();
  e["index_name"] = req.index_name();
  json params = json::object();
  for (const auto& kv : req.extra_params()) params[kv.key()] = kv.value();
  e["params"] = std::move(params);
  return Produce(e);
}

Status KafkaSink::DropIndex(const std::string& db, target::milvuspb::DropIndexRequest req,
                            uint64_t replicate_ts) {
  json e = EnvelopeHead("drop_index", db, req.collection_name(), replicate_ts, std::nullopt);
  e["field"] = req.field_name();
  e["index_name"] = req.index_name();
  return Produce(e);
}

Status KafkaSink::LoadCollection(const std::string& db, target::milvuspb::LoadCollectionRequest req,
                                 uint64_t replicate_ts) {
  json e = EnvelopeHead("load", db, req.collection_name(), replicate_ts, std::nullopt);
  e["partitions"] = json::array();
  e["replica_number"] = req.replica_number();
  RETURN_IF_ERROR(Produce(e));
  NoteLoad(db, req.collection_name(), true, {});
  return OkStatus();
}

Status KafkaSink::ReleaseCollection(const std::string& db,
                                    target::milvuspb::ReleaseCollectionRequest req,
                                    uint64_t replicate_ts) {
  json e = EnvelopeHead("release", db, req.collection_name(), replicate_ts, std::nullopt);
  e["partitions"] = json::array();
  RETURN_IF_ERROR(Produce(e));
  NoteLoad(db, req.collection_name(), false, {});
  return OkStatus();
}

Status KafkaSink::LoadPartitions(const std::string& db, target::milvuspb::LoadPartitionsRequest req,
                                 uint64_t replicate_ts) {
  json e = EnvelopeHead("load", db, req.collection_name(), replicate_ts, std::nullopt);
  e["partitions"] = Partitions(req.partition_names());
  e["replica_number"] = req.replica_number();
  RETURN_IF_ERROR(Produce(e));
  NoteLoad(db, req.collection_name(), true,
           {req.partition_names().begin(), req.partition_names().end()});
  return OkStatus();
}

Status KafkaSink::ReleasePartitions(const std::string& db,
                                    target::milvuspb::ReleasePartitionsRequest req,
                                    uint64_t replicate_ts) {
  json e = EnvelopeHead("release", db, req.collection_name(), replicate_ts, std::nullopt);
  e["partitions"] = Partitions(req.partition_names());
  RETURN_IF_ERROR(Produce(e));
  NoteLoad(db, req.collection_name(), false,
           {req.partition_names().begin(), req.partition_names().end()});
  return OkStatus();
}

Status KafkaSink::Flush(const std::string& db, target::milvuspb::FlushRequest req,
                        uint64_t replicate_ts) {
  std::vector<Record> records;
  for (const auto& c : req.collection_names()) {
    json e = EnvelopeHead("flush", db, c, replicate_ts, std::nullopt);
    records.push_back({RecordKey(e), e.dump()});
  }
  return producer_->ProduceAll(records);
}

Status KafkaSink::AlterCollection(const std::string& db, const std::string& collection,
                                  const std::vector<std::pair<std::string, std::string>>& props,
                                  uint64_t replicate_ts) {
  json e = EnvelopeHead("alter_collection", db, collection, replicate_ts, std::nullopt);
  json p = json::object();
  for (const auto& [k, v] : props) p[k] = v;
  e["properties"] = std::move(p);
  RETURN_IF_ERROR(Produce(e));
  std::lock_guard l(mu_);
  auto it = collections_.find(KeyOf(db, collection));
  if (it != collections_.end())
    for (const auto& kv : props) it->second.info.properties.push_back(kv);
  return OkStatus();
}

Status KafkaSink::RenameCollection(const std::string& db, const std::string& from,
                                   const std::string& to, uint64_t replicate_ts) {
  json e = EnvelopeHead("rename_collection", db, from, replicate_ts, std::nullopt);
  e["new_name"] = to;
  RETURN_IF_ERROR(Produce(e));
  std::lock_guard l(mu_);
  auto node = collections_.extract(KeyOf(db, from));
  if (!node.empty()) {
    node.key() = KeyOf(db, to);
    node.mapped().info.name = to;
    collections_.insert(std::move(node));
  }
  return OkStatus();
}

Status KafkaSink::CreateAlias(const std::string& db, const std::string& collection,
                              const std::string& alias, uint64_t replicate_ts) {
  json e = EnvelopeHead("create_alias", db, collection, replicate_ts, std::nullopt);
  e["alias"] = alias;
  return Produce(e);
}

Status KafkaSink::AlterAlias(const std::string& db, const std::string& collection,
                             const std::string& alias, uint64_t replicate_ts) {
  json e = EnvelopeHead("alter_alias", db, collection, replicate_ts, std::nullopt);
  e["alias"] = alias;
  return Produce(e);
}

Status KafkaSink::DropAlias(const std::string& db, const std::string& alias,
                            uint64_t replicate_ts) {
  json e = EnvelopeHead("drop_alias", db, "", replicate_ts, std::nullopt);
  e["alias"] = alias;
  return Produce(e);
}

Status KafkaSink::CreateDatabase(const std::string& db, uint64_t replicate_ts) {
  RETURN_IF_ERROR(Produce(EnvelopeHead("create_database", db, "", replicate_ts, std::nullopt)));
  std::lock_guard l(mu_);
  databases_.insert(DbName(db));
  return OkStatus();
}

Status KafkaSink::DropDatabase(const std::string& db, uint64_t replicate_ts) {
  RETURN_IF_ERROR(Produce(EnvelopeHead("drop_database", db, "", replicate_ts, std::nullopt)));
  std::lock_guard l(mu_);
  databases_.erase(DbName(db));
  return OkStatus();
}

}  // namespace cdc::sink

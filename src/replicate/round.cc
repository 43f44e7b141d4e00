// Pipeline::Impl, the round: what each released message turns into on the target.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "milvus/milvus.pb.h"
#include "milvus/msg.pb.h"
#include "replicate/dml_log.h"
#include "replicate/pipeline_impl.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

namespace mpb = ::milvus::proto::milvus;
namespace msgpb = ::milvus::proto::msg;
namespace cpb = ::milvus::proto::common;

namespace {
template <typename T>
Result<T> Decode(const source::Message& m, const char* what) {
  T out;
  if (!out.ParseFromArray(m.payload.data(), static_cast<int>(m.payload.size()))) {
    return InvalidArgumentError(
        absl::StrCat("decode ", what, " at ", source::DescribePosition(m.position)));
  }
  return out;
}
std::string DbOrDefault(const std::string& db) { return db.empty() ? "default" : db; }

// Test hook for the no-duplicate guarantee (tests/e2e): with CDC_TEST_CRASH_AFTER_ACK=1 the
// process exits at once, like kill -9, after the target acknowledged a round's data and before
// its checkpoint is written: the widest window for a re-send. Never set it in production.
void MaybeCrashAfterAck(const std::string& task_id, uint64_t w) {
  static const bool enabled = [] {
    const char* v = std::getenv("CDC_TEST_CRASH_AFTER_ACK");
    return v != nullptr && std::string(v) == "1";
  }();
  if (!enabled) return;
  spdlog::critical(
      "task {}: CDC_TEST_CRASH_AFTER_ACK: exiting after the target acknowledged "
      "the data of round {} and before its checkpoint",
      task_id, w);
  spdlog::default_logger()->flush();
  std::_Exit(86);
}
}  // namespace

Status Pipeline::Impl::RunRound() {
  for (; round_index_ < round_items_.size(); ++round_index_)
    RETURN_IF_ERROR(Process(round_items_[round_index_]));
  RETURN_IF_ERROR(FlushBatches());
  if (!round_checkpointed_) {
    const bool due = round_data_sent_ || !dropped_rows_.empty() ||
                     std::chrono::steady_clock::now() - last_checkpoint_ >= opts_.idle_checkpoint;
    if (due && !round_data_channels_.empty()) MaybeCrashAfterAck(opts_.task_id, round_w_);
    if (due) RETURN_IF_ERROR(WriteCheckpoint(round_w_));
    round_checkpointed_ = true;
  }
  if (round_has_dml_channels_) RETURN_IF_ERROR(SendTicks(round_w_, false));
  RETURN_IF_ERROR(SyncChannels());
  RetireChannels();
  applied_ = std::max(applied_, round_w_);
  applied_out_->store(applied_);
  for (const auto& [ch, pos] : merger_.Drained()) applied_positions_[ch] = pos;
  round_active_ = false;
  round_items_.clear();
  round_index_ = 0;
  round_data_channels_.clear();
  round_data_sent_ = false;
  round_checkpointed_ = false;
  return OkStatus();
}

void Pipeline::Impl::RetireChannels() {
  const auto in_use = map_->SourcePChannels();
  for (auto it = readers_.begin(); it != readers_.end();) {
    if (in_use.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("task {}: no selected collection left on {}; not reading it any more",
                 opts_.task_id, it->first);
    it->second->Close();
    merger_.RemoveChannel(it->first);
    saved_positions_.erase(it->first);
    applied_positions_.erase(it->first);
    it = readers_.erase(it);
  }
}

Status Pipeline::Impl::Process(const Item& item) {
  if (item.replicate) return ProcessReplicateRequest(item.m);
  switch (item.m.msg.header.type) {
    case cpb::Insert:
    case cpb::Delete:
      return ProcessDml(item.m);
    case cpb::DropCollection:
      return ProcessDropCollection(item.m);
    case cpb::DropPartition:
      return ProcessDropPartition(item.m);
    case cpb::CreateCollection:
      return ProcessCreateCollection(item.m);
    case cpb::CreatePartition:
      return ProcessCreatePartition(item.m);
    default:
      return OkStatus();  // ticks and types a target does not need
  }
}

Status Pipeline::Impl::ProcessDml(const MergedMessage& m) {
  const auto& h = m.msg.header;
  ASSIGN_OR_RETURN(MappedCollection * c, map_->Resolve(h.collection_id));
  if (c == nullptr) return OkStatus();
  LogDml(opts_.task_id, m.msg, c->source.db_name, c->source.name);
  auto route = c->routes.find(h.shard_name);
  if (route == c->routes.end()) {
    skipped_ = absl::StrCat("skipped ", source::MsgTypeName(h.type), " at ",
                            source::DescribePosition(m.msg.position), ": unknown shard ",
                            h.shard_name, " of ", c->source.db_name, ".", c->source.name);
    spdlog::warn("task {}: {}", opts_.task_id, skipped_);
    return OkStatus();
  }
  FieldOverrides ov;
  ov.varints[kDmlCollectionId] = c->target.id;
  ov.strings[kDmlShardName] = route->second.target_vchannel;
  if (h.partition_id > 0) {
    ASSIGN_OR_RETURN(int64_t pid, map_->TargetPartition(*c, h.partition_id));
    ov.varints[kDmlPartitionId] = pid;
  }
  auto bytes = RewriteFields(m.msg.payload, ov);
  if (!bytes.ok()) {
    skipped_ =
        absl::StrCat("skipped ", source::MsgTypeName(h.type), " at ",
                     source::DescribePosition(m.msg.position), ": ", bytes.status().message());
    spdlog::error("task {}: {}", opts_.task_id, skipped_);
    return OkStatus();
  }
  const std::string& t = route->second.target_pchannel;
  if (batches_[t].bytes + bytes->size() > opts_.max_batch_bytes && !batches_[t].msgs.empty())
    RETURN_IF_ERROR(FlushBatches());
  Batch& b = batches_[t];
  if (b.msgs.empty()) b.first_msg_id = m.msg.position.msgid();
  b.last_msg_id = m.msg.position.msgid();
  b.bytes += bytes->size();
  b.max_ts = std::max(b.max_ts, h.timestamp);
  b.msgs.push_back(std::move(*bytes));
  return OkStatus();
}

Status Pipeline::Impl::SendPack(const std::string& target_channel, std::vector<std::string> msgs,
                                uint64_t begin_ts, uint64_t end_ts, const std::string& first_id,
                                const std::string& last_id) {
  mpb::ReplicateMessageRequest req;
  req.mutable_base()->mutable_replicateinfo()->set_isreplicate(true);
  req.set_channel_name(target_channel);
  req.set_begints(begin_ts);
  req.set_endts(end_ts);
  for (auto& m : msgs) req.add_msgs(std::move(m));
  auto* sp = req.add_startpositions();
  sp->set_channel_name(target_channel);
  sp->set_msgid(first_id);
  sp->set_timestamp(begin_ts);
  auto* ep = req.add_endpositions();
  ep->set_channel_name(target_channel);
  ep->set_msgid(last_id);
  ep->set_timestamp(end_ts);
  ASSIGN_OR_RETURN(std::string pos, target_->ReplicateMessage(req));
  target_positions_[target_channel] = {pos, end_ts};
  return OkStatus();
}

Status Pipeline::Impl::FlushBatches() {
  for (auto it = batches_.begin(); it != batches_.end();) {
    Batch& b = it->second;
    if (!b.msgs.empty()) {
      RETURN_IF_ERROR(SendPack(it->first, b.msgs, last_tick_[it->first],
                               std::max(round_w_, b.max_ts), b.first_msg_id, b.last_msg_id));
      round_data_sent_ = true;
      round_data_channels_.insert(it->first);
    }
    it = batches_.erase(it);
  }
  return OkStatus();
}

Status Pipeline::Impl::SendTicks(uint64_t w, bool force) {
  const std::string tick = MakeTimeTick(w);
  // Also the channels of collections dropped since the start: the target's datanode may still
  // be setting up its watch of such a channel, which waits for a tick there, and it sets up
  // watches one at a time, so a silent channel would hold back every later collection's
  // watch (and Flush) until the target gives up after 5 minutes.
  std::set<std::string> channels = map_->TargetPChannels();
  for (const auto& [t, _] : last_tick_) channels.insert(t);
  for (const auto& t : channels) {
    uint64_t& last = last_tick_[t];
    if (w <= last) continue;
    const bool due = force || round_data_channels_.count(t) || last == 0 ||
                     HybridToMs(w) - HybridToMs(last) >= opts_.idle_tick.count();
    if (!due) continue;
    RETURN_IF_ERROR(SendPack(t, {tick}, last, w, "", ""));
    last = w;
  }
  return OkStatus();
}

Status Pipeline::Impl::ProcessCreateCollection(const MergedMessage& m) {
  const auto& h = m.msg.header;
  if (map_->Known(h.collection_id)) return OkStatus();
  ASSIGN_OR_RETURN(MappedCollection * c, map_->Resolve(h.collection_id));
  if (c == nullptr && !map_->Known(h.collection_id)) {
    // The catalog no longer (or not yet) has it: build what we can from the message.
    ASSIGN_OR_RETURN(auto req, Decode<msgpb::CreateCollectionRequest>(m.msg, "CreateCollection"));
    CollectionMeta meta;
    meta.id = h.collection_id;
    meta.db_name = DbOrDefault(req.db_name());
    meta.db_id = req.dbid();
    meta.name = req.collectionname();
    meta.schema = req.schema();
    meta.vchannels.assign(req.virtualchannelnames().begin(), req.virtualchannelnames().end());
    meta.pchannels.assign(req.physicalchannelnames().begin(), req.physicalchannelnames().end());
    meta.shards_num = static_cast<int32_t>(meta.vchannels.size());
    meta.create_ts = h.timestamp;
    ASSIGN_OR_RETURN(c, map_->Ensure(meta));
  }
  return SyncChannels();
}

Status Pipeline::Impl::ProcessCreatePartition(const MergedMessage& m) {
  ASSIGN_OR_RETURN(MappedCollection * c, map_->Resolve(m.msg.header.collection_id));
  if (c == nullptr) return OkStatus();
  ASSIGN_OR_RETURN(auto req, Decode<msgpb::CreatePartitionRequest>(m.msg, "CreatePartition"));
  return map_->AddPartition(*c, req.partitionid(), req.partition_name(), m.msg.header.timestamp);
}

Status Pipeline::Impl::ForwardToTargets(const MappedCollection& c, const MergedMessage& m,
                                        const FieldOverrides& ov) {
  auto bytes = RewriteFields(m.msg.payload, ov);
  if (!bytes.ok()) return OkStatus();  // the RPC that follows still does the work
  std::set<std::string> targets;
  for (const auto& [_, r] : c.routes) targets.insert(r.target_pchannel);
  for (const auto& t : targets) {
    RETURN_IF_ERROR(SendPack(t, {*bytes}, last_tick_[t], m.msg.header.timestamp,
                             m.msg.position.msgid(), m.msg.position.msgid()));
    round_data_channels_.insert(t);
  }
  return OkStatus();
}

Status Pipeline::Impl::ProcessDropCollection(const MergedMessage& m) {
  const auto& h = m.msg.header;
  MappedCollection* c = map_->Find(h.collection_id);
  if (c == nullptr) return OkStatus();  // not ours, or an earlier shard already dropped it
  RETURN_IF_ERROR(FlushBatches());
  FieldOverrides ov;
  ov.varints[kDropCollectionCollectionId] = c->target.id;
  RETURN_IF_ERROR(ForwardToTargets(*c, m, ov));
  RETURN_IF_ERROR(target_->DropCollection(c->target.db_name, c->target.name, h.timestamp));
  spdlog::info("task {}: dropped collection {}.{} on the target", opts_.task_id, c->target.db_name,
               c->target.name);
  dropped_rows_.insert(h.collection_id);
  map_->Drop(h.collection_id);
  round_data_sent_ = true;
  return OkStatus();
}

Status Pipeline::Impl::ProcessDropPartition(const MergedMessage& m) {
  const auto& h = m.msg.header;
  MappedCollection* c = map_->Find(h.collection_id);
  if (c == nullptr) return OkStatus();
  ASSIGN_OR_RETURN(auto req, Decode<msgpb::DropPartitionRequest>(m.msg, "DropPartition"));
  auto tp = c->target_partitions.find(req.partition_name());
  if (tp == c->target_partitions.end()) return OkStatus();  // already dropped
  RETURN_IF_ERROR(FlushBatches());
  FieldOverrides ov;
  ov.varints[kDropPartitionCollectionId] = c->target.id;
  ov.varints[kDropPartitionPartitionId] = tp->second;
  RETURN_IF_ERROR(ForwardToTargets(*c, m, ov));
  RETURN_IF_ERROR(
      target_->DropPartition(c->target.db_name, c->target.name, req.partition_name(), h.timestamp));
  map_->RemovePartition(*c, req.partition_name());
  round_data_sent_ = true;
  return OkStatus();
}

MappedCollection* Pipeline::Impl::FindForRequest(const std::string& db,
                                                 const std::string& collection, Status* error) {
  MappedCollection* c = map_->FindByName(db, collection);
  if (c != nullptr) return c;
  *error = SyncCatalog();
  if (error->ok()) *error = SyncChannels();
  return error->ok() ? map_->FindByName(db, collection) : nullptr;
}

Status Pipeline::Impl::ProcessReplicateRequest(const MergedMessage& m) {
  RETURN_IF_ERROR(FlushBatches());
  const uint64_t ts = m.msg.header.timestamp;
  Status s;
  switch (m.msg.header.type) {
    case cpb::CreateDatabase: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::CreateDatabaseRequest>(m.msg, "CreateDatabase"));
      if (map_->selection().DatabaseSelected(req.db_name()))
        s = target_->CreateDatabase(req.db_name(), ts);
      break;
    }
    case cpb::DropDatabase: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::DropDatabaseRequest>(m.msg, "DropDatabase"));
      if (map_->selection().DatabaseSelected(req.db_name())) {
        s = target_->DropDatabase(req.db_name(), ts);
        map_->ForgetDatabase(req.db_name());
      }
      break;
    }
    case cpb::Flush: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::FlushRequest>(m.msg, "Flush"));
      const std::string db = DbOrDefault(req.db_name());
      mpb::FlushRequest out;
      for (const auto& name : req.collection_names()) {
        MappedCollection* c = FindForRequest(db, name, &s);
        RETURN_IF_ERROR(s);
        if (c != nullptr) out.add_collection_names(c->target.name);
      }
      // Not in place: the target may take it only after the ticks that follow (FlushRetrier).
      if (out.collection_names_size() > 0) flushes_->Add(db, std::move(out), ts);
      break;
    }
#define CDC_COLLECTION_DDL(Type, Req, Call)                              \
  case cpb::Type: {                                                      \
    ASSIGN_OR_RETURN(auto req, Decode<mpb::Req>(m.msg, #Type));          \
    const std::string db = DbOrDefault(req.db_name());                   \
    MappedCollection* c = FindForRequest(db, req.collection_name(), &s); \
    RETURN_IF_ERROR(s);                                                  \
    if (c != nullptr) s = target_->Call(db, req, ts);                    \
    break;                                                               \
  }
      CDC_COLLECTION_DDL(LoadCollection, LoadCollectionRequest, LoadCollection)
      CDC_COLLECTION_DDL(ReleaseCollection, ReleaseCollectionRequest, ReleaseCollection)
      CDC_COLLECTION_DDL(LoadPartitions, LoadPartitionsRequest, LoadPartitions)
      CDC_COLLECTION_DDL(ReleasePartitions, ReleasePartitionsRequest, ReleasePartitions)
      CDC_COLLECTION_DDL(CreateIndex, CreateIndexRequest, CreateIndex)
      CDC_COLLECTION_DDL(DropIndex, DropIndexRequest, DropIndex)
#undef CDC_COLLECTION_DDL
    default:
      break;  // RBAC, aliases, ...: not replicated
  }
  RETURN_IF_ERROR(s);
  spdlog::info("task {}: replicate request {} ts={} handled", opts_.task_id,
               source::MsgTypeName(m.msg.header.type), ts);
  source::MsgPosition pos = m.msg.position;
  pos.set_timestamp(ts);
  replicate_position_ = pos;
  round_data_sent_ = true;  // checkpoint the replicate position with this round
  return OkStatus();
}

}  // namespace cdc::replicate

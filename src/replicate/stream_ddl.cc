// Pipeline::Impl, what is not row data: creates and drops from the DML channels, requests
// from the replicate-msg channel, and collections set aside.
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"
#include "replicate/pipeline_impl.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

namespace mpb = ::milvus::proto::milvus;
namespace msgpb = ::milvus::proto::msg;
namespace cpb = ::milvus::proto::common;
namespace schemapb = ::milvus::proto::schema;

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
std::string FullName(const CollectionMeta& c) { return absl::StrCat(c.db_name, ".", c.name); }
}  // namespace

Result<MappedCollection*> Pipeline::Impl::Map(const CollectionMeta& meta) {
  if (!map_->selection().Selected(meta.db_name, meta.name)) {
    sources_.ignored->Ignore(meta.id);
    return nullptr;
  }
  auto mapped = map_->Ensure(meta);
  if (mapped.ok() && *mapped != nullptr && AwaitsCopy(**mapped)) return nullptr;
  if (mapped.ok()) {
    if (*mapped != nullptr) ddl_->SetReady(meta.id, true);
    return mapped;
  }
  if (IsRetryable(mapped.status())) return mapped.status();
  // The target refuses something only this collection needs: the others go on.
  SetAside(meta.id, FullName(meta), mapped.status());
  if (checkpoints_.AppliedTs(meta.id) == 0) {
    // A collection new to the task: it resumes from its create message on every channel.
    std::map<std::string, source::MsgPosition> from;
    for (const auto& [ch, id] : meta.start_msg_ids) {
      source::MsgPosition p;
      p.set_channel_name(ch);
      p.set_msgid(id);
      p.set_timestamp(meta.create_ts > 0 ? meta.create_ts - 1 : 0);
      if (auto known = checkpoints_.StartOf(ch); known && known->timestamp() < p.timestamp())
        p = *known;
      from[ch] = p;
    }
    checkpoints_.Freeze(meta.id, meta.name, from, 0);
  }
  return nullptr;
}

void Pipeline::Impl::SetAside(int64_t id, const std::string& name, const Status& s, bool planned) {
  const bool again = quarantine_.Has(id);
  quarantine_.Put(id, name, std::string(s.message()));
  ddl_->SetReady(id, false);
  // A collection that was replicating has everything up to the last round, and what the
  // target took of it in this one; it resumes after that, from the channels' last positions.
  std::map<std::string, source::MsgPosition> from;
  uint64_t applied = 0;
  if (const MappedCollection* c = map_->Find(id)) {
    for (const auto& ch : c->source.pchannels)
      if (auto p = checkpoints_.Known(ch)) from[ch] = *p;
    applied = loop_.applied;
    if (auto it = writer_->acked().find(id); it != writer_->acked().end())
      applied = std::max(applied, it->second);
  }
  checkpoints_.Freeze(id, name, from, applied);
  if (!again && !planned) {
    spdlog::error(
        "task {}: collection {} is set aside, the task's other collections go on: {}; "
        "retried with backoff, it resumes from where it stopped once the target "
        "takes it",
        opts_.task_id, name, std::string(s.message()));
  }
}

Status Pipeline::Impl::RetrySetAside(std::vector<int64_t>* recovered) {
  for (int64_t id : quarantine_.Due()) {
    ASSIGN_OR_RETURN(auto meta, deps_.catalog->GetCollection(id));
    if (!meta || meta->dropped) {
      const std::string full = quarantine_.NameOf(id);  // db.collection
      quarantine_.Remove(id);
      ddl_->Discard(id, "its collection was dropped on the source while set aside");
      checkpoints_.DropRow(id);
      // It may have reached the target: its DropCollection, still to come, drops it there.
      const auto dot = full.find('.');
      loop_.drop_pending[id] = dot == std::string::npos ? "" : full.substr(dot + 1);
      Skip("collection_dropped_while_set_aside",
           absl::StrCat("collection id ", id, meta ? " (" + FullName(*meta) + ")" : "",
                        " was dropped on the source while set aside; its changes went with it"));
      continue;
    }
    map_->Forget(id);  // look the target up again: it may have been fixed or re-created
    auto mapped = map_->Ensure(*meta);
    if (mapped.ok() && *mapped != nullptr && AwaitsCopy(**mapped)) continue;
    if (!mapped.ok()) {
      if (IsRetryable(mapped.status())) return mapped.status();
      quarantine_.Put(id, FullName(*meta), std::string(mapped.status().message()));
      continue;
    }
    spdlog::info(
        "task {}: collection {} is taken by the target again; it catches up from its "
        "checkpoint",
        opts_.task_id, FullName(*meta));
    recovered->push_back(id);  // stays set aside until the rewind has written its row
  }
  return OkStatus();
}

Status Pipeline::Impl::ProcessCreateCollection(const MergedMessage& m) {
  const auto& h = m.msg.header;
  if (map_->Known(h.collection_id) || quarantine_.Has(h.collection_id)) return OkStatus();
  ASSIGN_OR_RETURN(auto meta, deps_.catalog->GetCollection(h.collection_id));
  if (!meta || meta->dropped) {
    // The view covers this message: a collection it has as dropped, or not at all (dropped
    // before this process read the catalog), is not created. A process before a crash may
    // have created it on the target already (2.3.5's create message names neither it nor its
    // database): its messages stay unfiltered so that its DropCollection, further on, drops
    // it there by name (DropUnmapped) if it is there.
    const bool selected = !meta || map_->selection().Selected(meta->db_name, meta->name);
    if (!selected) {
      sources_.ignored->Ignore(h.collection_id);
      return OkStatus();
    }
    std::string name = meta ? meta->name : "";
    if (!meta) {  // the message names it only in its schema
      auto req = Decode<msgpb::CreateCollectionRequest>(m.msg, "CreateCollection");
      schemapb::CollectionSchema schema;
      if (req.ok() && schema.ParseFromString(req->schema())) name = schema.name();
    }
    loop_.drop_pending[h.collection_id] = name;
    Skip("collection_dropped_before_seen",
         absl::StrCat("CreateCollection at ", source::DescribePosition(m.msg.position),
                      ": collection id ", h.collection_id, meta ? " (" + FullName(*meta) + ")" : "",
                      " was dropped on the source before the task saw it"));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(auto c, Map(*meta));
  (void)c;
  return SyncChannels();
}

Status Pipeline::Impl::ProcessCreatePartition(const MergedMessage& m) {
  MappedCollection* c = map_->Find(m.msg.header.collection_id);
  if (c == nullptr || quarantine_.Has(c->source.id)) return OkStatus();
  ASSIGN_OR_RETURN(auto req, Decode<msgpb::CreatePartitionRequest>(m.msg, "CreatePartition"));
  Status s =
      map_->AddPartition(*c, req.partitionid(), req.partition_name(), m.msg.header.timestamp);
  if (s.ok() || IsRetryable(s)) return s;
  SetAside(c->source.id, FullName(c->source), s);
  return OkStatus();
}

Status Pipeline::Impl::ProcessDropCollection(const MergedMessage& m) {
  const auto& h = m.msg.header;
  MappedCollection* c = map_->Find(h.collection_id);
  if (c == nullptr) {
    // Not mapped by this process: replicated before a restart (with or without a checkpoint
    // row yet: a collection with no data has none, and later rounds of other collections can
    // move its channels past its create) and dropped on the source before the catalog was
    // read again. DropUnmapped drops it on the target by name if it is there and selected.
    if (!quarantine_.Has(h.collection_id)) {
      if (sources_.ignored->Ignored(h.collection_id)) return OkStatus();  // not ours
      return DropUnmapped(m);
    }
    // Set aside: it may or may not have reached the target; drop it there if it did.
    quarantine_.Remove(h.collection_id);
    return DropUnmapped(m);
  }
  if (h.timestamp <= checkpoints_.AppliedTs(h.collection_id)) return OkStatus();  // done before
  RETURN_IF_ERROR(FlushData());
  FieldOverrides ov;
  ov.varints[kDropCollectionCollectionId] = c->target.id;
  ov.strings[kDropCollectionDbName] = c->target.db_name;
  ov.strings[kDropCollectionName] = c->target.name;
  if (auto bytes = RewriteFields(m.msg.payload, ov); bytes.ok()) {
    std::set<std::string> targets;
    for (const auto& [_, r] : c->routes) targets.insert(r.target_pchannel);
    RETURN_IF_ERROR(writer_->SendToEach(targets, *bytes, m.msg, &round_));
  }
  ASSIGN_OR_RETURN(bool dropped, DropOnTarget(c->target.db_name, c->target.name, h.timestamp));
  if (dropped) {
    spdlog::info("task {}: dropped collection {}.{} on the target", opts_.task_id,
                 c->target.db_name, c->target.name);
  }
  ddl_->Discard(h.collection_id, "its collection was dropped on the source");
  quarantine_.Remove(h.collection_id);
  sync_.Forget(h.collection_id);
  checkpoints_.DropRow(h.collection_id);
  map_->Drop(h.collection_id);
  round_.changed = true;
  return OkStatus();
}

Result<bool> Pipeline::Impl::DropOnTarget(const std::string& db, const std::string& collection,
                                          uint64_t ts) {
  Status s = target_->DropCollection(db, collection, ts);
  if (s.ok()) return true;
  if (IsRetryable(s) || IsAuthError(s)) return s;  // the whole task waits: it concerns all
  Skip("collection_drop_refused_by_target",
       absl::StrCat("DropCollection of ", db, ".", collection,
                    " (dropped on the source) refused by the target: ", s.message(),
                    "; the collection stays there: drop it on the target by hand"));
  return false;
}

Status Pipeline::Impl::DropUnmapped(const MergedMessage& m) {
  const auto& h = m.msg.header;
  const int64_t id = h.collection_id;
  if (h.timestamp <= checkpoints_.AppliedTs(id)) return OkStatus();  // done before
  ASSIGN_OR_RETURN(auto req, Decode<msgpb::DropCollectionRequest>(m.msg, "DropCollection"));
  std::string db = req.db_name();
  const std::string& name = req.collectionname();
  if (db.empty()) {  // 2.3.5 names no database here: the catalog's record of it may
    ASSIGN_OR_RETURN(auto known, deps_.catalog->GetCollection(id));
    db = known ? known->db_name : "";
  }
  if (db.empty() && !name.empty()) {
    // Nor does the catalog any more: the copy is in the target database that holds a
    // collection of that name which the task selects while the source has none of that name
    // there (without name_mapping, where target and source names are the same).
    ASSIGN_OR_RETURN(auto dbs, target_->ListDatabases());
    ASSIGN_OR_RETURN(auto live, deps_.catalog->ListCollections());
    for (const auto& d : dbs) {
      const task::FullName to = map_->TargetName(d, name);
      if (!map_->selection().Selected(d, name) || to.db != d || to.collection != name) continue;
      bool alive = false;
      for (const auto& c : live) alive = alive || (c.db_name == d && c.name == name);
      if (alive || !target_->DescribeCollection(d, name).ok()) continue;
      db = d;
      break;
    }
  }
  if (db.empty()) db = "default";
  auto forget = [&] {
    loop_.drop_pending.erase(id);
    ddl_->Discard(id, "its collection was dropped on the source");
    sync_.Forget(id);
    checkpoints_.DropRow(id);
    sources_.ignored->Ignore(id);
    round_.changed = true;
  };
  bool taken = false;  // a newer source collection of that name maps to the target one now
  for (const auto& [_, other] : map_->collections())
    taken = taken || (other.source.db_name == db && other.source.name == name);
  if (name.empty() || !map_->selection().Selected(db, name) || taken) {
    if (taken) {
      Skip("drop_of_replaced_collection",
           absl::StrCat("DropCollection of ", db, ".", name, " (id ", id,
                        ", dropped on the source while the task was stopped): a newer collection "
                        "of that name maps to the target one, which stays"));
    }
    forget();
    return OkStatus();
  }
  const task::FullName to = map_->TargetName(db, name);
  auto info = target_->DescribeCollection(to.db, to.collection);
  if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
    forget();  // not on the target (any more)
    return OkStatus();
  }
  RETURN_IF_ERROR(info.status());
  RETURN_IF_ERROR(FlushData());
  FieldOverrides ov;
  ov.varints[kDropCollectionCollectionId] = info->id;
  ov.strings[kDropCollectionDbName] = to.db;
  ov.strings[kDropCollectionName] = to.collection;
  if (auto bytes = RewriteFields(m.msg.payload, ov); bytes.ok()) {
    std::set<std::string> targets(info->pchannels.begin(), info->pchannels.end());
    RETURN_IF_ERROR(writer_->SendToEach(targets, *bytes, m.msg, &round_));
  }
  ASSIGN_OR_RETURN(bool dropped, DropOnTarget(to.db, to.collection, h.timestamp));
  if (dropped) {
    spdlog::info(
        "task {}: dropped collection {} on the target (dropped on the source while the "
        "task was stopped)",
        opts_.task_id, to.Text());
  }
  forget();
  return OkStatus();
}

Status Pipeline::Impl::ProcessDropPartition(const MergedMessage& m) {
  const auto& h = m.msg.header;
  MappedCollection* c = map_->Find(h.collection_id);
  if (c == nullptr || quarantine_.Has(h.collection_id)) return OkStatus();
  if (h.timestamp <= checkpoints_.AppliedTs(h.collection_id)) return OkStatus();
  ASSIGN_OR_RETURN(auto req, Decode<msgpb::DropPartitionRequest>(m.msg, "DropPartition"));
  auto tp = c->target_partitions.find(req.partition_name());
  if (tp == c->target_partitions.end()) return OkStatus();  // not on the target: nothing to drop
  RETURN_IF_ERROR(FlushData());
  FieldOverrides ov;
  ov.varints[kDropPartitionCollectionId] = c->target.id;
  ov.varints[kDropPartitionPartitionId] = tp->second;
  ov.strings[kDropPartitionDbName] = c->target.db_name;
  ov.strings[kDropPartitionCollectionName] = c->target.name;
  if (auto bytes = RewriteFields(m.msg.payload, ov); bytes.ok()) {
    std::set<std::string> targets;
    for (const auto& [_, r] : c->routes) targets.insert(r.target_pchannel);
    RETURN_IF_ERROR(writer_->SendToEach(targets, *bytes, m.msg, &round_));
  }
  Status dropped =
      target_->DropPartition(c->target.db_name, c->target.name, req.partition_name(), h.timestamp);
  if (!dropped.ok() && absl::StrContains(dropped.message(), "partition is loaded")) {
    // The source released the partition before dropping it, but a 2.3.5 source writes no
    // record of a partition release; the target, loaded as a whole collection, still has it
    // loaded: release it there too, then drop it.
    mpb::ReleasePartitionsRequest rel;
    rel.mutable_base()->set_msg_type(cpb::ReleasePartitions);
    rel.set_db_name(c->target.db_name);
    rel.set_collection_name(c->target.name);
    rel.add_partition_names(req.partition_name());
    RETURN_IF_ERROR(target_->ReleasePartitions(c->target.db_name, rel, h.timestamp));
    spdlog::info(
        "task {}: released partition {} of {}.{} on the target before its drop (the "
        "source released it; a 2.3.5 source records no partition release)",
        opts_.task_id, req.partition_name(), c->target.db_name, c->target.name);
    dropped = target_->DropPartition(c->target.db_name, c->target.name, req.partition_name(),
                                     h.timestamp);
  }
  if (!dropped.ok() && !IsRetryable(dropped) && !IsAuthError(dropped)) {
    // Refused for this collection only: it waits, set aside, and the others go on.
    SetAside(c->source.id, FullName(c->source), dropped);
    return OkStatus();
  }
  RETURN_IF_ERROR(dropped);
  map_->RemovePartition(*c, req.partition_name());
  round_.changed = true;
  return OkStatus();
}

Result<MappedCollection*> Pipeline::Impl::ForRequest(const std::string& db, const std::string& name,
                                                     std::string* why) {
  why->clear();
  if (MappedCollection* c = map_->FindByName(db, name)) return c;
  if (!map_->selection().Selected(db, name)) return nullptr;
  // The view covers the request's ts: a collection it names was created before it.
  ASSIGN_OR_RETURN(auto all, deps_.catalog->ListCollections());
  const CollectionMeta* newest = nullptr;
  for (const auto& meta : all)
    if (meta.db_name == db && meta.name == name &&
        (newest == nullptr || meta.create_ts > newest->create_ts))
      newest = &meta;
  if (newest == nullptr) {
    *why = absl::StrCat("collection ", db, ".", name,
                        " is not in the source catalog any more (dropped on the source)");
    return nullptr;
  }
  ASSIGN_OR_RETURN(MappedCollection * c, Map(*newest));
  RETURN_IF_ERROR(SyncChannels());
  return c;
}

Status Pipeline::Impl::QueueCollectionRequest(const MergedMessage& m, const std::string& db,
                                              const std::string& collection) {
  // The data before the request reaches the target before the request can run.
  RETURN_IF_ERROR(FlushData());
  std::string why;
  ASSIGN_OR_RETURN(MappedCollection * c, ForRequest(db, collection, &why));
  DdlRequest r;
  r.type = m.msg.header.type;
  r.payload = std::string(m.msg.payload.data(), m.msg.payload.size());
  r.ts = m.msg.header.timestamp;
  if (c != nullptr) {
    r.collection_id = c->source.id;
    r.db = c->target.db_name;
    r.collection = c->target.name;
    switch (r.type) {
      case cpb::LoadCollection:
      case cpb::ReleaseCollection:
      case cpb::LoadPartitions:
      case cpb::ReleasePartitions:
        // The source's load state may have moved on before the next read of it (a load then
        // the release of its last partition, which the channel lacks): that read reconciles.
        loads_.Touch(c->source.id);
        break;
      default:
        break;
    }
    ddl_->Add(std::move(r));
    return OkStatus();
  }
  for (const auto& q : quarantine_.View()) {
    if (q.name != absl::StrCat(db, ".", collection)) continue;
    const task::FullName to = map_->TargetName(db, collection);
    r.collection_id = q.id;  // waits until the collection reaches the target
    r.db = to.db;
    r.collection = to.collection;
    ddl_->Add(std::move(r));
    return OkStatus();
  }
  if (!why.empty()) {
    Skip("request_for_dropped_collection",
         absl::StrCat(source::MsgTypeName(r.type), " at ", source::DescribePosition(m.msg.position),
                      ": ", why));
  }
  return OkStatus();
}

Status Pipeline::Impl::DropDatabase(const MergedMessage& m, const std::string& db) {
  const uint64_t ts = m.msg.header.timestamp;
  const std::string target_db = map_->TargetDatabase(db);
  Status s = target_->DropDatabase(target_db, ts);
  if (s.ok() || !absl::StrContains(s.message(), "not empty")) return s;
  // The source dropped it empty, so what the target still holds there is stale: a collection
  // of this task whose drop did not reach the target. Drop those this task knows (mapped, set
  // aside, or with a checkpoint row) and selects; anything else there is not this task's.
  std::set<std::string> names;
  for (const auto& [_, c] : map_->collections())
    if (c.source.db_name == db) names.insert(c.source.name);
  for (const auto& q : quarantine_.View())
    if (absl::StartsWith(q.name, db + ".")) names.insert(q.name.substr(db.size() + 1));
  for (const auto& name : checkpoints_.RowNames()) names.insert(name);
  for (const auto& [_, name] : loop_.drop_pending)  // dropped before this process mapped them
    if (!name.empty()) names.insert(name);
  for (const auto& name : names) {
    if (!map_->selection().Selected(db, name)) continue;
    const task::FullName to = map_->TargetName(db, name);
    if (to.db != target_db) continue;  // mapped to another database: not in the way
    auto info = target_->DescribeCollection(to.db, to.collection);
    if (!info.ok()) continue;  // not there
    RETURN_IF_ERROR(target_->DropCollection(to.db, to.collection, ts));
    spdlog::warn(
        "task {}: dropped stale collection {} on the target before dropping its "
        "database (the source had dropped it)",
        opts_.task_id, to.Text());
  }
  s = target_->DropDatabase(target_db, ts);
  if (s.ok() || !absl::StrContains(s.message(), "not empty")) return s;
  Skip(
      "database_not_empty_on_target",
      absl::StrCat("DropDatabase ", db, target_db == db ? "" : " (" + target_db + " on the target)",
                   " at ", source::DescribePosition(m.msg.position),
                   ": the target's database still holds collections this task did not "
                   "create (",
                   s.message(),
                   "); drop them on the target and the database by "
                   "hand"));
  return OkStatus();
}

Status Pipeline::Impl::ProcessRequest(const MergedMessage& m) {
  const uint64_t ts = m.msg.header.timestamp;
  const int64_t followed = m.msg.position.channel_name().empty() ? m.msg.header.collection_id : 0;
  if (followed != 0 && map_->Find(followed) == nullptr && !quarantine_.Has(followed)) {
    loads_.Applied(followed, ts);  // a load followed from etcd of a collection dropped since: moot
    return OkStatus();
  }
  switch (m.msg.header.type) {
    case kReconcileLoad: {  // from the source's load state (load_follow.cc)
      // By id: the names it was queued with may have changed since (a rename).
      if (const MappedCollection* c = map_->Find(followed)) {
        RETURN_IF_ERROR(QueueCollectionRequest(m, c->source.db_name, c->source.name));
        break;
      }
      ASSIGN_OR_RETURN(auto want, DecodeWantedLoad(m.msg.payload));
      RETURN_IF_ERROR(QueueCollectionRequest(m, want.db, want.collection));
      break;
    }
    case cpb::CreateDatabase: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::CreateDatabaseRequest>(m.msg, "CreateDatabase"));
      if (map_->selection().DatabaseSelected(req.db_name())) {
        RETURN_IF_ERROR(FlushData());
        RETURN_IF_ERROR(target_->CreateDatabase(map_->TargetDatabase(req.db_name()), ts));
      }
      break;
    }
    case cpb::DropDatabase: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::DropDatabaseRequest>(m.msg, "DropDatabase"));
      if (map_->selection().DatabaseSelected(req.db_name())) {
        RETURN_IF_ERROR(FlushData());
        RETURN_IF_ERROR(DropDatabase(m, req.db_name()));
        map_->ForgetDatabase(map_->TargetDatabase(req.db_name()));
      }
      break;
    }
    case cpb::Flush: {
      ASSIGN_OR_RETURN(auto req, Decode<mpb::FlushRequest>(m.msg, "Flush"));
      for (const auto& name : req.collection_names())
        RETURN_IF_ERROR(QueueCollectionRequest(m, DbOrDefault(req.db_name()), name));
      break;
    }
#define CDC_COLLECTION_REQUEST(Type, Req)                                                          \
  case cpb::Type: {                                                                                \
    ASSIGN_OR_RETURN(auto req, Decode<mpb::Req>(m.msg, #Type));                                    \
    RETURN_IF_ERROR(QueueCollectionRequest(m, DbOrDefault(req.db_name()), req.collection_name())); \
    break;                                                                                         \
  }
      CDC_COLLECTION_REQUEST(LoadCollection, LoadCollectionRequest)
      CDC_COLLECTION_REQUEST(ReleaseCollection, ReleaseCollectionRequest)
      CDC_COLLECTION_REQUEST(LoadPartitions, LoadPartitionsRequest)
      CDC_COLLECTION_REQUEST(ReleasePartitions, ReleasePartitionsRequest)
      CDC_COLLECTION_REQUEST(CreateIndex, CreateIndexRequest)
      CDC_COLLECTION_REQUEST(DropIndex, DropIndexRequest)
#undef CDC_COLLECTION_REQUEST
    default:
      // Users, roles, privileges, aliases, ...: not replicated (docs/replication.md).
      Skip("request_not_replicated",
           absl::StrCat(source::MsgTypeName(m.msg.header.type), " at ",
                        source::DescribePosition(m.msg.position),
                        " is not replicated by this version (docs/replication.md)"));
      break;
  }
  if (followed != 0) {  // a load state followed from etcd: no replicate-channel position
    loads_.Applied(followed, ts);
    round_.changed = true;
    return OkStatus();
  }
  source::MsgPosition pos = m.msg.position;
  pos.set_timestamp(ts);
  checkpoints_.set_replicate(pos);
  round_.changed = true;  // checkpoint the replicate position (and what waits) with this round
  return OkStatus();
}

}  // namespace cdc::replicate

// Pipeline::Impl, the round: its data messages, the checkpoint after them and the ticks.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "milvus/common.pb.h"
#include "replicate/dml_log.h"
#include "replicate/pipeline_impl.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

namespace cpb = ::milvus::proto::common;

Status Pipeline::Impl::RunRound() {
  for (; round_.next < round_.items.size(); ++round_.next)
    RETURN_IF_ERROR(Process(round_.items[round_.next]));
  RETURN_IF_ERROR(FlushData());
  return FinishRound();
}

Status Pipeline::Impl::FinishRound() {
  // The round's data is with the target: a create the catalog shows now goes before the
  // checkpoint and the ticks (which take a call per target channel) instead of after them.
  bool created = false;
  RETURN_IF_ERROR(CreateEarly(&created));
  if (!round_.checkpointed) {
    const bool due = round_.changed || std::chrono::steady_clock::now() - loop_.last_checkpoint >=
                                           opts_.idle_checkpoint;
    if (due && !round_.data_channels.empty() && deps_.after_ack) deps_.after_ack(round_.w);
    if (due) RETURN_IF_ERROR(WriteCheckpoint(round_.w));
    round_.checkpointed = true;
  }
  if (round_.has_dml_channels) {
    RETURN_IF_ERROR(
        writer_->SendTicks(round_.w, map_->TargetPChannels(), false, round_, opts_.idle_tick));
  }
  for (int64_t id : sync_.Advance(round_.w, [this](int64_t id) { return !quarantine_.Has(id); })) {
    const CopyState* s = sync_.Find(id);
    const MappedCollection* c = map_->Find(id);
    spdlog::info("task {}: initial sync of {} done: its history replayed ({} rows)", opts_.task_id,
                 c ? absl::StrCat(c->source.db_name, ".", c->source.name) : absl::StrCat(id),
                 s ? s->rows_copied : 0);
  }
  RETURN_IF_ERROR(SyncChannels());
  RetireChannels();
  loop_.applied = std::max(loop_.applied, round_.w);
  applied_out_->store(std::max(applied_out_->load(), loop_.applied));
  for (const auto& [ch, pos] : sources_.merger.Drained()) sources_.applied[ch] = pos;
  round_.Finish();
  return OkStatus();
}

Status Pipeline::Impl::Process(const RoundItem& item) {
  if (item.replicate) return ProcessRequest(item.m);
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

// Sends the batches; collections the target refused for good are set aside.
Status Pipeline::Impl::FlushData() {
  std::map<int64_t, Status> refused;
  RETURN_IF_ERROR(writer_->FlushAll(&round_, &refused));
  for (const auto& [id, s] : refused) {
    const MappedCollection* c = map_->Find(id);
    SetAside(id, c ? absl::StrCat(c->source.db_name, ".", c->source.name) : absl::StrCat(id), s);
  }
  return OkStatus();
}

Status Pipeline::Impl::ProcessDml(const MergedMessage& m) {
  const auto& h = m.msg.header;
  MappedCollection* c = map_->Find(h.collection_id);
  if (c == nullptr) {
    if (sources_.ignored->Ignored(h.collection_id) || quarantine_.Has(h.collection_id))
      return OkStatus();  // not replicated / set aside (read again when it resumes)
    ASSIGN_OR_RETURN(auto meta, deps_.catalog->GetCollection(h.collection_id));
    const std::string where =
        absl::StrCat(source::MsgTypeName(h.type), " at ", source::DescribePosition(m.msg.position));
    if ((!meta || meta->dropped) &&
        (checkpoints_.HasRow(h.collection_id) || loop_.drop_pending.count(h.collection_id))) {
      // Replicated before a restart and dropped on the source since: its drop, further on in
      // the stream, removes it from the target (DropUnmapped); what comes before goes with it.
      Skip("collection_dropped_while_stopped",
           absl::StrCat(where, ": collection id ", h.collection_id,
                        " was dropped on the source while the task was stopped; its drop "
                        "follows"));
      return OkStatus();
    }
    if (!meta || meta->dropped) {
      // The view covers this message's ts: the collection lived and was dropped between two
      // looks at the catalog, before the task could map it; its data went with it.
      sources_.ignored->Ignore(h.collection_id);
      if (!meta || map_->selection().Selected(meta->db_name, meta->name)) {
        Skip("collection_dropped_before_seen",
             absl::StrCat(where, ": collection id ", h.collection_id,
                          meta ? absl::StrCat(" (", meta->db_name, ".", meta->name, ")") : "",
                          " was dropped on the source before the task saw it; its changes "
                          "went with it"));
      }
      return OkStatus();
    }
    ASSIGN_OR_RETURN(c, Map(*meta));
    if (c == nullptr) return OkStatus();  // not selected, or set aside
    RETURN_IF_ERROR(SyncChannels());
  }
  if (quarantine_.Has(c->source.id)) return OkStatus();
  if (h.timestamp <= checkpoints_.AppliedTs(c->source.id)) return OkStatus();  // has it already
  LogDml(opts_.task_id, m.msg, c->source.db_name, c->source.name);
  if (h.type == cpb::Insert && sync_.Copying(c->source.id)) {
    if (auto n = ReadVarintField(m.msg.payload, kInsertNumRows); n.ok())
      sync_.Replayed(c->source.id, *n, h.timestamp);
  }
  auto route = c->routes.find(h.shard_name);
  if (route == c->routes.end()) {
    Skip("unknown_shard",
         absl::StrCat(source::MsgTypeName(h.type), " at ", source::DescribePosition(m.msg.position),
                      ": shard ", h.shard_name, " is not one of ", c->source.db_name, ".",
                      c->source.name));
    return OkStatus();
  }
  FieldOverrides ov;
  ov.varints[kDmlCollectionId] = c->target.id;
  ov.strings[kDmlShardName] = route->second.target_vchannel;
  if (c->target.db_name != c->source.db_name || c->target.name != c->source.name) {
    ov.strings[kDmlDbName] = c->target.db_name;  // name_mapping: the target's names
    ov.strings[kDmlCollectionName] = c->target.name;
  }
  if (h.partition_id > 0) {
    auto pid = map_->TargetPartition(*c, h.partition_id);
    if (!pid.ok() && pid.status().code() == StatusCode::kNotFound) {
      ASSIGN_OR_RETURN(auto part, deps_.catalog->GetPartition(c->source.id, h.partition_id));
      if (!part || part->dropped) {
        Skip("partition_dropped_before_seen",
             absl::StrCat(source::MsgTypeName(h.type), " at ",
                          source::DescribePosition(m.msg.position), ": partition id ",
                          h.partition_id, part ? " (" + part->name + ")" : "", " of ",
                          c->source.db_name, ".", c->source.name,
                          " was dropped on the source before the task saw it"));
        return OkStatus();
      }
    }
    if (!pid.ok() && !IsRetryable(pid.status())) {
      SetAside(c->source.id, absl::StrCat(c->source.db_name, ".", c->source.name), pid.status());
      return OkStatus();
    }
    RETURN_IF_ERROR(pid.status());
    ov.varints[kDmlPartitionId] = *pid;
  }
  auto bytes = RewriteFields(m.msg.payload, ov);
  if (!bytes.ok()) {
    Skip("undecodable_message",
         absl::StrCat(source::MsgTypeName(h.type), " at ", source::DescribePosition(m.msg.position),
                      ": ", bytes.status().message()));
    return OkStatus();
  }
  std::map<int64_t, Status> refused;
  // A coalesced Insert holds rows from m.first_ts on: any of them in the window makes it one.
  const uint64_t first_ts = m.count > 1 ? m.first_ts : h.timestamp;
  if (h.type == cpb::Insert && sync_.UpsertsAt(c->source.id, first_ts)) {
    // Initial sync copied this collection's rows by query: the Insert replaces any copy of
    // its keys (replicate/copy_step.cc).
    ASSIGN_OR_RETURN(auto del, UpsertDelete(*c, m.msg.payload, ov));
    RETURN_IF_ERROR(writer_->Add(route->second.target_pchannel, std::move(del), m.msg, c->source.id,
                                 &round_, &refused));
  }
  RETURN_IF_ERROR(writer_->Add(route->second.target_pchannel, std::move(*bytes), m.msg,
                               c->source.id, &round_, &refused));
  for (const auto& [id, s] : refused) {
    const MappedCollection* r = map_->Find(id);
    SetAside(id, r ? absl::StrCat(r->source.db_name, ".", r->source.name) : absl::StrCat(id), s);
  }
  return OkStatus();
}

}  // namespace cdc::replicate

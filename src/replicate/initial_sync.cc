#include "replicate/initial_sync.h"

#include "common/hybrid_time.h"
#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
#include "milvus/schema.pb.h"
#include "nlohmann/json.hpp"

namespace cdc::replicate {

namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;

std::string EncodeCopyState(const CopyState& s) {
  nlohmann::json j = {{"way", s.way == CopyState::Way::kReplay ? "replay" : "copy"},
                      {"start_ts", s.start_ts},
                      {"done", s.done},
                      {"rows_copied", s.rows_copied},
                      {"rows_estimated", s.rows_estimated},
                      {"started_ms", s.started_ms}};
  if (!s.last_pk.empty()) j["last_pk"] = nlohmann::json::parse(s.last_pk, nullptr, false);
  if (s.way == CopyState::Way::kCopy) {
    j["partition"] = s.partition;
    j["rows_done"] = s.rows_done;
    j["upsert_until"] = s.upsert_until;
    j["copy_ts_base"] = s.copy_ts_base;
    j["emissions"] = s.emissions;
  }
  return j.dump();
}

Result<CopyState> DecodeCopyState(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgumentError("initial sync state: not a JSON object");
  CopyState s;
  s.way = j.value("way", std::string("replay")) == "copy" ? CopyState::Way::kCopy
                                                          : CopyState::Way::kReplay;
  s.start_ts = j.value("start_ts", uint64_t{0});
  s.done = j.value("done", false);
  s.rows_copied = j.value("rows_copied", int64_t{0});
  s.rows_estimated = j.value("rows_estimated", int64_t{0});
  s.started_ms = j.value("started_ms", int64_t{0});
  if (j.contains("last_pk") && !j["last_pk"].is_null()) s.last_pk = j["last_pk"].dump();
  s.partition = j.value("partition", std::string());
  s.rows_done = j.value("rows_done", false);
  s.upsert_until = j.value("upsert_until", uint64_t{0});
  s.copy_ts_base = j.value("copy_ts_base", uint64_t{0});
  s.emissions = j.value("emissions", int64_t{0});
  return s;
}

Status SyncTracker::Load(const std::map<int64_t, std::string>& states) {
  states_.clear();
  for (const auto& [id, json] : states) {
    auto s = DecodeCopyState(json);
    if (!s.ok()) return Annotate(s.status(), "collection " + std::to_string(id));
    states_[id] = *s;
  }
  return OkStatus();
}

const CopyState* SyncTracker::Find(int64_t id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second;
}

CopyState* SyncTracker::Mutable(int64_t id) {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second;
}

bool SyncTracker::UpsertsAt(int64_t id, uint64_t ts) const {
  const CopyState* s = Find(id);
  return s != nullptr && s->way == CopyState::Way::kCopy && s->rows_done && ts <= s->upsert_until;
}

bool SyncTracker::Copying(int64_t id) const {
  const CopyState* s = Find(id);
  return s != nullptr && !s->done;
}

void SyncTracker::Replayed(int64_t id, int64_t rows, uint64_t ts) {
  auto it = states_.find(id);
  if (it == states_.end() || it->second.done || it->second.way != CopyState::Way::kReplay ||
      ts > it->second.start_ts)
    return;
  it->second.rows_copied += rows;
}

std::vector<int64_t> SyncTracker::Advance(uint64_t w, const std::function<bool(int64_t)>& healthy) {
  std::vector<int64_t> changed;
  for (auto& [id, s] : states_) {
    if (s.done || w < s.start_ts || !healthy(id)) continue;
    if (s.way == CopyState::Way::kCopy && (!s.rows_done || w < s.upsert_until)) continue;
    s.done = true;
    changed.push_back(id);
  }
  return changed;
}

std::string SyncTracker::Encode(int64_t id) const {
  const CopyState* s = Find(id);
  return s ? EncodeCopyState(*s) : std::string();
}

std::vector<int64_t> SyncTracker::ids() const {
  std::vector<int64_t> out;
  for (const auto& [id, _] : states_) out.push_back(id);
  return out;
}

std::vector<SyncProgress> SyncTracker::View() const {
  std::vector<SyncProgress> out;
  const int64_t now = NowMs();
  for (const auto& [id, s] : states_) {
    SyncProgress p;
    p.id = id;
    p.phase = s.done ? "done" : s.way == CopyState::Way::kReplay ? "replaying" : "copying";
    p.rows_copied = s.rows_copied;
    p.rows_estimated = s.rows_estimated;
    if (s.done) {
      p.eta_s = 0;
    } else if (s.rows_copied > 0 && s.rows_estimated > s.rows_copied && now > s.started_ms) {
      const double per_ms = static_cast<double>(s.rows_copied) / (now - s.started_ms);
      p.eta_s = static_cast<int64_t>((s.rows_estimated - s.rows_copied) / per_ms / 1000);
    }
    out.push_back(p);
  }
  return out;
}

std::vector<DdlRequest> SeedRequests(const CollectionMeta& meta,
                                     const std::vector<source::IndexMeta>& indexes,
                                     const source::LoadMeta& load, uint64_t ts,
                                     const task::FullName& to) {
  ::milvus::proto::schema::CollectionSchema schema;
  (void)schema.ParseFromString(meta.schema);
  auto field_name = [&](int64_t id) -> std::string {
    for (const auto& f : schema.fields())
      if (f.fieldid() == id) return f.name();
    return "";
  };
  std::vector<DdlRequest> out;
  auto add = [&](int type, const google::protobuf::Message& req) {
    DdlRequest r;
    r.collection_id = meta.id;
    r.db = to.db.empty() ? meta.db_name : to.db;
    r.collection = to.collection.empty() ? meta.name : to.collection;
    r.type = type;
    r.payload = req.SerializeAsString();
    r.ts = ts;
    out.push_back(std::move(r));
  };
  for (const auto& idx : indexes) {
    const std::string field = field_name(idx.field_id);
    if (field.empty()) continue;  // a field the schema no longer has
    mpb::CreateIndexRequest req;
    req.mutable_base()->set_msg_type(cpb::CreateIndex);
    req.mutable_base()->set_timestamp(ts);
    req.set_db_name(meta.db_name);
    req.set_collection_name(meta.name);
    req.set_field_name(field);
    req.set_index_name(idx.name);
    for (const auto& [k, v] : idx.params) {
      auto* kv = req.add_extra_params();
      kv->set_key(k);
      kv->set_value(v);
    }
    add(cpb::CreateIndex, req);
  }
  if (!load.loaded) return out;
  if (!load.by_partition) {
    mpb::LoadCollectionRequest req;
    req.mutable_base()->set_msg_type(cpb::LoadCollection);
    req.mutable_base()->set_timestamp(ts);
    req.set_db_name(meta.db_name);
    req.set_collection_name(meta.name);
    req.set_replica_number(load.replicas);
    add(cpb::LoadCollection, req);
    return out;
  }
  mpb::LoadPartitionsRequest req;
  req.mutable_base()->set_msg_type(cpb::LoadPartitions);
  req.mutable_base()->set_timestamp(ts);
  req.set_db_name(meta.db_name);
  req.set_collection_name(meta.name);
  req.set_replica_number(load.replicas);
  for (int64_t pid : load.partitions)
    for (const auto& p : meta.partitions)
      if (p.id == pid) req.add_partition_names(p.name);
  if (req.partition_names_size() > 0) add(cpb::LoadPartitions, req);
  return out;
}

}  // namespace cdc::replicate
